"""Channels, the people who write to them, their conversations and every message."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.backends.ddl_references import Statement
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Patient


def new_channel_key() -> str:
    return secrets.token_urlsafe(16)


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["clinic", "status", "-last_message_at"],
                         name="conversation_clinic_status"),
            # "All open", "mine" and "unassigned" read the few active rows in list order.
            models.Index(fields=["clinic", "-last_message_at", "-id"],
                         name="conversation_active_recent",
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
