"""Quality: the clinic's checklist revisions, and a scorecard for every resolved dialogue.

The scoring engine (qa.checklist) is plain Python; these rows are what it was given (a revision
of the checklist) and what it said (a scorecard with a verdict per item), beside what people
said about it (overrides, review, the administrator's acknowledgement or dispute).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinic.models import Clinic
from inbox.models import Conversation, DialogueOutcome, DialogueWindow, Message


def default_override_reasons() -> list[str]:
    return ["Автоматика ошиблась", "Контекст диалога", "Исключение по согласованию", "Другое"]


class QaSettings(models.Model):
    """The clinic's quality settings: which scorecards go to the review queue, and the reasons
    a manager picks from when overriding a verdict. Changes are recorded in the clinic's
    setting history (see qa.services.revisions.qa_settings_update)."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="qa_settings")
    review_threshold = models.PositiveSmallIntegerField(
        _("review every scorecard below, points"), default=80,
        validators=[MaxValueValidator(100)])
    review_share = models.PositiveSmallIntegerField(
        _("and this share of the rest, %"), default=10, validators=[MaxValueValidator(100)],
        help_text=_("Picked at random, so good dialogues are looked at too."))
    override_reasons = models.JSONField(_("reasons for overriding a verdict"),
                                        default=default_override_reasons)

    class Meta:
        verbose_name = _("quality settings")
        verbose_name_plural = _("quality settings")
        constraints = [
            models.CheckConstraint(condition=Q(review_threshold__lte=100, review_share__lte=100),
                                   name="qa_settings_percentages"),
        ]

    def __str__(self) -> str:
        return f"{self.clinic}: < {self.review_threshold}, {self.review_share}%"


class ChecklistRevision(models.Model):
    """A numbered version of the clinic's checklist ("1.2", "1.3"…). Exactly one is current:
    it scores new dialogues. Once a scorecard uses a revision it never changes; editing makes
    the next revision (see qa.services.revisions)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE,
                               related_name="checklist_revisions")
    number = models.CharField(_("revision"), max_length=20)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    is_current = models.BooleanField(_("current"), default=False)

    class Meta:
        verbose_name = _("checklist revision")
        verbose_name_plural = _("checklist revisions")
        ordering = ["clinic", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "number"],
                                    name="checklist_revision_number_unique"),
            models.UniqueConstraint(fields=["clinic"], condition=Q(is_current=True),
                                    name="checklist_revision_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.clinic}: {self.number}"


class ChecklistItem(models.Model):
    """One item of a revision. `code` is the engine's (qa.checklist.CODES); `title` and
    `description` of the default items are English msgids shown through gettext.

    `parameters` adjust the item: {"minutes": 5} for the timing items, {"emoji_limit": 2},
    {"stop_words": [...]}, {"dictionary": [...]} (added to the doctors' and services' names),
    {"name_style": "name_patronymic"}. A missing parameter takes the clinic's setting, the same
    one the response timers use."""

    revision = models.ForeignKey(ChecklistRevision, on_delete=models.CASCADE,
                                 related_name="items")
    position = models.PositiveSmallIntegerField(_("position"))
    code = models.CharField(_("code"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2, default=1)
    enabled = models.BooleanField(_("enabled"), default=True)
    critical = models.BooleanField(_("critical"), default=False,
                                   help_text=_("A failed critical item makes the score 0."))
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["revision", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "code"],
                                    name="checklist_item_code_unique"),
            models.CheckConstraint(condition=Q(weight__gt=0),
                                   name="checklist_item_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.revision.number} {self.position}. {self.code}"


class ItemResult(models.TextChoices):
    PASS = "pass", pgettext_lazy("checklist result", "Pass")
    FAIL = "fail", pgettext_lazy("checklist result", "Fail")
    NA = "na", pgettext_lazy("checklist result", "Not applicable")


class ReviewState(models.TextChoices):
    TO_REVIEW = "to_review", _("To review")
    REVIEWED = "reviewed", _("Reviewed")


class AckState(models.TextChoices):
    NONE = "none", _("Not seen yet")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISPUTED = "disputed", _("Disputed")


CURRENT = Q(is_current=True)


class Scorecard(models.Model):
    """The checklist's verdict on one dialogue (a resolved DialogueWindow).

    One current scorecard per window. Scoring the same window again (a lost task run twice, a
    reopen and a new resolve) updates it in place, keeping overrides and comments; re-scoring
    with a newer revision makes a new one and keeps this one in history (`is_current` False).
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="+")
    window = models.ForeignKey(DialogueWindow, on_delete=models.CASCADE,
                               related_name="scorecards")
    # The part of the conversation scored, as it was when scored (the window may grow later).
    first_message = models.ForeignKey(Message, null=True, blank=True,
                                      on_delete=models.RESTRICT, related_name="+")
    last_message = models.ForeignKey(Message, null=True, blank=True,
                                     on_delete=models.RESTRICT, related_name="+")
    window_start = models.DateTimeField(_("dialogue from"))
    window_end = models.DateTimeField(_("dialogue until"))
    # The window's resolve_count when scored: a scorecard is up to date when they are equal.
    window_version = models.PositiveIntegerField(default=1)

    revision = models.ForeignKey(ChecklistRevision, on_delete=models.RESTRICT,
                                 related_name="scorecards", verbose_name=_("checklist revision"))
    engine_version = models.CharField(_("engine version"), max_length=20)
    # The clinic's rules as the engine read them (minutes, emoji limit, stop-words...).
    rules = models.JSONField(default=dict, blank=True)
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1, null=True,
                                blank=True, help_text=_("With the managers' overrides."))
    automatic_score = models.DecimalField(_("automatic score"), max_digits=4, decimal_places=1,
                                          null=True, blank=True)
    critical_failed = models.BooleanField(_("critical item failed"), default=False)
    scored_at = models.DateTimeField(_("scored at"))
    is_current = models.BooleanField(default=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")

    administrator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="scorecards",
                                      verbose_name=_("administrator"))
    channel_kind = models.CharField(_("channel"), max_length=20)
    outcome = models.CharField(_("result"), max_length=20, choices=DialogueOutcome.choices)
    next_step = models.TextField(_("agreed next step"), blank=True)
    appointment = models.ForeignKey("scheduling.Appointment", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("visit"))

    review_state = models.CharField(_("review"), max_length=20, choices=ReviewState.choices,
                                    default=ReviewState.TO_REVIEW)
    in_review_queue = models.BooleanField(_("in the review queue"), default=False)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    ack_state = models.CharField(_("administrator's answer"), max_length=20,
                                 choices=AckState.choices, default=AckState.NONE)
    ack_comment = models.TextField(_("administrator's comment"), blank=True)
    ack_at = models.DateTimeField(null=True, blank=True)
    dispute_answer = models.TextField(_("answer to the dispute"), blank=True)
    dispute_answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                            on_delete=models.SET_NULL, related_name="+")
    dispute_answered_at = models.DateTimeField(null=True, blank=True)

    satisfaction = models.PositiveSmallIntegerField(
        _("patient's rating"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["-scored_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["window"], condition=CURRENT,
                                    name="scorecard_one_current_per_window"),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="scorecard_satisfaction_1_to_5"),
        ]
        indexes = [
            models.Index(fields=["clinic", "-scored_at"], condition=CURRENT,
                         name="scorecard_clinic_time"),
            models.Index(fields=["clinic", "administrator", "-scored_at"], condition=CURRENT,
                         name="scorecard_clinic_admin_time"),
            models.Index(fields=["clinic", "review_state"], condition=CURRENT,
                         name="scorecard_clinic_review"),
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id} {self.scored_at:%Y-%m-%d %H:%M}: {self.score}"


class ScorecardItem(models.Model):
    """One item's verdict. The engine's verdict (`auto_result`, evidence, reason) is kept as it
    said it; `result` is the effective one: the latest override's, else the engine's.

    `why` is the engine's English template and `params` its values: a page shows
    gettext(why).format(**params)."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    critical = models.BooleanField(_("critical"), default=False)
    auto_result = models.CharField(_("automatic result"), max_length=4,
                                   choices=ItemResult.choices)
    evidence = models.JSONField(_("evidence"), default=list, blank=True,
                                help_text=_("Ids of the messages that decided it."))
    why = models.TextField(_("reason"), blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.CharField(_("result"), max_length=4, choices=ItemResult.choices)

    class Meta:
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        ordering = ["scorecard", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "code"],
                                    name="scorecard_item_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.result}"


class ItemOverride(models.Model):
    """A manager's verdict on an item, beside the engine's. The latest one wins; all are kept."""

    item = models.ForeignKey(ScorecardItem, on_delete=models.CASCADE, related_name="overrides")
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("manager"))
    result = models.CharField(_("result"), max_length=4, choices=ItemResult.choices)
    comment = models.TextField(_("comment"), blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        ordering = ["item", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.item.code} → {self.result}"
