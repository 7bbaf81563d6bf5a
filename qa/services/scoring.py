"""Scoring resolved dialogues: the engine's Dialogue built from the database, and the scorecard.

A resolve in the inbox sends `inbox.signals.dialogue_resolved` after commit; qa queues
`scorecard_build_task` (the slow queue), and beat runs `scorecards_process_due` every minute as
the backstop, so a lost task never loses a scorecard. Building is idempotent: the window row is
locked, a window has one current scorecard (a unique constraint), and a scorecard that is up to
date with the window (`window_version`) is left alone. After a reopen and a new resolve the
scorecard is updated in place: items keep their overrides by code, comments and review stay.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from clinic.models import Clinic, Role
from clinic.selectors import clinic_hours
from inbox.models import (
    DialogueOutcome,
    DialogueWindow,
    Direction,
    Message,
    MessageKind,
    WindowStatus,
)
from inbox.selectors import window_messages
from inbox.services.satisfaction import RATING, SATISFACTION_QUESTION
from qa.checklist import ENGINE_VERSION, Dialogue, Item, Outcome, Rules, score
from qa.checklist import Message as EngineMessage
from qa.models import (
    AckState,
    ChecklistRevision,
    ItemOverride,
    ItemResult,
    QaSettings,
    Scorecard,
    ScorecardItem,
)
from qa.selectors import checklist_revision_current, qa_settings_get
from qa.services.access import QaRefused, role_require
from scheduling.models import Doctor, Service

# The backstop scores windows resolved at least GRACE ago (the task has had its chance) and
# at most LOOKBACK ago (how long a broker or worker outage may last without losing scorecards;
# the bound keeps the minute's query small however many dialogues a clinic has had).
logger = logging.getLogger(__name__)

BACKSTOP_GRACE = timedelta(minutes=1)
BACKSTOP_LOOKBACK = timedelta(days=14)
BACKSTOP_BATCH = 100

# What a message without text reads as to the engine.
PLACEHOLDERS = {MessageKind.IMAGE: "[image]", MessageKind.DOCUMENT: "[document]",
                MessageKind.AUDIO: "[audio]", MessageKind.CONTACT: "[contact]"}


def rules_build(*, clinic: Clinic, revision: ChecklistRevision) -> Rules:
    """The clinic's rules as the engine reads them: its hours and standards (the same values
    the response timers use), adjusted by the revision's item parameters, with the doctors'
    and services' names added to the spelling dictionary."""
    parameters = {item.code: item.parameters for item in revision.items.all()}

    def setting(code: str, name: str, default: Any) -> Any:
        return parameters.get(code, {}).get(name, default)

    names = [*Doctor.objects.filter(clinic=clinic).values_list("name", flat=True),
             *Service.objects.filter(clinic=clinic).values_list("name", flat=True)]
    return Rules(
        hours=clinic_hours(clinic=clinic),
        first_reply_minutes=setting("first_reply_time", "minutes", clinic.first_reply_minutes),
        reply_minutes=setting("reply_time", "minutes", clinic.reply_minutes),
        promise_minutes=setting("promise_kept", "minutes", clinic.promise_minutes),
        name_style=setting("name_used", "name_style", clinic.name_style),
        emoji_limit=setting("emoji", "emoji_limit", clinic.emoji_limit),
        stop_words=tuple(setting("stop_words", "stop_words", clinic.stop_words)),
        dictionary=tuple(dict.fromkeys([*setting("literacy", "dictionary", []), *names])),
    )


def _rules_shown(rules: Rules) -> dict[str, Any]:
    return {"timezone": str(rules.hours.timezone),
            "first_reply_minutes": rules.first_reply_minutes,
            "reply_minutes": rules.reply_minutes, "promise_minutes": rules.promise_minutes,
            "name_style": rules.name_style, "emoji_limit": rules.emoji_limit,
            "stop_words": list(rules.stop_words), "dictionary": list(rules.dictionary)}


def _text(message: Message) -> str:
    text = message.body.strip()
    if text:
        return text
    if message.payload.get("template"):
        return f"[{message.payload['template'].get('name', 'template')}]"
    return PLACEHOLDERS.get(message.kind, "")


def _about_rating(message: Message) -> bool:
    """The rating question and the patient's rating belong to no dialogue, also when an
    administrator reopened the dialogue after them."""
    payload = message.payload or {}
    return RATING in payload or payload.get("automatic") == SATISFACTION_QUESTION


def _engine_message(message: Message, earliest: datetime | None) -> EngineMessage | None:
    """A stored message as the engine reads it; None for a system line. A patient's message
    counts from when they wrote it (as the response timers do: the provider's time, never
    later than its arrival), kept in order after the message before it."""
    if message.kind == MessageKind.SYSTEM or _about_rating(message):
        return None
    at = message.created_at
    if message.direction == Direction.IN:
        author, kind = "patient", "text"
        at = min(message.provider_timestamp or at, at)
    elif message.kind == MessageKind.NOTE:
        author, kind = "admin", "note"
    elif message.kind == MessageKind.PROMISE:
        author, kind = "admin", "promise"
    elif message.author_id is not None:
        author, kind = "admin", "text"
    else:  # greetings, out-of-hours and queue messages, reminders: nobody wrote them
        author, kind = "auto", "text"
    if earliest is not None and at < earliest:
        at = earliest
    return EngineMessage(author=author, at=at, text=_text(message), kind=kind)


def _outcome(window: DialogueWindow) -> Outcome:
    if window.outcome == DialogueOutcome.BOOKED:
        # A booking counts when a visit booked from this chat was found on resolve.
        return Outcome(booked=window.appointment_id is not None, about_visit=True)
    if window.outcome == DialogueOutcome.NEXT_STEP:
        return Outcome(next_step=window.next_step or None, about_visit=True)
    # "Not about a visit", and "no reply needed" (thanks, spam): no result was due.
    return Outcome(about_visit=False)


def _first_name(user: Any) -> str | None:
    if user is None:
        return None
    return user.first_name.strip() or user.get_full_name().strip() or None


@dataclass(frozen=True)
class BuiltDialogue:
    dialogue: Dialogue
    message_ids: tuple[int, ...]  # the stored message behind each of dialogue.messages
    administrator: Any  # the user who handled it, or None


def _built(window: DialogueWindow, revision: ChecklistRevision) -> BuiltDialogue:
    stored = list(window_messages(window=window))
    messages: list[EngineMessage] = []
    ids: list[int] = []
    for message in stored:
        converted = _engine_message(message, messages[-1].at if messages else None)
        if converted is not None:
            messages.append(converted)
            ids.append(message.pk)
    administrator = window.administrator
    if administrator is None:  # nobody held it: whoever wrote to the patient last
        administrator = next((m.author for m in reversed(stored)
                              if m.direction == Direction.OUT and m.author_id is not None
                              and m.kind not in (MessageKind.NOTE, MessageKind.SYSTEM)), None)
    patient = window.conversation.patient
    dialogue = Dialogue(
        rules=rules_build(clinic=window.clinic, revision=revision), messages=tuple(messages),
        outcome=_outcome(window),
        patient_first_name=(patient.first_name or None) if patient else None,
        patient_patronymic=(patient.patronymic or None) if patient else None,
        patient_last_name=(patient.last_name or None) if patient else None,
        admin_name=_first_name(administrator))
    return BuiltDialogue(dialogue, tuple(ids), administrator)


def _window_loaded(window_id: int) -> DialogueWindow:
    return (DialogueWindow.objects.select_related(
        "clinic", "conversation__channel", "conversation__patient", "administrator")
        .get(pk=window_id))


def dialogue_build(*, window: DialogueWindow,
                   revision: ChecklistRevision | None = None) -> Dialogue:
    """The engine's Dialogue for a window: its messages in order (patients' as "patient";
    staff replies as "admin", notes and promises with their kind; automatic messages as
    "auto"; system lines left out; a file without a caption as a placeholder such as
    "[image]"), the patient card's names, the administrator's first name, the clinic's rules
    with the revision's parameters (the clinic's current revision when None), the outcome."""
    window = _window_loaded(window.pk)
    revision = revision or checklist_revision_current(clinic=window.clinic)
    return _built(window, revision).dialogue


def _totals(items: list[ScorecardItem], attribute: str) -> tuple[Decimal | None, bool]:
    """Passed weight / applicable weight × 100, over `result` or `auto_result`; 0 when a
    critical item failed; None when no item applies."""
    applicable = passed = Decimal(0)
    critical = False
    for item in items:
        result = getattr(item, attribute)
        if result == ItemResult.NA:
            continue
        applicable += item.weight
        if result == ItemResult.PASS:
            passed += item.weight
        elif item.critical:
            critical = True
    if critical:
        return Decimal("0.0"), True
    if not applicable:
        return None, False
    return (passed * 100 / applicable).quantize(Decimal("0.1"), ROUND_HALF_EVEN), False


def scorecard_totals_update(*, scorecard: Scorecard) -> None:
    """Recompute the score from the items' effective results (after an override) and save."""
    items = list(scorecard.items.all())
    scorecard.score, scorecard.critical_failed = _totals(items, "result")
    scorecard.save(update_fields=["score", "critical_failed"])


def _review_pick(settings: QaSettings, total: Decimal | None, window_id: int) -> bool:
    """The clinic's review queue: every scorecard below the threshold, and a share of the rest
    picked at random, by a hash of the window, so scoring again never changes the pick."""
    if total is not None and total < settings.review_threshold:
        return True
    digest = hashlib.sha256(f"qa-review:{window_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < settings.review_share


def _jsonable(params: dict[str, object]) -> dict[str, Any]:
    return json.loads(json.dumps(params, default=str))


def _score_into(window: DialogueWindow, revision: ChecklistRevision,
                scorecard: Scorecard | None, now: datetime) -> Scorecard:
    """Score the window with `revision` into `scorecard` (updated in place, items keeping their
    overrides by code), or into a new one. Runs under the window's lock."""
    built = _built(window, revision)
    checklist = [i for i in revision.items.all() if i.enabled]
    scored = score(built.dialogue, [Item(code=i.code, weight=float(i.weight), enabled=True,
                                         critical=i.critical) for i in checklist])
    fields = {
        "clinic_id": window.clinic_id, "conversation_id": window.conversation_id,
        "window": window, "first_message_id": window.first_message_id,
        "last_message_id": window.last_message_id, "window_start": window.started_at,
        "window_end": window.ended_at, "window_version": window.resolve_count,
        "revision": revision, "engine_version": ENGINE_VERSION,
        "rules": _rules_shown(built.dialogue.rules), "scored_at": now,
        "administrator": built.administrator,
        "channel_kind": window.conversation.channel.kind, "outcome": window.outcome,
        "next_step": window.next_step, "appointment_id": window.appointment_id,
        "satisfaction": window.satisfaction,  # the patient's rating, when it came first
    }
    creating = scorecard is None
    if creating:
        scorecard = Scorecard(**fields)
    else:
        if scorecard.administrator_id != getattr(built.administrator, "pk", None):
            # Another administrator closed the reopened dialogue: the answer was the first one's.
            fields.update(ack_state=AckState.NONE, ack_comment="", ack_at=None,
                          dispute_answer="", dispute_answered_by=None, dispute_answered_at=None)
        for name, value in fields.items():
            setattr(scorecard, name, value)
    scorecard.save()
    existing = {item.code: item for item in scorecard.items.all()}
    overridden: dict[int, str] = {}
    for override in (ItemOverride.objects.filter(item__scorecard=scorecard)
                     .order_by("created_at", "id")):
        overridden[override.item_id] = override.result  # the latest wins
    items = []
    for entry in checklist:
        verdict = scored.verdicts[entry.code]
        item = existing.get(entry.code) or ScorecardItem(scorecard=scorecard, code=entry.code)
        item.position, item.title = entry.position, entry.title
        item.weight, item.critical = entry.weight, entry.critical
        item.auto_result = verdict.result
        item.evidence = [built.message_ids[i] for i in verdict.evidence]
        item.why, item.params = verdict.why, _jsonable(verdict.params)
        item.result = overridden.get(item.pk, verdict.result) if item.pk else verdict.result
        items.append(item)
    ScorecardItem.objects.bulk_update(
        [i for i in items if i.pk is not None],
        ["position", "title", "weight", "critical", "auto_result", "evidence", "why", "params",
         "result"])
    ScorecardItem.objects.bulk_create([i for i in items if i.pk is None])
    scorecard.score, scorecard.critical_failed = _totals(items, "result")
    scorecard.automatic_score, _critical = _totals(items, "auto_result")
    picked = _review_pick(qa_settings_get(clinic=window.clinic), scorecard.score, window.pk)
    scorecard.in_review_queue = picked if creating else scorecard.in_review_queue or picked
    scorecard.save(update_fields=["score", "critical_failed", "automatic_score",
                                  "in_review_queue"])
    return scorecard


def _scoring_needed(window: DialogueWindow) -> bool:
    """A "no reply needed" dialogue where nobody of the staff wrote is not scored."""
    return window.outcome != DialogueOutcome.NO_REPLY_NEEDED or window.clinic_replied


def _build(window_id: int, now: datetime) -> Scorecard | None:
    with transaction.atomic():
        window = (DialogueWindow.objects.select_for_update(of=("self",))
                  .select_related("clinic", "conversation__channel", "conversation__patient",
                                  "administrator")
                  .filter(pk=window_id).first())
        if window is None or window.status != WindowStatus.RESOLVED:
            return None  # gone, or reopened: the next resolve scores it
        current = (Scorecard.objects.select_for_update(of=("self",))
                   .filter(window=window, is_current=True).select_related("revision").first())
        if current is not None and current.window_version == window.resolve_count:
            return current  # up to date: a repeated task or the backstop after the task
        if current is None and not _scoring_needed(window):
            return None
        revision = (current.revision if current is not None
                    else checklist_revision_current(clinic=window.clinic))
        return _score_into(window, revision, current, now)


def scorecard_build(*, window_id: int, now: datetime) -> Scorecard | None:
    """Score a resolved dialogue, or bring its scorecard up to date after a reopen and a new
    resolve (same revision, overrides and comments kept). Safe to run twice or at once: the
    same window always has one current scorecard. None when the window is not to be scored
    (reopened, or "no reply needed" without a staff message)."""
    try:
        return _build(window_id, now)
    except IntegrityError:  # a twin run created it first (SQLite locks no rows): read it
        return _build(window_id, now)


def scorecards_process_due(*, now: datetime) -> int:
    """The backstop, on beat every minute: score recently resolved dialogues that have no
    up-to-date scorecard (a lost task, a broker outage). Returns how many it scored."""
    up_to_date = Scorecard.objects.filter(window=OuterRef("pk"), is_current=True,
                                          window_version=OuterRef("resolve_count"))
    due = (DialogueWindow.objects
           .filter(status=WindowStatus.RESOLVED, resolved_at__lte=now - BACKSTOP_GRACE,
                   resolved_at__gte=now - BACKSTOP_LOOKBACK)
           .exclude(~Exists(Scorecard.objects.filter(window=OuterRef("pk"), is_current=True)),
                    outcome=DialogueOutcome.NO_REPLY_NEEDED, clinic_replied=False)
           .filter(~Exists(up_to_date)).order_by("resolved_at", "id")
           .values_list("pk", flat=True))
    scored = 0
    for pk in list(due[:BACKSTOP_BATCH]):
        try:
            scored += scorecard_build(window_id=pk, now=now) is not None
        except Exception:  # one broken dialogue must not hold back every later one
            logger.exception("scoring dialogue window %s failed", pk)
    return scored


def revision_order(revision: ChecklistRevision) -> tuple[int, ...]:
    """Revisions in the order they were made: by number ("1.2" < "1.3" < "1.10")."""
    parts = revision.number.split(".")
    return (*(int(p) if p.isdigit() else 0 for p in parts), revision.pk)


def scorecard_rescore(*, scorecard: Scorecard, revision: ChecklistRevision, by: object,
                      now: datetime) -> Scorecard:
    """A manager scores the dialogue again with a newer revision of the checklist: a new
    current scorecard; this one stays in history (with its overrides and comments)."""
    role_require(user=by, clinic_id=scorecard.clinic_id, role=Role.MANAGER)
    if revision.clinic_id != scorecard.clinic_id:
        raise QaRefused(_("That revision belongs to another clinic."))
    with transaction.atomic():
        window = (DialogueWindow.objects.select_for_update(of=("self",))
                  .select_related("clinic", "conversation__channel", "conversation__patient",
                                  "administrator")
                  .get(pk=scorecard.window_id))
        old = (Scorecard.objects.select_for_update(of=("self",)).select_related("revision")
               .get(pk=scorecard.pk))
        if not old.is_current:
            raise QaRefused(_("This scorecard is history: re-score the current one."))
        if revision_order(revision) <= revision_order(old.revision):
            raise QaRefused(_("Choose a revision newer than %(number)s.")
                            % {"number": old.revision.number})
        Scorecard.objects.filter(pk=old.pk).update(is_current=False, superseded_at=now)
        new = _score_into(window, revision, None, now)
        Scorecard.objects.filter(pk=old.pk).update(superseded_by=new)
    scorecard.is_current, scorecard.superseded_at, scorecard.superseded_by = False, now, new
    return new

