"""Channels, the people who write to them, their conversations and every message."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.backends.ddl_references import Statement
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Patient


def new_channel_key() -> str:
    return secrets.token_urlsafe(16)


DEFAULT_GREETING = "Здравствуйте! Напишите нам — ответим здесь же."


def default_widget() -> dict[str, Any]:
    """The website chat widget's settings (see inbox.services.widget for their meaning)."""
    return {"greeting": DEFAULT_GREETING, "form_enabled": False, "form_fields": [],
            "form_required": [], "consent_text": "", "color": "#1f6feb", "position": "right",
            "invites": []}


def new_webhook_secret() -> str:
    # Telegram allows 1-256 characters of A-Z a-z 0-9 _ -, which token_urlsafe produces.
    return secrets.token_urlsafe(32)


class ChannelKind(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    WHATSAPP = "whatsapp", "WhatsApp"
    WEBCHAT = "webchat", _("Website chat")


class Channel(models.Model):
    """A clinic's Telegram bot, WhatsApp Business number or website chat."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices)
    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("public key"), max_length=64, unique=True, default=new_channel_key,
                           help_text=_("Part of the webhook URL; not a secret."))
    is_active = models.BooleanField(_("active"), default=True)
    # Telegram
    bot_token = models.CharField(_("bot token"), max_length=200, blank=True)
    webhook_secret = models.CharField(_("webhook secret"), max_length=256, blank=True,
                                      default=new_webhook_secret)
    # WhatsApp Cloud API
    phone_number_id = models.CharField(_("phone number id"), max_length=64, blank=True)
    access_token = models.CharField(_("access token"), max_length=512, blank=True)
    app_secret = models.CharField(_("app secret"), max_length=200, blank=True)
    verify_token = models.CharField(_("verify token"), max_length=200, blank=True)
    # Approved templates for WhatsApp outside the 24-hour window:
    # [{"name": "appointment_reminder", "language": "ru", "params": ["patient_first_name"]}]
    whatsapp_templates = models.JSONField(_("WhatsApp templates"), default=list, blank=True)
    # Website chat
    allowed_origins = models.JSONField(_("allowed website origins"), default=list, blank=True)
    # {"greeting", "form_enabled", "form_fields", "form_required", "consent_text", "color",
    #  "position", "invites": [{"pattern", "idle_seconds", "text"}]}; see default_widget().
    widget = models.JSONField(_("widget settings"), default=default_widget, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class ContactIdentity(models.Model):
    """Someone who wrote to a channel, as the provider knows them, and the patient it is."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="contacts")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="contacts")
    # Telegram user id, WhatsApp wa_id (or "bsuid:<id>" when no phone is given), visitor id.
    external_id = models.CharField(max_length=128)
    display_name = models.CharField(_("name"), max_length=200, blank=True)
    username = models.CharField(_("username"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)  # E.164
    bsuid = models.CharField(_("business-scoped user id"), max_length=128, blank=True)
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="contacts")
    suggested_patients = models.ManyToManyField(Patient, blank=True, related_name="+")
    # Consent to personal data processing given in the website chat's form, with the text the
    # visitor saw; copied to the patient's consent ledger once the contact is linked.
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_text = models.TextField(_("consent text"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="contact_unique_id")
        ]
        indexes = [models.Index(fields=["clinic", "phone"], name="contact_clinic_phone")]

    def __str__(self) -> str:
        return self.display_name or self.phone or self.external_id


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")


class Conversation(models.Model):
    """The one thread with a contact on a channel; a new message reopens it when resolved."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    contact = models.OneToOneField(ContactIdentity, on_delete=models.CASCADE,
                                   related_name="conversation")
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="conversations")
    status = models.CharField(_("status"), max_length=20, choices=ConversationStatus.choices,
                              default=ConversationStatus.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_conversations")
    last_message_at = models.DateTimeField(null=True, blank=True)
    # The patient's last message: WhatsApp's 24-hour window runs from it.
    last_patient_message_at = models.DateTimeField(null=True, blank=True)
    # Kept on the row so the list never reads the messages table.
    last_message_preview = models.CharField(max_length=200, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    # Kept from the open ResponseTimer, so the list orders by urgency without a join: the
    # patient has waited since `waiting_since`; the reply is due at `reply_due_at`.
    waiting_since = models.DateTimeField(null=True, blank=True)
    reply_due_at = models.DateTimeField(null=True, blank=True)
    waiting_rule = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            # The list of active conversations in urgency order: overdue and soonest due first,
            # then the most recent. Postgres sorts NULLs (not waiting) last in ascending order,
            # as the list's ORDER BY asks; SQLite allows no NULLS LAST in an index.
            models.Index(F("clinic"), F("reply_due_at").asc(),
                         F("last_message_at").desc(), F("id").desc(),
                         name="conversation_urgency",
                         condition=~Q(status=ConversationStatus.RESOLVED)),
            models.Index(fields=["clinic", "status", "-last_message_at"],
                         name="conversation_clinic_status"),
            # The filter counters read the few active rows from here alone (on Postgres the
            # included columns make every counter an index-only scan).
            models.Index(fields=["clinic", "-last_message_at", "-id"],
                         include=["assignee", "reply_due_at"],
                         name="conversation_active_counts",
                         condition=~Q(status=ConversationStatus.RESOLVED)),
        ]

    def __str__(self) -> str:
        return f"{self.channel} — {self.contact}"


class PostgresGinIndex(GinIndex):
    """A GIN index on Postgres; on any other database an empty statement, so no index.

    Like ``scheduling.constraints.PostgresExclusionConstraint``: SQLite rebuilds a table for
    many schema changes and re-creates every index of the model, so this one must render as
    nothing there on every rebuild, not only in its own migration. Django executes whatever
    ``create_sql`` returns (``None`` would run as the text "None"), hence an empty statement.
    """

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return Statement("")
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model: Any, schema_editor: Any, **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return Statement("")
        return super().remove_sql(model, schema_editor, **kwargs)


# The message search's document: inbox.selectors matches exactly this expression, so that
# Postgres answers `document @@ plainto_tsquery('russian', …)` from the index.
MESSAGE_SEARCH_DOCUMENT = SearchVector("body", config="russian")


class ConversationWords(models.Model):
    """Every word of a conversation's messages, as Postgres full-text lexemes (the message search
    document's, without positions): the inbox search tests a conversation with this one row
    instead of reading its messages.

    Kept by triggers on ``inbox_message`` on Postgres (``inbox.migrations.0009``): a new message
    adds its words, an edited, moved or deleted one has the set worked out again, so the set is
    exactly the words of the messages there are. A conversation without a row has not been
    worked out yet (a new message then works out all of it). Unused off Postgres.
    """

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE,
                                        primary_key=True, related_name="+")
    words = SearchVectorField()

    class Meta:
        indexes = [PostgresGinIndex(fields=["words"], name="conversation_words_search")]

    def __str__(self) -> str:
        return f"words of #{self.conversation_id}"


class Direction(models.TextChoices):
    IN = "in", _("From the patient")
    OUT = "out", _("From the clinic")


class MessageKind(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGE = "image", _("Image")
    DOCUMENT = "document", _("Document")
    AUDIO = "audio", _("Audio")
    CONTACT = "contact", _("Contact")
    BUTTON = "button", _("Button press")
    SYSTEM = "system", _("System")
    NOTE = "note", _("Internal note")
    PROMISE = "promise", _("Promise to check with the doctor")


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")  # inbound
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="messages")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=20, choices=MessageKind.choices, default=MessageKind.TEXT)
    body = models.TextField(blank=True)
    # [{"kind": "image", "provider_ref": "<file_id / media id>", "mime": ..., "size": ...,
    #   "name": ..., "file": "<storage path once fetched>"}]
    attachments = models.JSONField(default=list, blank=True)
    # Outbound extras: reply buttons [{"id": ..., "title": ...}] and a WhatsApp template
    # {"name": ..., "language": ..., "params": [...]}; inbound button presses keep their data here.
    payload = models.JSONField(default=dict, blank=True)
    # Unique per channel. Telegram: "<chat id>:<message id>" (message ids are per chat);
    # callback queries "cbq:<id>". WhatsApp: the wamid. Empty until an outbound message is sent.
    provider_message_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    provider_timestamp = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices)
    error_code = models.CharField(max_length=50, blank=True)
    error_text = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Follow-up work for an inbound event that must happen once (answering a button press).
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "provider_message_id"],
                                    condition=Q(provider_message_id__isnull=False),
                                    name="message_unique_provider_id"),
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_conversation_time"),
            models.Index(fields=["status", "next_attempt_at"], name="message_outbox",
                         condition=Q(status__in=["queued", "sending"])),
            PostgresGinIndex(MESSAGE_SEARCH_DOCUMENT, name="message_body_search"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} #{self.pk}"


class MessageRevision(models.Model):
    """An earlier text of an edited message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField(blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    replaced_at = models.DateTimeField()

    class Meta:
        ordering = ["replaced_at", "id"]

    def __str__(self) -> str:
        return f"revision of #{self.message_id} replaced at {self.replaced_at:%Y-%m-%d %H:%M}"


class EarlyStatus(models.Model):
    """A delivery status that arrived before our send was recorded; applied when it is."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    provider_message_id = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices)
    error_code = models.CharField(max_length=50, blank=True)
    error_text = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["channel", "provider_message_id"], name="early_status")]

    def __str__(self) -> str:
        return f"{self.provider_message_id}: {self.status}"


class QuickReply(models.Model):
    """A clinic's ready answer; {variables} are filled in for the patient and administrator."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="quick_replies")
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("quick reply")
        verbose_name_plural = _("quick replies")
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class TimerKind(models.TextChoices):
    FIRST_REPLY = "first_reply", _("First reply")
    REPLY = "reply", _("Reply")
    PROMISE = "promise", _("Promised answer")


OPEN_TIMER = Q(met_at__isnull=True, dismissed_at__isnull=True)


class ResponseTimer(models.Model):
    """One run of the clinic's response clock: started by a patient message (or by the promise
    to check with the doctor), met by a clinic reply, breached when due passes unmet.

    The rows are the source of every response-time figure: the today page and the quality
    checklist read them, so no two pages can disagree.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="timers")
    kind = models.CharField(_("rule"), max_length=20, choices=TimerKind.choices)
    trigger_message = models.ForeignKey("Message", null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    # An exact-time breach task was handed to the broker (only for due times near enough).
    eta_queued_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(_("answered"), null=True, blank=True)
    met_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    met_message = models.ForeignKey("Message", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    # The measured answer time, wall clock and working time (see inbox.services.timers).
    response_seconds = models.FloatField(null=True, blank=True)
    response_working_seconds = models.FloatField(null=True, blank=True)
    breached_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    assignee_at_breach = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")
    # Ended without a message: "no reply needed" (with a reason) or a resolved conversation.
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    dismiss_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("response timer")
        verbose_name_plural = _("response timers")
        constraints = [
            models.UniqueConstraint(fields=["conversation"], condition=OPEN_TIMER,
                                    name="timer_one_open_per_conversation"),
        ]
        indexes = [
            # The sweep reads only open, unbreached timers.
            models.Index(fields=["due_at"], name="timer_open_due",
                         condition=OPEN_TIMER & Q(breached_at__isnull=True)),
            models.Index(fields=["clinic", "started_at"], name="timer_clinic_started"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.conversation_id} due {self.due_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """An in-app notice for one staff member (the bell): an overdue reply, for now."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    conversation = models.ForeignKey(Conversation, null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="+")
    timer = models.ForeignKey(ResponseTimer, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="notifications")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["timer", "user"], name="notification_once_per_timer"),
        ]
        indexes = [
            models.Index(fields=["user", "clinic", "-created_at"], name="notification_unread",
                         condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.text


class DialogueOutcome(models.TextChoices):
    """How the administrator says a dialogue ended, asked for on resolve."""

    BOOKED = "booked", _("Booked a visit")
    NEXT_STEP = "next_step", _("Agreed on a next step")
    NOT_ABOUT_VISIT = "not_about_visit", _("Not about a visit")
    NO_REPLY_NEEDED = "no_reply_needed", _("No reply needed")


class WindowStatus(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")


class SatisfactionSkip(models.TextChoices):
    """Why the rating question was not sent after a resolve (the clinic asks for ratings)."""

    WHATSAPP_WINDOW = "whatsapp_window", _("WhatsApp's 24-hour window had closed")
    OPTED_OUT = "opted_out", _("The patient opted out of all messages")
    CHANNEL_INACTIVE = "channel_inactive", _("The channel is switched off")
    NEVER_WROTE = "never_wrote", _("The patient never wrote on this channel")
    REFUSED = "refused", _("The channel refused the message")


class DialogueWindow(models.Model):
    """One dialogue of a conversation, from its first message to a resolve, with how it ended.

    A conversation is one thread for ever; a dialogue is the part of it a resolve closes. The
    next one begins with the first message after this window's last. A manual reopen followed
    by a new resolve extends and re-resolves the same window (`resolve_count` counts the
    resolves), while a patient writing to a resolved conversation starts a new one. Quality
    scoring reads these rows (it is told of each resolve by `inbox.signals.dialogue_resolved`).
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="windows")
    # The first and last message of the dialogue (system lines aside); messages between them in
    # (created_at, id) order belong to it. Empty when the dialogue had no message at all.
    first_message = models.ForeignKey(Message, null=True, blank=True,
                                      on_delete=models.RESTRICT, related_name="+")
    last_message = models.ForeignKey(Message, null=True, blank=True,
                                     on_delete=models.RESTRICT, related_name="+")
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("last message"))
    status = models.CharField(_("status"), max_length=20, choices=WindowStatus.choices,
                              default=WindowStatus.RESOLVED)
    resolved_at = models.DateTimeField(_("resolved"))
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    resolve_count = models.PositiveIntegerField(default=1)
    # Who handled the dialogue: the assignee when it was resolved.
    administrator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(_("result"), max_length=20, choices=DialogueOutcome.choices)
    next_step = models.TextField(_("agreed next step"), blank=True)
    # The visit booked from this chat during the dialogue, found on resolve.
    appointment = models.ForeignKey("scheduling.Appointment", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    # A member of staff wrote to the patient in this dialogue (not a note, not an automatic
    # message): a "no reply needed" dialogue without one is not scored.
    clinic_replied = models.BooleanField(default=False)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    # Patient satisfaction (see inbox.services.satisfaction): the automatic question after the
    # resolve, asked at most once per dialogue, or why it was not; the patient's answer of 1-5
    # and the message that carried it.
    satisfaction_asked_at = models.DateTimeField(_("rating asked"), null=True, blank=True)
    satisfaction_skipped = models.CharField(_("rating not asked because"), max_length=20,
                                            choices=SatisfactionSkip.choices, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("patient's rating"), null=True,
                                                    blank=True)
    satisfaction_at = models.DateTimeField(_("rated"), null=True, blank=True)
    satisfaction_message = models.ForeignKey(Message, null=True, blank=True,
                                             on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("dialogue")
        verbose_name_plural = _("dialogues")
        ordering = ["conversation", "id"]
        constraints = [
            models.UniqueConstraint(fields=["conversation"],
                                    condition=Q(status=WindowStatus.REOPENED),
                                    name="window_one_reopened_per_conversation"),
            models.CheckConstraint(condition=Q(satisfaction__isnull=True)
                                   | Q(satisfaction__gte=1, satisfaction__lte=5),
                                   name="window_satisfaction_1_to_5"),
        ]
        indexes = [
            # The scoring backstop reads recently resolved windows.
            models.Index(fields=["status", "resolved_at"], name="window_status_resolved"),
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id} {self.started_at:%Y-%m-%d %H:%M}: {self.outcome}"
