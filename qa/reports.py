"""Reads for the quality pages that the selectors do not cover: list rows with their failed
items counted, the CSV export, the managers' comments for "My quality", and the dashboard
figures per administrator beside the clinic's.

Every function takes the clinic and, where figures depend on it, `now`; the dashboard covers
the last PERIOD_WEEKS weeks of the clinic's own calendar (weeks start on Monday, local time).
Aggregation happens in the database where it is a plain GROUP BY; the one thing done in Python
is the percentile of first-reply times, with the same helper (and the same ResponseTimer rows)
as the today page, so the two pages can never disagree.
"""

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncWeek

from clinic.models import Clinic
from inbox.models import ResponseTimer, TimerKind
from inbox.reports import Figures
from qa.checklist import CODES
from qa.models import AckState, ItemOverride, ItemResult, Scorecard, ScorecardItem

PERIOD_WEEKS = 12
CSV_CHUNK = 500


# --- Lists ----------------------------------------------------------------------------------

def scorecard_rows(scorecards: QuerySet[Scorecard]) -> QuerySet[Scorecard]:
    """A scorecard list with `failed_count` (items whose effective result is "fail"), counted
    by a subquery so the list's joins stay as they are."""
    failed = (ScorecardItem.objects.filter(scorecard=OuterRef("pk"), result=ItemResult.FAIL)
              .order_by().values("scorecard").annotate(n=Count("pk")).values("n"))
    return scorecards.annotate(
        failed_count=Coalesce(Subquery(failed, output_field=IntegerField()), 0))


def scorecard_feedback(*, scorecards: Iterable[Scorecard]) -> dict[int, list[ItemOverride]]:
    """The managers' overrides (with their comments) of these scorecards, oldest first, by
    scorecard id: what "My quality" shows under each row. One query for a page."""
    ids = [s.pk for s in scorecards]
    feedback: dict[int, list[ItemOverride]] = defaultdict(list)
    for override in (ItemOverride.objects.filter(item__scorecard_id__in=ids)
                     .select_related("item", "manager").order_by("created_at", "id")):
        feedback[override.item.scorecard_id].append(override)
    return dict(feedback)


# --- CSV ------------------------------------------------------------------------------------

CSV_HEADER = ("scorecard_id", "conversation_id", "date", "scored_at", "administrator_id",
              "administrator", "channel", "outcome", "score", "automatic_score", "revision",
              "engine", "review_state", "ack_state", "satisfaction", *CODES)


class _Echo:
    """A file-like object for csv.writer that hands back each line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula (=, +, -, @ first) is quoted with '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def scorecards_csv(*, clinic: Clinic, scorecards: QuerySet[Scorecard]) -> Iterator[str]:
    """The filtered scorecards as CSV lines (a UTF-8 BOM first, for spreadsheets): the
    scorecard's fields, then one column per checklist code with its effective result (empty
    when the scorecard's revision has no such item). Read in chunks; items prefetched per
    chunk."""
    tz = ZoneInfo(clinic.timezone)
    writer = csv.writer(_Echo())
    items = Prefetch("items", queryset=ScorecardItem.objects.only("scorecard_id", "code",
                                                                  "result"))
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    for s in scorecards.prefetch_related(items).iterator(chunk_size=CSV_CHUNK):
        results = {item.code: item.result for item in s.items.all()}
        admin = s.administrator
        yield writer.writerow([_cell(v) for v in (
            s.pk, s.conversation_id, s.window_end.astimezone(tz).isoformat(),
            s.scored_at.astimezone(tz).isoformat(), s.administrator_id or "",
            (admin.get_full_name() or admin.username) if admin else "", s.channel_kind,
            s.outcome, "" if s.score is None else s.score,
            "" if s.automatic_score is None else s.automatic_score, s.revision.number,
            s.engine_version, s.review_state, s.ack_state,
            "" if s.satisfaction is None else s.satisfaction,
            *(results.get(code, "") for code in CODES))])


# --- Dashboard: the period ------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """The dashboard's weeks: `weeks` are the local Mondays, the last one this week's."""

    start: datetime
    end: datetime
    weeks: tuple[date, ...]


def dashboard_period(*, clinic: Clinic, now: datetime, weeks: int = PERIOD_WEEKS) -> Period:
    tz = ZoneInfo(clinic.timezone)
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    mondays = tuple(monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1))
    return Period(start=datetime.combine(mondays[0], time(), tz), end=now, weeks=mondays)


def _scorecards_in(clinic: Clinic, period: Period) -> QuerySet[Scorecard]:
    return Scorecard.objects.filter(clinic=clinic, is_current=True,
                                    scored_at__gte=period.start, scored_at__lte=period.end)


# --- Dashboard: the weekly score trend ------------------------------------------------------

@dataclass(frozen=True)
class Trend:
    """Average score per week (None for a week without scorecards): the clinic's, and each
    person's by user id."""

    weeks: tuple[date, ...]
    clinic: tuple[float | None, ...]
    people: dict[int, tuple[float | None, ...]]


def score_trend(*, clinic: Clinic, now: datetime, weeks: int = PERIOD_WEEKS) -> Trend:
    """One GROUP BY (week, administrator) over the current scorecards; the clinic's average
    is over all its scorecards of the week (not an average of people's averages)."""
    period = dashboard_period(clinic=clinic, now=now, weeks=weeks)
    tz = ZoneInfo(clinic.timezone)
    rows = (_scorecards_in(clinic, period).filter(score__isnull=False).order_by()
            .annotate(week=TruncWeek("scored_at", tzinfo=tz))
            .values("week", "administrator_id")
            .annotate(total=Sum("score"), n=Count("pk")))
    index = {week: i for i, week in enumerate(period.weeks)}
    clinic_sums = [[Decimal(0), 0] for _ in period.weeks]
    people: dict[int, list[float | None]] = {}
    for row in rows:
        week = row["week"]
        i = index.get(week.astimezone(tz).date() if isinstance(week, datetime) else week)
        if i is None:
            continue
        clinic_sums[i][0] += row["total"]
        clinic_sums[i][1] += row["n"]
        if row["administrator_id"] is not None:
            line = people.setdefault(row["administrator_id"], [None] * len(period.weeks))
            line[i] = float(row["total"] / row["n"])
    return Trend(weeks=period.weeks,
                 clinic=tuple(float(total / n) if n else None for total, n in clinic_sums),
                 people={user_id: tuple(line) for user_id, line in people.items()})


# --- Dashboard: the chart (drawn on the server as SVG) --------------------------------------

@dataclass(frozen=True)
class ChartDot:
    x: str
    y: str
    title: str


@dataclass(frozen=True)
class ChartSeries:
    label: str
    css: str
    lines: tuple[str, ...]  # SVG polyline `points`, one per run of weeks with a value
    dots: tuple[ChartDot, ...]


@dataclass(frozen=True)
class ChartTick:
    at: str
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: tuple[ChartSeries, ...]
    y_ticks: tuple[ChartTick, ...]
    x_ticks: tuple[ChartTick, ...]
    threshold: str | None  # the y of the review threshold line


def _n(value: float) -> str:
    """A coordinate for an SVG attribute: always a dot, never the locale's comma."""
    return f"{value:.1f}"


def trend_chart(*, weeks: tuple[date, ...],
                series: list[tuple[str, str, tuple[float | None, ...]]],
                threshold: float | None = None, width: int = 720,
                height: int = 240) -> Chart:
    """Scores 0–100 against the weeks. `series` is (label, css class, values per week); a
    week without a value breaks the line, and a lone week is a dot."""
    left, right, top, bottom = 36, width - 12, 12, height - 28
    step = (right - left) / max(len(weeks) - 1, 1)

    def x(i: int) -> float:
        return left + i * step

    def y(value: float) -> float:
        return bottom - (bottom - top) * max(0.0, min(value, 100.0)) / 100

    drawn = []
    for label, css, values in series:
        lines: list[str] = []
        run: list[str] = []
        dots = []
        for i, value in enumerate(values):
            if value is None:
                if len(run) > 1:
                    lines.append(" ".join(run))
                run = []
                continue
            point = f"{_n(x(i))},{_n(y(value))}"
            run.append(point)
            dots.append(ChartDot(_n(x(i)), _n(y(value)),
                                 f"{label}, {weeks[i]:%d.%m}: {value:.1f}"))
        if len(run) > 1:
            lines.append(" ".join(run))
        drawn.append(ChartSeries(label=label, css=css, lines=tuple(lines), dots=tuple(dots)))
    y_ticks = tuple(ChartTick(_n(y(v)), str(v)) for v in (0, 25, 50, 75, 100))
    x_ticks = tuple(ChartTick(_n(x(i)), f"{week:%d.%m}") for i, week in enumerate(weeks)
                    if i % 2 == (len(weeks) - 1) % 2)  # every other week, this one included
    return Chart(width=width, height=height, left=left, right=right, top=top, bottom=bottom,
                 series=tuple(drawn), y_ticks=y_ticks, x_ticks=x_ticks,
                 threshold=None if threshold is None else _n(y(threshold)))


# --- Dashboard: per-item fail rates ---------------------------------------------------------

@dataclass(frozen=True)
class ItemRate:
    """How often an item failed where it applied: the clinic's, and one person's."""

    code: str
    title: str
    clinic_failed: int
    clinic_applicable: int
    failed: int = 0
    applicable: int = 0

    @staticmethod
    def _rate(failed: int, applicable: int) -> float | None:
        return 100 * failed / applicable if applicable else None

    @property
    def clinic_rate(self) -> float | None:
        return self._rate(self.clinic_failed, self.clinic_applicable)

    @property
    def rate(self) -> float | None:
        return self._rate(self.failed, self.applicable)

    @property
    def clinic_bar(self) -> str:
        return _n(self.clinic_rate or 0)

    @property
    def bar(self) -> str:
        return _n(self.rate or 0)


def item_fail_rates(*, clinic: Clinic, now: datetime, user: Any = None,
                    weeks: int = PERIOD_WEEKS) -> list[ItemRate]:
    """Per checklist item, in checklist order: failed / applicable (not "na") effective
    results over the period's current scorecards, the clinic's and `user`'s. One query."""
    period = dashboard_period(clinic=clinic, now=now, weeks=weeks)
    applicable = ~Q(result=ItemResult.NA)
    failed = Q(result=ItemResult.FAIL)
    mine = Q(scorecard__administrator=user) if user is not None else Q(pk__in=[])
    rows = (ScorecardItem.objects
            .filter(scorecard__in=_scorecards_in(clinic, period)).order_by()
            .values("code")
            .annotate(position=Min("position"), title=Max("title"),
                      clinic_applicable=Count("pk", filter=applicable),
                      clinic_failed=Count("pk", filter=failed),
                      applicable=Count("pk", filter=applicable & mine),
                      failed=Count("pk", filter=failed & mine)))
    return [ItemRate(**{k: v for k, v in row.items() if k != "position"})
            for row in sorted(rows, key=lambda r: (r["position"], r["code"]))]


# --- Dashboard: one summary per person and the clinic's -------------------------------------

@dataclass
class Summary:
    """A person's (or the clinic's) figures over the period."""

    scorecards: int = 0
    scored: int = 0  # scorecards with a score (some have no applicable item)
    score_total: Decimal = Decimal(0)
    disputes: int = 0
    rated: int = 0
    satisfaction_total: int = 0
    response: Figures = field(default_factory=Figures)

    @property
    def average_score(self) -> float | None:
        return float(self.score_total / self.scored) if self.scored else None

    @property
    def average_satisfaction(self) -> float | None:
        return self.satisfaction_total / self.rated if self.rated else None

    @property
    def promises_kept_share(self) -> float | None:
        r = self.response
        return 100 * r.promises_kept / r.promises if r.promises else None

    @property
    def dispute_share(self) -> float | None:
        return 100 * self.disputes / self.scorecards if self.scorecards else None


@dataclass(frozen=True)
class Summaries:
    clinic: Summary
    people: dict[int, Summary]  # by user id; only people with any figure

    def of(self, user_id: int) -> Summary:
        return self.people.get(user_id) or Summary()


def summaries(*, clinic: Clinic, now: datetime, weeks: int = PERIOD_WEEKS) -> Summaries:
    """Scorecards, average score, disputes and patients' ratings (one GROUP BY), first-reply
    times in working seconds (the met first-reply timers, counted for whoever answered, as on
    the today page) and promises kept (one GROUP BY, counted for whoever promised)."""
    period = dashboard_period(clinic=clinic, now=now, weeks=weeks)
    clinic_summary = Summary()
    people: dict[int, Summary] = {}

    def rows_for(user_id: int | None) -> list[Summary]:
        if user_id is None:
            return [clinic_summary]
        return [clinic_summary, people.setdefault(user_id, Summary())]

    cards = (_scorecards_in(clinic, period).order_by().values("administrator_id")
             .annotate(n=Count("pk"), scored=Count("score"), total=Sum("score"),
                       disputes=Count("pk", filter=Q(ack_state=AckState.DISPUTED)),
                       rated=Count("satisfaction"), rating=Sum("satisfaction")))
    for row in cards:
        for s in rows_for(row["administrator_id"]):
            s.scorecards += row["n"]
            s.scored += row["scored"]
            s.score_total += row["total"] or 0
            s.disputes += row["disputes"]
            s.rated += row["rated"]
            s.satisfaction_total += row["rating"] or 0

    timers = ResponseTimer.objects.filter(clinic=clinic, started_at__gte=period.start,
                                          started_at__lte=period.end)
    first_replies = (timers.filter(kind=TimerKind.FIRST_REPLY, met_at__isnull=False,
                                   response_working_seconds__isnull=False)
                     .values_list("met_by_id", "response_working_seconds"))
    for met_by, working in first_replies:
        for s in rows_for(met_by):
            s.response.first_reply_working.append(working)
    promises = (timers.filter(kind=TimerKind.PROMISE).order_by()
                .values("trigger_message__author_id")
                .annotate(n=Count("pk"), kept=Count("pk", filter=Q(met_at__isnull=False,
                                                                  breached_at__isnull=True))))
    for row in promises:
        for s in rows_for(row["trigger_message__author_id"]):
            s.response.promises += row["n"]
            s.response.promises_kept += row["kept"]
    return Summaries(clinic=clinic_summary, people=people)
