"""Reads for the owner's pages: rules, the audience a rule would reach, the delivery log and
each rule's results."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from campaigns.models import (
    Confirmation,
    Dispatch,
    DispatchStatus,
    Rule,
    RuleRevision,
    SkipReason,
)
from campaigns.services.dispatcher import (
    Context,
    Defer,
    Stop,
    dispatch_route,
    dispatch_text,
)
from campaigns.services.planner import occurrences
from campaigns.services.rules import campaign_settings
from campaigns.windows import send_time, send_window
from clinic.models import Clinic, ConsentEvent, ConsentSource, Patient
from inbox.models import DeliveryStatus
from scheduling.models import Appointment, AppointmentStatus

AUDIENCE_DAYS = 7
AUDIENCE_LIMIT = 300


def rule_list(*, clinic: Clinic) -> QuerySet[Rule]:
    return Rule.objects.filter(clinic=clinic)


def rule_get(*, clinic: Clinic, pk: int) -> Rule | None:
    return Rule.objects.filter(clinic=clinic, pk=pk).select_related("clinic").first()


@dataclass(frozen=True)
class AudienceRow:
    patient: Patient
    when: datetime | None  # when it would go out (None: it would not)
    channel: str
    text: str
    reason: str  # why it would not be sent (a SkipReason or a DispatchStatus); "" when it would
    detail: str

    @property
    def skipped(self) -> str:
        return reason_label(self.reason)


@dataclass(frozen=True)
class Audience:
    rows: list[AudienceRow]
    total: int  # occurrences in the period; only the first AUDIENCE_LIMIT are decided
    would_send: int
    skipped: dict[str, int]  # reason code: rows


def rule_audience(*, rule: Rule, now: datetime, days: int = AUDIENCE_DAYS,
                  limit: int = AUDIENCE_LIMIT) -> Audience:
    """Who the rule (as it is now, switched on or not) would reach in the next `days`: each
    occurrence is decided as the dispatcher would decide it at its send time, with today's
    data (consents, bookings, channels). Nothing is written and nothing is sent."""
    settings_ = campaign_settings(clinic=rule.clinic)
    revision = RuleRevision(rule=rule, number=rule.revision,
                            snapshot={"texts": rule.texts})
    found = list(occurrences(rule, now, horizon=timedelta(days=days)))
    patients = Patient.objects.in_bulk([o.patient_id for o in found[:limit]])
    appointments = Appointment.objects.select_related("doctor").in_bulk(
        [o.appointment_id for o in found[:limit] if o.appointment_id])
    dispatches = [Dispatch(clinic=rule.clinic, rule=rule, revision=revision,
                           patient=patients[o.patient_id],
                           appointment=appointments.get(o.appointment_id),
                           occurrence_key=o.key, due_at=o.due_at, send_at=o.due_at,
                           created_at=now) for o in found[:limit]]
    context = Context.load(dispatches, now)
    rows, skipped, would_send = [], {}, 0
    for occurrence, dispatch in zip(found, dispatches, strict=False):
        patient = dispatch.patient
        window = send_window(tz=rule.clinic.timezone, send_from=settings_.send_from,
                             send_until=settings_.send_until, transactional=rule.transactional,
                             time_of_day=patient.preferred_time_of_day,
                             days=patient.preferred_days)
        at = send_time(window, occurrence.due_at, deadline=occurrence.deadline, now=now)
        late = (occurrence.booked_at is not None and occurrence.booked_at
                > occurrence.due_at - timedelta(minutes=rule.do_not_send_within))
        reason, detail, channel, text = "", "", "", ""
        if late or at is None:
            reason = SkipReason.BOOKED_LATE if late else SkipReason.WINDOW
        else:
            try:
                route = dispatch_route(dispatch=dispatch, now=at, context=context)
                channel = route.channel
                text = (_("WhatsApp template “%(name)s”") % {"name": rule.whatsapp_template}
                        if route.template else dispatch_text(dispatch, rule, channel)[0])
            except Stop as stop:
                reason, detail = stop.reason or stop.status, stop.detail
            except Defer as defer:
                reason, detail = defer.reason, defer.detail
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            would_send += 1
        rows.append(AudienceRow(patient, None if reason else at, channel, text, reason, detail))
    return Audience(rows, len(found), would_send, skipped)


def reason_label(reason: str) -> str:
    """The words for a reason code (a SkipReason, else a DispatchStatus such as superseded)."""
    if not reason:
        return ""
    if reason in SkipReason.values:
        return str(SkipReason(reason).label)
    return str(DispatchStatus(reason).label)


def dispatch_log(*, clinic: Clinic, rule_id: int | None = None, status: str = "",
                 reason: str = "", channel: str = "", search: str = "") -> QuerySet[Dispatch]:
    """The delivery log, newest first, with what the page shows loaded."""
    rows = (Dispatch.objects.filter(clinic=clinic)
            .select_related("rule", "patient", "message", "message__conversation"))
    if rule_id:
        rows = rows.filter(rule_id=rule_id)
    if status:
        rows = rows.filter(status=status)
    if reason:
        rows = rows.filter(reason=reason)
    if channel:
        rows = rows.filter(channel=channel)
    if search:
        rows = rows.filter(Q(patient__last_name__icontains=search)
                           | Q(patient__first_name__icontains=search)
                           | Q(patient__phone__contains=search))
    return rows.order_by("-send_at", "-id")


@dataclass(frozen=True)
class RuleResults:
    planned: int
    sent: int
    delivered: int
    read: int
    failed: int
    confirmed: int
    cancelled: int
    rescheduled: int
    booked_within_14_days: int
    opted_out: int
    skipped: dict[str, int]  # reason code (or status): dispatches
    failed_by_reason: dict[str, int]


BOOKED_WITHIN = timedelta(days=14)


def rule_results(*, rule: Rule, since: datetime | None = None) -> RuleResults:
    """What the rule's messages led to, over its dispatches (since `since`): a booking or a
    stop word within 14 days of a message counts for it."""
    rows = Dispatch.objects.filter(rule=rule)
    if since is not None:
        rows = rows.filter(send_at__gte=since)
    sent = rows.filter(status=DispatchStatus.SENT)
    counts = sent.aggregate(
        sent=Count("pk"),
        delivered=Count("pk", filter=Q(message__status__in=(DeliveryStatus.DELIVERED,
                                                            DeliveryStatus.READ))
                        | Q(channel="email")),
        read=Count("pk", filter=Q(message__status=DeliveryStatus.READ)),
        failed=Count("pk", filter=Q(message__status=DeliveryStatus.FAILED)),
        confirmed=Count("pk", filter=Q(confirmation=Confirmation.CONFIRMED)),
        cancelled=Count("pk", filter=Q(confirmation=Confirmation.CANCELLED)),
        rescheduled=Count("pk", filter=Q(confirmation=Confirmation.RESCHEDULE)),
    )
    planned = rows.filter(status__in=(DispatchStatus.PLANNED, DispatchStatus.CLAIMED)).count()
    skipped: dict[str, int] = {}
    for r in (rows.exclude(status__in=(DispatchStatus.SENT, DispatchStatus.PLANNED,
                                          DispatchStatus.CLAIMED))
              .values("status", "reason").annotate(n=Count("pk")).order_by("-n")):
        code = r["reason"] or r["status"]
        skipped[code] = skipped.get(code, 0) + r["n"]
    failed_by_reason = {r["message__error_text"] or r["message__error_code"] or "?": r["n"]
                        for r in sent.filter(message__status=DeliveryStatus.FAILED)
                        .values("message__error_text", "message__error_code")
                        .annotate(n=Count("pk")).order_by("-n")}
    after = {"created_at__gte": OuterRef("sent_at"),
             "created_at__lt": OuterRef("sent_at") + BOOKED_WITHIN}
    booked = sent.filter(Exists(Appointment.objects.filter(
        patient=OuterRef("patient_id"), **after).exclude(
        status=AppointmentStatus.CANCELLED))).count()
    stops = {"recorded_at__gte": OuterRef("sent_at"),
             "recorded_at__lt": OuterRef("sent_at") + BOOKED_WITHIN}
    opted_out = sent.filter(Exists(ConsentEvent.objects.filter(
        patient=OuterRef("patient_id"), source=ConsentSource.STOP, **stops))).count()
    return RuleResults(planned=planned, booked_within_14_days=booked, opted_out=opted_out,
                       skipped=skipped, failed_by_reason=failed_by_reason, **counts)
