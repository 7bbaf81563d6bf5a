"""What people do with a scorecard: a manager overrides a verdict, marks it reviewed, answers a
dispute; the administrator whose dialogue it is acknowledges or disputes it.

Each service checks who may do it (QaForbidden) and whether it can be done now (QaRefused),
and locks the scorecard, so it never races a re-score of the same dialogue.
"""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from clinic.models import Membership, Role
from qa.models import AckState, ItemOverride, ItemResult, ReviewState, Scorecard, ScorecardItem
from qa.selectors import qa_settings_get
from qa.services.access import QaForbidden, QaRefused, role_require
from qa.services.scoring import scorecard_totals_update

COMMENT_MAX = 2000


def _comment(text: str, *, required: bool) -> str:
    text = text.strip()[:COMMENT_MAX]
    if required and not text:
        raise QaRefused(_("Write a comment."))
    return text


def _locked(scorecard: Scorecard) -> Scorecard:
    return Scorecard.objects.select_for_update().get(pk=scorecard.pk)


def _refresh(scorecard: Scorecard, saved: Scorecard, fields: list[str]) -> None:
    for name in fields:
        setattr(scorecard, name, getattr(saved, name))


def scorecard_override(*, item: ScorecardItem, by: object, result: str, comment: str,
                       reason: str, now: datetime) -> ItemOverride:
    """A manager's verdict on an item, with a reason from the clinic's list and a comment. The
    engine's verdict stays beside it; the latest override is the item's result and the score
    is computed again. Only on the current scorecard of a dialogue."""
    role_require(user=by, clinic_id=item.scorecard.clinic_id, role=Role.MANAGER)
    if result not in ItemResult.values:
        raise QaRefused(_("Choose pass, fail or not applicable."))
    reasons = qa_settings_get(clinic=item.scorecard.clinic).override_reasons
    if reason not in reasons:
        raise QaRefused(_("Choose a reason from the clinic's list."))
    comment = _comment(comment, required=False)
    with transaction.atomic():
        scorecard = _locked(item.scorecard)
        if not scorecard.is_current:
            raise QaRefused(_("This scorecard is history: override the current one."))
        override = ItemOverride.objects.create(item=item, manager=by, result=result,
                                               comment=comment, reason=reason, created_at=now)
        ScorecardItem.objects.filter(pk=item.pk).update(result=result)
        scorecard_totals_update(scorecard=scorecard)
    item.result = result
    _refresh(item.scorecard, scorecard, ["score", "critical_failed"])
    return override


def scorecard_mark_reviewed(*, scorecard: Scorecard, by: object, now: datetime) -> bool:
    """A manager has looked at the scorecard. False when it already was reviewed."""
    role_require(user=by, clinic_id=scorecard.clinic_id, role=Role.MANAGER)
    reviewed = Scorecard.objects.filter(pk=scorecard.pk).exclude(
        review_state=ReviewState.REVIEWED).update(review_state=ReviewState.REVIEWED,
                                                  reviewed_by=by, reviewed_at=now)
    if reviewed:
        scorecard.review_state, scorecard.reviewed_by, scorecard.reviewed_at = (
            ReviewState.REVIEWED, by, now)
    return bool(reviewed)


def _administrator_require(scorecard: Scorecard, by: object) -> None:
    """Only the administrator whose dialogue it is, while they still work in the clinic."""
    if (getattr(by, "pk", None) is None or by.pk != scorecard.administrator_id
            or not Membership.objects.filter(user=by, clinic_id=scorecard.clinic_id).exists()):
        raise QaForbidden(_("Only the administrator who handled the dialogue can do this."))


def scorecard_acknowledge(*, scorecard: Scorecard, by: object, comment: str,
                          now: datetime) -> Scorecard:
    """The administrator has read the scorecard and agrees (also after a dispute was answered);
    the comment is optional."""
    _administrator_require(scorecard, by)
    comment = _comment(comment, required=False)
    with transaction.atomic():
        saved = _locked(scorecard)
        if saved.ack_state == AckState.ACKNOWLEDGED:
            raise QaRefused(_("You have already acknowledged this scorecard."))
        saved.ack_state, saved.ack_at = AckState.ACKNOWLEDGED, now
        saved.ack_comment = comment or saved.ack_comment
        saved.save(update_fields=["ack_state", "ack_comment", "ack_at"])
    _refresh(scorecard, saved, ["ack_state", "ack_comment", "ack_at"])
    return scorecard


def scorecard_dispute(*, scorecard: Scorecard, by: object, comment: str,
                      now: datetime) -> Scorecard:
    """The administrator disagrees, and says why (a comment is required); a manager answers."""
    _administrator_require(scorecard, by)
    comment = _comment(comment, required=True)
    with transaction.atomic():
        saved = _locked(scorecard)
        if saved.ack_state != AckState.NONE:
            raise QaRefused(_("This scorecard has already been acknowledged or disputed."))
        saved.ack_state, saved.ack_comment, saved.ack_at = AckState.DISPUTED, comment, now
        saved.save(update_fields=["ack_state", "ack_comment", "ack_at"])
    _refresh(scorecard, saved, ["ack_state", "ack_comment", "ack_at"])
    return scorecard


def scorecard_dispute_answer(*, scorecard: Scorecard, by: object, comment: str,
                             now: datetime) -> Scorecard:
    """A manager answers the administrator's dispute (answering again replaces the answer)."""
    role_require(user=by, clinic_id=scorecard.clinic_id, role=Role.MANAGER)
    comment = _comment(comment, required=True)
    fields = ["dispute_answer", "dispute_answered_by", "dispute_answered_at"]
    with transaction.atomic():
        saved = _locked(scorecard)
        if saved.ack_state != AckState.DISPUTED:
            raise QaRefused(_("There is no dispute to answer."))
        saved.dispute_answer, saved.dispute_answered_by, saved.dispute_answered_at = (
            comment, by, now)
        saved.save(update_fields=fields)
    _refresh(scorecard, saved, fields)
    return scorecard
