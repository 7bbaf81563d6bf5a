"""Core domain: the clinic (tenant), its staff and its patients."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

WEEKDAYS = (0, 1, 2, 3, 4, 5, 6)


def default_timezone() -> str:
    return settings.TIME_ZONE


def default_weekly_hours() -> list[list[list[str]]]:
    """Monday to Friday 09:00–20:00, Saturday 10:00–16:00, Sunday closed."""
    weekday = [["09:00", "20:00"]]
    return [weekday, weekday, weekday, weekday, weekday, [["10:00", "16:00"]], []]


def default_evening_duty_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


def default_stop_words() -> list[str]:
    return [
        "не знаю",
        "ничем не могу помочь",
        "это не ко мне",
        "ждите",
        "перезвоните",
        "короче",
        "типа",
        "как бы",
        "вообще-то",
    ]


DEFAULT_SATISFACTION_QUESTION = "Оцените, пожалуйста, ответ от 1 до 5: напишите цифру."


class NameStyle(models.TextChoices):
    FIRST_NAME = "first_name", _("First name")
    NAME_PATRONYMIC = "name_patronymic", _("First name and patronymic")


class Clinic(models.Model):
    """A clinic is the tenant: every other row belongs to exactly one clinic."""

    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default=default_timezone)
    # Seven entries, Monday first; each a list of ["HH:MM", "HH:MM"] intervals. Gaps between
    # intervals are breaks; an empty list is a closed day.
    weekly_hours = models.JSONField(_("working hours"), default=default_weekly_hours)
    evening_duty_start = models.TimeField(_("evening duty from"), null=True, blank=True)
    evening_duty_end = models.TimeField(_("evening duty until"), null=True, blank=True)
    evening_duty_weekdays = models.JSONField(
        _("evening duty days"), default=default_evening_duty_weekdays
    )

    first_reply_minutes = models.PositiveSmallIntegerField(
        _("first reply within, minutes"), default=5, validators=[MinValueValidator(1)])
    reply_minutes = models.PositiveSmallIntegerField(
        _("later replies within, minutes"), default=5, validators=[MinValueValidator(1)],
        help_text=_("Working minutes for a patient message after the first one was answered."))
    promise_minutes = models.PositiveSmallIntegerField(
        _("promised answer within, minutes"), default=15, validators=[MinValueValidator(1)])
    reassign_on_breach = models.BooleanField(
        _("reassign overdue dialogues"), default=False,
        help_text=_("When a reply is overdue, hand the dialogue to a free online administrator."))
    timer_sweep_seconds = models.PositiveSmallIntegerField(
        _("check for overdue replies every, seconds"), default=30,
        validators=[MinValueValidator(10), MaxValueValidator(600)],
        help_text=_("A backstop: how late an overdue reply may be noticed if a scheduled "
                    "check is lost (a restarted worker, a broker outage)."))
    # When the backstop sweep last ran for this clinic (see inbox.services.timers).
    timers_swept_at = models.DateTimeField(null=True, blank=True, editable=False)
    max_live_dialogues = models.PositiveSmallIntegerField(
        _("live dialogues per administrator"), default=2, validators=[MinValueValidator(1)])
    name_style = models.CharField(_("address the patient by"), max_length=20,
                                  choices=NameStyle.choices, default=NameStyle.FIRST_NAME)
    emoji_limit = models.PositiveSmallIntegerField(_("emoji per message, at most"), default=2)
    stop_words = models.JSONField(_("stop-words"), default=default_stop_words, blank=True)
    promise_text = models.TextField(
        _("promise to check with the doctor"),
        default="{patient_first_name}, уточню у врача и вернусь к вам в течение 15 минут.",
        help_text=_("Sent by the “check with the doctor” action; variables as in quick replies."))
    ask_satisfaction = models.BooleanField(
        _("ask the patient to rate the answer"), default=False,
        help_text=_("After a resolve, one automatic question on the same channel; a reply of "
                    "1 to 5 is the patient's rating of the dialogue."))
    satisfaction_question = models.CharField(
        _("rating question"), max_length=500, blank=True,
        default=DEFAULT_SATISFACTION_QUESTION,
        help_text=_("Empty means the default question."))

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def __str__(self) -> str:
        return self.name


class ClinicDayException(models.Model):
    """A dated day that replaces the weekly hours: a holiday (no intervals) or a short day."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="day_exceptions")
    date = models.DateField(_("date"))
    intervals = models.JSONField(_("hours"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("holiday or short day")
        verbose_name_plural = _("holidays and short days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "date"], name="clinic_day_exception_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.note or ('closed' if not self.intervals else 'short day')}"


class ClinicSettingChange(models.Model):
    """One changed setting: who changed it, when, and the values before and after."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="setting_changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(db_index=True)
    field = models.CharField(max_length=100)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.clinic_id} {self.field} @ {self.changed_at:%Y-%m-%d %H:%M}"


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    MANAGER = "manager", _("Manager")
    OWNER = "owner", _("Owner")


# owner ⊇ manager ⊇ administrator
ROLE_RANK = {Role.ADMINISTRATOR: 1, Role.MANAGER: 2, Role.OWNER: 3}


class Availability(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # New conversations go only to staff who are online.
    availability = models.CharField(_("availability"), max_length=10,
                                    choices=Availability.choices, default=Availability.OFFLINE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "clinic"], name="membership_user_clinic_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.clinic} ({self.role})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class Channel(models.TextChoices):
    """How a patient can be reached; the inbox's channel kinds are a subset."""

    TELEGRAM = "telegram", "Telegram"
    WHATSAPP = "whatsapp", "WhatsApp"
    WEBCHAT = "webchat", _("Website chat")
    SMS = "sms", "SMS"
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone call")


class TimeOfDay(models.TextChoices):
    MORNING = "morning", _("Morning")
    MIDDAY = "midday", _("Midday")
    EVENING = "evening", _("Evening")


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="patients")
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    # E.164; not unique within a clinic, since family members share phones.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferred_channel = models.CharField(_("preferred channel"), max_length=20, blank=True,
                                         choices=Channel.choices)
    preferred_time_of_day = models.CharField(_("preferred time of day"), max_length=20,
                                             blank=True, choices=TimeOfDay.choices)
    preferred_days = models.JSONField(_("preferred days"), default=list, blank=True)
    # The patient's own order of channels for automatic messages (Channel values); the
    # preferred channel, when set, comes first. Campaigns fill the rest with the clinic's order.
    channel_order = models.JSONField(_("channels in order"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES,
                                default="ru")
    opted_out_all = models.BooleanField(_("opted out of all messages"), default=False)
    open_complaint = models.BooleanField(_("open complaint"), default=False)
    left_unhappy = models.BooleanField(_("left unhappy"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["clinic", "phone"], name="patient_clinic_phone"),
            models.Index(fields=["clinic", "last_name", "first_name"], name="patient_clinic_name"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.phone or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def name_with_patronymic(self) -> str:
        return " ".join(p for p in (self.first_name, self.patronymic) if p)


class ConsentTopic(models.TextChoices):
    APPOINTMENT = "appointment", _("Appointment reminders")
    RECALL = "recall", _("Check-up recall")
    FOLLOW_UP = "follow_up", _("Treatment follow-up")
    PLAN_ADHERENCE = "plan_adherence", _("Treatment plan reminders")
    BIRTHDAY = "birthday", _("Birthday greeting")
    EDUCATION = "education", _("Educational mailings")
    PROMOTIONS = "promotions", _("Promotions")
    # 152-FZ: consent to the processing of personal data is a document of its own, never
    # bundled with consent to messages; it is kept in the same ledger but shown apart.
    DATA_PROCESSING = "data_processing", _("Personal data processing")


MESSAGE_TOPICS = tuple(t for t in ConsentTopic.values if t != ConsentTopic.DATA_PROCESSING)
"""The topics of messages to the patient (everything but data processing)."""


class ConsentSource(models.TextChoices):
    CHAT = "chat", _("In a chat")
    PHONE = "phone", _("By phone")
    IN_PERSON = "in_person", _("In person")
    FORM = "form", _("Signed form")
    WEBSITE = "website", _("Website form")
    IMPORT = "import", _("Imported")
    STOP = "stop", _("Stop word from the patient")


class ConsentEvent(models.Model):
    """Append-only ledger: the latest row per topic (and channel) is the current consent."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consent_events")
    topic = models.CharField(_("topic"), max_length=30, choices=ConsentTopic.choices)
    channel = models.CharField(_("channel"), max_length=20, blank=True, choices=Channel.choices,
                               help_text=_("Empty means every channel."))
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("how"), max_length=20, choices=ConsentSource.choices)
    evidence = models.CharField(_("evidence"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "topic", "-recorded_at"], name="consent_patient_topic")
        ]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrew"
        return f"{self.patient_id} {verb} {self.topic} @ {self.recorded_at:%Y-%m-%d}"


class WorkerHeartbeat(models.Model):
    """Written by a periodic task, so the product can show that its background work runs."""

    worker = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ApiToken(models.Model):
    """A key for an outside system (the clinic's MIS), owned by the clinic, not by a person.

    Only the SHA-256 of the secret is stored; the owner sees the secret once, when it is made.
    A request with the token acts in its clinic only, as the integration role (see
    clinic.access.INTEGRATION_ROLE), until the token is revoked.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the secret, so people can tell their tokens apart.
    prefix = models.CharField(_("begins with"), max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
