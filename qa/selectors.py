"""Reads of checklists and scorecards, scoped to one clinic, their related rows loaded."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from clinic.models import Clinic, Membership, Role
from inbox.models import Message
from inbox.selectors import messages_between
from qa.models import (
    ChecklistItem,
    ChecklistRevision,
    ItemOverride,
    ItemResult,
    QaSettings,
    Scorecard,
    ScorecardItem,
)
from qa.services.revisions import checklist_revision_ensure_default


def checklist_revision_current(*, clinic: Clinic) -> ChecklistRevision:
    """The revision that scores new dialogues, its items loaded (`revision.items.all()`).
    A clinic without one gets the default first, so there is always one."""
    current = checklist_revision_ensure_default(clinic=clinic)
    return (ChecklistRevision.objects.prefetch_related(
        Prefetch("items", queryset=ChecklistItem.objects.order_by("position", "id")))
        .get(pk=current.pk))


def checklist_revision_list(*, clinic: Clinic) -> QuerySet[ChecklistRevision]:
    """Every revision of the clinic, newest first, with who made it."""
    checklist_revision_ensure_default(clinic=clinic)
    return (ChecklistRevision.objects.filter(clinic=clinic).select_related("created_by")
            .order_by("-id"))


def qa_settings_get(*, clinic: Clinic) -> QaSettings:
    """The clinic's quality settings (the defaults are stored the first time they are read)."""
    settings, _created = QaSettings.objects.get_or_create(clinic=clinic)
    return settings


@dataclass(frozen=True)
class ScorecardFilters:
    """The manager list's filters; every one optional. Dates are aware datetimes, [from, to)."""

    administrator_id: int | None = None
    scored_from: datetime | None = None
    scored_to: datetime | None = None
    channel_kind: str = ""
    score_min: Decimal | None = None
    score_max: Decimal | None = None
    failed_item: str = ""  # a checklist code: its effective result is "fail"
    review_state: str = ""
    in_review_queue: bool | None = None
    ack_state: str = ""
    current_only: bool = True


def _items_prefetch() -> Prefetch:
    overrides = ItemOverride.objects.select_related("manager").order_by("created_at", "id")
    return Prefetch("items", queryset=ScorecardItem.objects.order_by("position", "id")
                    .prefetch_related(Prefetch("overrides", queryset=overrides)))


def scorecard_list(*, clinic: Clinic,
                   filters: ScorecardFilters = ScorecardFilters()) -> QuerySet[Scorecard]:
    """The clinic's scorecards, newest first, filtered; the conversation, who handled it and
    the revision loaded (items are not: a list shows scores, `scorecard_get_for_user` items)."""
    scorecards = (Scorecard.objects.filter(clinic=clinic)
                  .select_related("administrator", "revision", "conversation__contact",
                                  "conversation__patient", "conversation__channel",
                                  "reviewed_by")
                  .order_by("-scored_at", "-id"))
    f = filters
    if f.current_only:
        scorecards = scorecards.filter(is_current=True)
    if f.administrator_id is not None:
        scorecards = scorecards.filter(administrator_id=f.administrator_id)
    if f.scored_from is not None:
        scorecards = scorecards.filter(scored_at__gte=f.scored_from)
    if f.scored_to is not None:
        scorecards = scorecards.filter(scored_at__lt=f.scored_to)
    if f.channel_kind:
        scorecards = scorecards.filter(channel_kind=f.channel_kind)
    if f.score_min is not None:
        scorecards = scorecards.filter(score__gte=f.score_min)
    if f.score_max is not None:
        scorecards = scorecards.filter(score__lte=f.score_max)
    if f.failed_item:
        scorecards = scorecards.filter(Exists(ScorecardItem.objects.filter(
            scorecard=OuterRef("pk"), code=f.failed_item, result=ItemResult.FAIL)))
    if f.review_state:
        scorecards = scorecards.filter(review_state=f.review_state)
    if f.in_review_queue is not None:
        scorecards = scorecards.filter(in_review_queue=f.in_review_queue)
    if f.ack_state:
        scorecards = scorecards.filter(ack_state=f.ack_state)
    return scorecards


def scorecard_list_for_user(*, user: object, clinic: Clinic,
                            filters: ScorecardFilters = ScorecardFilters()
                            ) -> QuerySet[Scorecard]:
    """`scorecard_list` as this person may see it: managers and the owner every scorecard of
    the clinic, an administrator only their own ("My quality")."""
    membership = Membership.objects.filter(user=user, clinic=clinic).first()
    if membership is None:
        return Scorecard.objects.none()
    scorecards = scorecard_list(clinic=clinic, filters=filters)
    if not membership.has_role(Role.MANAGER):
        scorecards = scorecards.filter(administrator=user)
    return scorecards


def scorecard_get_for_user(*, user: object, clinic: Clinic, pk: int) -> Scorecard:
    """One scorecard of the clinic with its items and their overrides (in order) loaded;
    Scorecard.DoesNotExist when it is another clinic's, or another administrator's for an
    administrator. History (no longer current) scorecards are found too."""
    everyone = ScorecardFilters(current_only=False)
    return (scorecard_list_for_user(user=user, clinic=clinic, filters=everyone)
            .select_related("appointment__doctor", "appointment__service",
                            "dispute_answered_by", "window")
            .prefetch_related(_items_prefetch())
            .get(pk=pk))


def scorecard_history(*, scorecard: Scorecard, user: object) -> QuerySet[Scorecard]:
    """Every scorecard of the same dialogue this person may see, oldest first (the current one
    last): an administrator sees only those that were theirs."""
    return (scorecard_list_for_user(user=user, clinic=scorecard.clinic,
                                    filters=ScorecardFilters(current_only=False))
            .filter(window_id=scorecard.window_id).order_by("scored_at", "id"))


def scorecard_messages(*, scorecard: Scorecard) -> QuerySet[Message]:
    """The scored part of the conversation in order (system lines between included), the
    authors loaded: the thread a scorecard page shows, with `item.evidence` ids to highlight."""
    return messages_between(conversation_id=scorecard.conversation_id,
                            first_id=scorecard.first_message_id, first_at=scorecard.window_start,
                            last_id=scorecard.last_message_id, last_at=scorecard.window_end)
