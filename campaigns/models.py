"""Reminder and recall rules an owner configures, their revisions, and one row per message.

A dispatch is unique on (rule, patient, occurrence key): however often and however many planners
run, a patient gets one message per occurrence (an appointment's start and step, a recall's due
date and attempt, a birthday's year).
"""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.texts import unknown_variables
from clinic.models import Clinic, ConsentTopic, Patient


class RuleKind(models.TextChoices):
    REMINDER = "reminder", _("Appointment reminder")
    CONFIRMATION = "confirmation", _("Confirmation request")
    RECALL = "recall", _("Check-up recall")
    FOLLOW_UP = "follow_up", _("Follow-up after treatment")
    PLAN_ADHERENCE = "plan_adherence", _("Treatment plan reminder")
    BIRTHDAY = "birthday", _("Birthday greeting")
    EDUCATION = "education", _("Educational e-mail")


TOPIC_OF_KIND = {
    RuleKind.REMINDER: ConsentTopic.APPOINTMENT,
    RuleKind.CONFIRMATION: ConsentTopic.APPOINTMENT,
    RuleKind.RECALL: ConsentTopic.RECALL,
    RuleKind.FOLLOW_UP: ConsentTopic.FOLLOW_UP,
    RuleKind.PLAN_ADHERENCE: ConsentTopic.PLAN_ADHERENCE,
    RuleKind.BIRTHDAY: ConsentTopic.BIRTHDAY,
    RuleKind.EDUCATION: ConsentTopic.EDUCATION,
}
APPOINTMENT_KINDS = (RuleKind.REMINDER, RuleKind.CONFIRMATION)
"""Transactional: about a visit the patient booked. No caps, no unhappy/complaint exclusion."""


def default_channel_order() -> list[str]:
    """Messengers before SMS before e-mail."""
    return ["telegram", "whatsapp", "webchat", "sms", "email"]


class CampaignSettings(models.Model):
    """A clinic's rules for every automatic message: when they may go out and how often."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE,
                                  related_name="campaign_settings")
    send_from = models.TimeField(_("send from"), default=time(9, 0))
    send_until = models.TimeField(_("send until"), default=time(21, 0))
    daily_cap = models.PositiveSmallIntegerField(
        _("non-transactional messages per patient a day, at most"), default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)])
    weekly_cap = models.PositiveSmallIntegerField(
        _("non-transactional messages per patient a week, at most"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)])
    channel_order = models.JSONField(_("channels in order"), default=default_channel_order)

    class Meta:
        verbose_name = _("campaign settings")
        verbose_name_plural = _("campaign settings")

    def __str__(self) -> str:
        return f"{self.clinic}: {self.send_from:%H:%M}-{self.send_until:%H:%M}"


class Rule(models.Model):
    """An owner's rule. Its settings live here; every save that changes them adds a revision,
    and each dispatch names the revision it was sent under."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="campaign_rules")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=RuleKind.choices)
    enabled = models.BooleanField(_("on"), default=False)
    # Offsets from the anchor in minutes (negative: before it). Reminders: the visit's start;
    # follow-up and plan: the end of the qualifying visit; birthday: the day (0).
    steps = models.JSONField(_("steps"), default=list, blank=True)
    ask_confirmation = models.BooleanField(_("ask to confirm"), default=False)
    do_not_send_within = models.PositiveIntegerField(
        _("do not send when booked less than this many minutes before the message"), default=0)
    # Recall: N months after the last qualifying visit, then more attempts `attempt_gap_days`
    # apart, unless the patient has booked.
    interval_months = models.PositiveSmallIntegerField(_("months after the visit"), default=6)
    attempt_gap_days = models.PositiveSmallIntegerField(_("days between attempts"), default=14)
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts"), default=1, validators=[MinValueValidator(1), MaxValueValidator(3)])
    # Audience: empty means every one.
    service_ids = models.JSONField(_("services"), default=list, blank=True)
    doctor_ids = models.JSONField(_("doctors"), default=list, blank=True)
    age_min = models.PositiveSmallIntegerField(_("age from"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("age up to"), null=True, blank=True)
    last_visit_within_days = models.PositiveIntegerField(
        _("last visit within (days)"), null=True, blank=True)
    channel_order = models.JSONField(_("channels in order"), default=list, blank=True)
    # {"ru": {"": text, "whatsapp": text}, "en": {...}}: a channel's own text, else the "" one.
    texts = models.JSONField(_("texts"), default=dict)
    whatsapp_template = models.CharField(_("WhatsApp template"), max_length=200, blank=True)
    whatsapp_params = models.JSONField(_("WhatsApp template parameters"), default=list,
                                       blank=True)
    revision = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        texts = [str(text) for by_channel in (self.texts or {}).values()
                 if isinstance(by_channel, dict) for text in by_channel.values()]
        unknown = sorted({name for text in texts
                          for name in unknown_variables(text, visit=self.transactional)})
        if unknown:
            raise ValidationError({"texts": _("This message cannot fill %(names)s.")
                                   % {"names": ", ".join(f"{{{n}}}" for n in unknown)}})

    @property
    def topic(self) -> str:
        return TOPIC_OF_KIND[RuleKind(self.kind)]

    @property
    def transactional(self) -> bool:
        return self.kind in APPOINTMENT_KINDS


class RuleRevision(models.Model):
    """A rule's settings as they were: what a dispatch was planned and sent under."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["rule", "-number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"],
                                               name="rule_revision_number_unique")]

    def __str__(self) -> str:
        return f"{self.rule} r{self.number}"


class DispatchStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    CLAIMED = "claimed", _("Being sent")
    SENT = "sent", _("Handed to the channel")
    SKIPPED = "skipped", _("Skipped")
    SUPERSEDED = "superseded", _("Superseded")
    EXPIRED = "expired", _("Expired")


class SkipReason(models.TextChoices):
    RULE_OFF = "rule_off", _("The rule was switched off")
    OPTED_OUT = "opted_out", _("Opted out of all messages")
    NO_CONSENT = "no_consent", _("No consent for this topic")
    OPEN_COMPLAINT = "open_complaint", _("Open complaint")
    LEFT_UNHAPPY = "left_unhappy", _("Left unhappy")
    ALREADY_BOOKED = "already_booked", _("Already booked")
    BOOKED_LATE = "booked_late", _("Booked too close to the message")
    NOT_LIVE = "not_live", _("The visit was cancelled or has taken place")
    VISIT_MOVED = "visit_moved", _("The visit was moved")
    NO_CHANNEL = "no_channel", _("No channel to reach the patient")
    NO_TEXT = "no_text", _("The rule has no text for this channel")
    CAP = "cap", _("Too many messages this week")
    WINDOW = "window", _("Outside the send window")
    SEND_REFUSED = "send_refused", _("The channel refused the message")
    TOO_LATE = "too_late", _("Too late to send")


class Confirmation(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    RESCHEDULE = "reschedule", _("Asked for another time")
    EXPIRED = "expired", _("No answer")
    CHANGED = "changed", _("The visit was changed")


class Dispatch(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="dispatches")
    revision = models.ForeignKey(RuleRevision, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="dispatches")
    appointment = models.ForeignKey("scheduling.Appointment", null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="dispatches")
    occurrence_key = models.CharField(max_length=120)
    # The step's offset in minutes (negative: before the visit), or a recall's attempt number.
    step = models.IntegerField(default=0)
    due_at = models.DateTimeField(_("due"))
    send_at = models.DateTimeField(_("send at"))
    status = models.CharField(_("status"), max_length=20, choices=DispatchStatus.choices,
                              default=DispatchStatus.PLANNED)
    reason = models.CharField(_("reason"), max_length=20, blank=True, choices=SkipReason.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    deferrals = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    message = models.OneToOneField("inbox.Message", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="dispatch")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    confirmation = models.CharField(_("answer"), max_length=20, blank=True,
                                    choices=Confirmation.choices)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        ordering = ["-send_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "patient", "occurrence_key"],
                                    name="dispatch_occurrence_unique"),
        ]
        indexes = [
            models.Index(fields=["send_at"], condition=Q(status="planned"),
                         name="dispatch_planned_send_at"),
            models.Index(fields=["patient", "status", "sent_at"], name="dispatch_patient_sent"),
            models.Index(fields=["rule", "status"], name="dispatch_rule_status"),
            models.Index(fields=["clinic", "-send_at"], name="dispatch_clinic_send_at"),
            models.Index(fields=["appointment"], condition=Q(confirmation="pending"),
                         name="dispatch_pending_answer"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.patient_id}/{self.occurrence_key}: {self.status}"
