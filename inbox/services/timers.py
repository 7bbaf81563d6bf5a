"""The clinic's response standard as clocks: 5 working minutes for an answer, 15 for a promise.

A patient message on a conversation that is not already waiting starts a timer; a clinic reply
(not a note, not an automatic message) meets it; "check with the doctor" meets it and starts a
promise timer; "no reply needed" or resolving ends it without a message. At its due time an
exact-time Celery task breaches a still-open timer, and a periodic sweep is the backstop for a
lost task. Every change is a conditional update, so each outcome happens exactly once.

Response time is defined here once, in `response_times`, and stored on the timer: every report
and the quality checklist read those two figures.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from clinic.hours import NoWorkingTime, add_working_minutes, working_minutes_between
from clinic.models import Clinic, Membership, Role
from clinic.selectors import clinic_hours
from inbox.models import (
    OPEN_TIMER,
    Conversation,
    Message,
    MessageKind,
    Notification,
    ResponseTimer,
    TimerKind,
)
from inbox.services.live import inbox_changed

SWEEP_BATCH = 500
_WAITING_CLEARED = {"waiting_since": None, "reply_due_at": None, "waiting_rule": ""}


def _minutes(minutes: int) -> float:
    """A rule's minutes as real minutes (tests shorten RESPONSE_TIMER_UNIT_SECONDS)."""
    return minutes * settings.RESPONSE_TIMER_UNIT_SECONDS / 60


def timer_due(*, clinic: Clinic, kind: str, start: datetime) -> datetime:
    """When a timer started at `start` is due: working minutes for replies (outside working
    hours the clock starts at the next opening or runs in the evening duty), wall-clock
    minutes for a promise."""
    if kind == TimerKind.PROMISE:
        return start + timedelta(minutes=_minutes(clinic.promise_minutes))
    minutes = clinic.first_reply_minutes if kind == TimerKind.FIRST_REPLY else clinic.reply_minutes
    try:
        return add_working_minutes(clinic_hours(clinic=clinic), start, _minutes(minutes))
    except NoWorkingTime:  # a clinic with no working hours at all: count wall-clock minutes
        return start + timedelta(minutes=_minutes(minutes))


@dataclass(frozen=True)
class ResponseTimes:
    wall_seconds: float
    working_seconds: float


def response_times(*, clinic: Clinic, started: datetime, answered: datetime) -> ResponseTimes:
    """The one definition of how long an answer took: from the start of the timer (the
    patient's message, or the promise) to the clinic's reply, in wall-clock time and in the
    clinic's working time."""
    wall = max((answered - started).total_seconds(), 0.0)
    working = working_minutes_between(clinic_hours(clinic=clinic), started, answered) * 60
    return ResponseTimes(wall_seconds=wall, working_seconds=working)


def _waiting(timer: ResponseTimer) -> dict:
    return {"waiting_since": timer.started_at, "reply_due_at": timer.due_at,
            "waiting_rule": timer.kind}


def _start(conversation: Conversation, kind: str, started: datetime, trigger: Message,
           now: datetime) -> ResponseTimer | None:
    """Insert the conversation's one open timer; None if another is open (the constraint)."""
    clinic = conversation.clinic
    timer = ResponseTimer(clinic_id=conversation.clinic_id, conversation=conversation,
                          kind=kind, trigger_message=trigger, started_at=started,
                          due_at=timer_due(clinic=clinic, kind=kind, start=started))
    if timer.due_at - now <= timedelta(seconds=settings.TIMER_ETA_HORIZON_SECONDS):
        timer.eta_queued_at = now
    try:
        with transaction.atomic():
            timer.save()
    except IntegrityError:
        return None
    Conversation.objects.filter(pk=conversation.pk).update(**_waiting(timer))
    if timer.eta_queued_at:
        _breach_at_due_after_commit(timer)
    return timer


def _breach_at_due_after_commit(timer: ResponseTimer) -> None:
    from inbox.tasks import enqueue, timer_breach_task

    transaction.on_commit(lambda: enqueue(timer_breach_task, timer.pk, eta=timer.due_at))


def timer_start_for_patient(*, conversation: Conversation, message: Message, new_dialogue: bool,
                            now: datetime) -> ResponseTimer | None:
    """A patient wrote. Starts a reply timer unless one is already running (a further message
    while waiting does not move the due time). The first answer of a dialogue (a new or
    reopened conversation, or one the clinic has never answered) has its own rule."""
    if ResponseTimer.objects.filter(OPEN_TIMER, conversation=conversation).exists():
        return None
    answered_before = ResponseTimer.objects.filter(conversation=conversation,
                                                   met_at__isnull=False).exists()
    kind = TimerKind.REPLY if answered_before and not new_dialogue else TimerKind.FIRST_REPLY
    started = min(message.provider_timestamp or now, now)
    return _start(conversation, kind, started, message, now)


def timer_meet(*, conversation: Conversation, message: Message, now: datetime) -> bool:
    """A clinic reply to the patient meets the open timer, also after its breach (the final
    answer time is recorded). A second promise does not answer the first one."""
    with transaction.atomic():
        timer = (ResponseTimer.objects.select_for_update(of=("self",))
                 .filter(OPEN_TIMER, conversation=conversation)
                 .select_related("clinic").first())
        if timer is None or (timer.kind == TimerKind.PROMISE
                             and message.kind == MessageKind.PROMISE):
            return False
        times = response_times(clinic=timer.clinic, started=timer.started_at, answered=now)
        ResponseTimer.objects.filter(pk=timer.pk).update(
            met_at=now, met_by=message.author, met_message=message,
            response_seconds=times.wall_seconds, response_working_seconds=times.working_seconds)
        Conversation.objects.filter(pk=conversation.pk).update(**_WAITING_CLEARED)
    return True


def clinic_replied(*, conversation: Conversation, message: Message, now: datetime) -> None:
    """Called for every message the clinic sends by hand: meet the timer; a promise starts
    its own 15-minute clock (unless a promise is already running)."""
    timer_meet(conversation=conversation, message=message, now=now)
    if message.kind == MessageKind.PROMISE:
        _start(conversation, TimerKind.PROMISE, now, message, now)


def timer_dismiss(*, conversation: Conversation, by: object, reason: str,
                  now: datetime) -> bool:
    """End the wait without a message ("no reply needed", or a resolved conversation)."""
    with transaction.atomic():
        ended = ResponseTimer.objects.filter(OPEN_TIMER, conversation=conversation).update(
            dismissed_at=now, dismissed_by=by, dismiss_reason=reason[:200])
        if ended:
            Conversation.objects.filter(pk=conversation.pk).update(**_WAITING_CLEARED)
    return bool(ended)


def timer_breach(*, timer_id: int, now: datetime) -> bool:
    """Record the breach of a timer that is still open and due; False for a stale, early or
    duplicate call. The conditional update makes the breach happen once, even when the
    exact-time task and the sweep race; the notices and the reassignment follow it."""
    assignee = Subquery(Conversation.objects.filter(pk=OuterRef("conversation_id"))
                        .values("assignee_id")[:1])
    with transaction.atomic():
        breached = ResponseTimer.objects.filter(
            OPEN_TIMER, pk=timer_id, breached_at__isnull=True, due_at__lte=now,
        ).update(breached_at=now, assignee_at_breach_id=assignee)
        if not breached:
            return False
        timer = ResponseTimer.objects.select_related(
            "clinic", "conversation__contact", "conversation__patient",
            "assignee_at_breach").get(pk=timer_id)
        _notify(timer, now)
        inbox_changed(timer.clinic_id)
    if timer.clinic.reassign_on_breach:
        from inbox.services.assignment import conversation_reassign_overdue

        conversation_reassign_overdue(conversation_id=timer.conversation_id, now=now)
    return True


def _notify(timer: ResponseTimer, now: datetime) -> None:
    conversation = timer.conversation
    who = (conversation.patient.full_name if conversation.patient
           else str(conversation.contact))
    text = _("Reply overdue: %(who)s (%(rule)s)") % {"who": who,
                                                     "rule": timer.get_kind_display()}
    managers = Membership.objects.filter(clinic_id=timer.clinic_id,
                                         role__in=[Role.MANAGER, Role.OWNER])
    users = set(managers.values_list("user_id", flat=True))
    if timer.assignee_at_breach_id:
        users.add(timer.assignee_at_breach_id)
    Notification.objects.bulk_create(
        [Notification(clinic_id=timer.clinic_id, user_id=user_id, conversation=conversation,
                      timer=timer, text=text[:300], created_at=now) for user_id in users],
        ignore_conflicts=True)


@dataclass
class SweepResult:
    breached: int = 0
    queued: int = 0


def timers_sweep(*, now: datetime) -> SweepResult:
    """The backstop, run by beat every few seconds.

    1. Breach open timers past due in each clinic whose sweep interval has come round: a lost
       task, a restarted worker or a broker outage delays a breach by at most one interval.
    2. Queue the exact-time task for timers whose due time has come near enough for the
       broker (see TIMER_ETA_HORIZON_SECONDS), so far-away due times are breached on time too.
    """
    result = SweepResult()
    due = list(ResponseTimer.objects.filter(OPEN_TIMER, breached_at__isnull=True,
                                            due_at__lte=now)
               .order_by("due_at").values_list("pk", "clinic_id")[:SWEEP_BATCH])
    if due:
        clinics = Clinic.objects.filter(pk__in={clinic_id for _, clinic_id in due})
        turn = {c.pk for c in clinics.only("timers_swept_at", "timer_sweep_seconds")
                if c.timers_swept_at is None
                or now - c.timers_swept_at >= timedelta(seconds=c.timer_sweep_seconds)}
        Clinic.objects.filter(pk__in=turn).update(timers_swept_at=now)
        result.breached = sum(timer_breach(timer_id=pk, now=now)
                              for pk, clinic_id in due if clinic_id in turn)
    horizon = now + timedelta(seconds=settings.TIMER_ETA_HORIZON_SECONDS)
    near = list(ResponseTimer.objects.filter(OPEN_TIMER, breached_at__isnull=True,
                                             eta_queued_at__isnull=True, due_at__gt=now,
                                             due_at__lte=horizon)
                .values_list("pk", "due_at")[:SWEEP_BATCH])
    from inbox.tasks import enqueue, timer_breach_task

    for pk, due_at in near:
        if ResponseTimer.objects.filter(pk=pk, eta_queued_at__isnull=True).update(
                eta_queued_at=now):
            enqueue(timer_breach_task, pk, eta=due_at)
            result.queued += 1
    return result
