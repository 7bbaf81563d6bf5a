"""Response-time figures from the ResponseTimer rows: the today page reads them here.

The answer time of a timer is stored on it when it is met (inbox.services.timers.response_times),
so every page and the quality checklist show the same figures.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from clinic.models import Clinic
from inbox.models import Conversation, ConversationStatus, ResponseTimer, TimerKind


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


@dataclass
class Figures:
    """One row of the today page: the clinic, or one administrator."""

    waiting_now: int = 0
    first_reply_working: list[float] = field(default_factory=list)
    first_reply_wall: list[float] = field(default_factory=list)
    met_in_time: int = 0
    breached: int = 0
    dismissed: int = 0
    promises: int = 0
    promises_kept: int = 0

    @property
    def median_first_reply(self) -> float | None:
        return percentile(self.first_reply_working, 50)

    @property
    def p90_first_reply(self) -> float | None:
        return percentile(self.first_reply_working, 90)

    @property
    def median_first_reply_wall(self) -> float | None:
        return percentile(self.first_reply_wall, 50)

    @property
    def p90_first_reply_wall(self) -> float | None:
        return percentile(self.first_reply_wall, 90)


@dataclass
class TodayReport:
    since: datetime
    clinic: Figures
    people: dict[int, Figures]  # by user id


def _day_start(clinic: Clinic, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(clinic.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def today_report(*, clinic: Clinic, now: datetime) -> TodayReport:
    """Timers started since local midnight; "waiting now" counts the live conversations.

    A met timer counts for whoever answered it; a breach for whoever held the conversation
    at the breach; a promise for whoever made it. Reply times are working time (the rule's
    measure), with wall-clock time beside them.
    """
    since = _day_start(clinic, now)
    report = TodayReport(since=since, clinic=Figures(), people={})

    def rows_for(user_id: int | None) -> list[Figures]:
        if user_id is None:
            return [report.clinic]
        return [report.clinic, report.people.setdefault(user_id, Figures())]

    waiting = (Conversation.objects.filter(clinic=clinic, reply_due_at__isnull=False)
               .exclude(status=ConversationStatus.RESOLVED).values_list("assignee_id", flat=True))
    for assignee_id in waiting:
        for figures in rows_for(assignee_id):
            figures.waiting_now += 1
    timers = (ResponseTimer.objects.filter(clinic=clinic, started_at__gte=since,
                                           started_at__lt=since + timedelta(days=1))
              .filter(Q(met_at__isnull=False) | Q(breached_at__isnull=False)
                      | Q(dismissed_at__isnull=False) | Q(kind=TimerKind.PROMISE))
              .values_list("kind", "met_by_id", "assignee_at_breach_id",
                           "trigger_message__author_id", "met_at", "breached_at",
                           "dismissed_at", "response_seconds", "response_working_seconds"))
    for (kind, met_by, at_breach, promised_by, met_at, breached_at, dismissed_at, wall,
         working) in timers:
        if kind == TimerKind.PROMISE:
            for figures in rows_for(promised_by):
                figures.promises += 1
                figures.promises_kept += bool(met_at and not breached_at)
        if met_at and not breached_at:
            for figures in rows_for(met_by):
                figures.met_in_time += 1
        if breached_at:
            for figures in rows_for(at_breach):
                figures.breached += 1
        if dismissed_at:
            report.clinic.dismissed += 1
        if kind == TimerKind.FIRST_REPLY and met_at:
            for figures in rows_for(met_by):
                figures.first_reply_working.append(working)
                figures.first_reply_wall.append(wall)
    return report
