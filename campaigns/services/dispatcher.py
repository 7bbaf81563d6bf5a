"""The dispatcher: claims due dispatch rows, decides again at send time, hands the message to
the inbox outbox.

Claiming is a conditional update from "planned" to "claimed" (on Postgres over rows selected
FOR UPDATE SKIP LOCKED, so dispatchers side by side take different rows), and each row is then
decided in its own transaction: consent, exclusions, caps, the send window and the visit's
current time are read again, because any of them may have changed since planning. A message
goes through `inbox.services.outbound.message_send`, so it is written before Celery sees it,
retried until delivered, and lands in the patient's conversation, where the administrator sees
it and the patient's reply arrives. Every skip and every deferral records why.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from campaigns.models import (
    APPOINTMENT_KINDS,
    CampaignSettings,
    Confirmation,
    Dispatch,
    DispatchStatus,
    Rule,
    RuleKind,
    SkipReason,
)
from campaigns.services.planner import LIVE, REMINDER_LAST_CALL, VISITED, key_start
from campaigns.services.reach import Route, route_find
from campaigns.services.rules import campaign_settings
from campaigns.texts import text_pick, text_render, text_values
from campaigns.windows import send_time, send_window
from clinic.models import ConsentEvent
from inbox.models import Channel, ChannelKind, Conversation
from inbox.services.inbound import conversation_for_whatsapp_number
from inbox.services.live import inbox_changes_gathered
from inbox.services.outbound import SendRefused, message_send
from scheduling.models import Appointment

logger = logging.getLogger(__name__)

CLAIM_BATCH = 500
COMMIT_EVERY = 50
CLAIM_STALE = timedelta(minutes=10)
"""A claim older than this belongs to a dispatcher that died: the row is planned again."""
MAX_DEFERRALS = 30
CAP_GIVE_UP = timedelta(days=14)
"""A non-transactional message the caps have held back this long is skipped."""
BUTTONS = {"yes": _("I will come"), "no": _("Cancel the visit"), "move": _("Another time")}
"""The answers a confirmation request offers (Telegram and WhatsApp buttons)."""


@dataclass
class DispatchRun:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        if outcome == DispatchStatus.SENT:
            self.sent += 1
        elif outcome == DispatchStatus.PLANNED:
            self.deferred += 1
        elif outcome:
            self.skipped[outcome] = self.skipped.get(outcome, 0) + 1


@dataclass
class Context:
    """What deciding a batch of dispatches reads, loaded once: each clinic's settings and
    WhatsApp channels, and per patient the consent ledger, the conversations, the recent
    non-transactional sends (for the caps) and whether a visit is booked ahead."""

    settings: dict[int, CampaignSettings]
    whatsapp: dict[int, list[Channel]]
    events: dict[int, list[ConsentEvent]]
    conversations: dict[int, list[Conversation]]
    recent_sends: dict[int, list[datetime]]
    booked_ahead: set[int]

    @classmethod
    def load(cls, dispatches: list[Dispatch], now: datetime) -> "Context":
        clinics = {d.clinic_id: d.clinic for d in dispatches}
        patients = {d.patient_id for d in dispatches}
        events: dict[int, list[ConsentEvent]] = defaultdict(list)
        for event in ConsentEvent.objects.filter(patient_id__in=patients):  # newest first
            events[event.patient_id].append(event)
        conversations: dict[int, list[Conversation]] = defaultdict(list)
        for conversation in (Conversation.objects.filter(patient_id__in=patients)
                             .select_related("channel", "contact")
                             .order_by("-last_message_at")):
            conversations[conversation.patient_id].append(conversation)
        whatsapp: dict[int, list[Channel]] = defaultdict(list)
        for channel in Channel.objects.filter(clinic_id__in=clinics, is_active=True,
                                              kind=ChannelKind.WHATSAPP):
            whatsapp[channel.clinic_id].append(channel)
        recent: dict[int, list[datetime]] = defaultdict(list)
        for patient_id, sent_at in (Dispatch.objects.filter(
                patient_id__in=patients, status=DispatchStatus.SENT,
                sent_at__gt=now - timedelta(days=7))
                .exclude(rule__kind__in=APPOINTMENT_KINDS)
                .values_list("patient_id", "sent_at")):
            recent[patient_id].append(sent_at)
        booked = set(Appointment.objects.filter(patient_id__in=patients, status__in=LIVE,
                                                start__gt=now)
                     .values_list("patient_id", flat=True))
        return cls({pk: campaign_settings(clinic=clinic) for pk, clinic in clinics.items()},
                   whatsapp, events, conversations, recent, booked)

    def sent(self, patient_id: int, at: datetime) -> None:
        self.recent_sends[patient_id].append(at)


class Stop(Exception):  # noqa: N818 — a decision, not an error
    def __init__(self, status: str, reason: str = "", detail: str = "") -> None:
        self.status, self.reason, self.detail = status, reason, detail[:300]


class Defer(Exception):  # noqa: N818
    def __init__(self, until: datetime, reason: str, detail: str = "") -> None:
        self.until, self.reason, self.detail = until, reason, detail[:300]


def _claim(now: datetime, limit: int) -> list[int]:
    due = (Dispatch.objects.filter(status=DispatchStatus.PLANNED, send_at__lte=now)
           .order_by("send_at", "id"))
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(due.select_for_update(skip_locked=True)
                       .values_list("pk", flat=True)[:limit])
            Dispatch.objects.filter(pk__in=ids).update(status=DispatchStatus.CLAIMED,
                                                       claimed_at=now)
        return ids
    # SQLite: one writer at a time; a row is ours only if our update moved it.
    return [pk for pk in due.values_list("pk", flat=True)[:limit]
            if Dispatch.objects.filter(pk=pk, status=DispatchStatus.PLANNED).update(
                status=DispatchStatus.CLAIMED, claimed_at=now)]


def dispatches_process_due(*, now: datetime, limit: int | None = None) -> DispatchRun:
    """Beat's dispatcher pass: everything due now, in claimed batches. What a batch's decisions
    read is loaded once for the batch (`Context`); rows are committed COMMIT_EVERY at a time,
    each in a savepoint of its own, so one bad row undoes only itself."""
    run = DispatchRun()
    Dispatch.objects.filter(status=DispatchStatus.CLAIMED,
                            claimed_at__lt=now - CLAIM_STALE).update(
        status=DispatchStatus.PLANNED, claimed_at=None)
    # A request nobody answered before the visit is over: "no answer".
    Dispatch.objects.filter(confirmation=Confirmation.PENDING,
                            appointment__start__lte=now).update(
        confirmation=Confirmation.EXPIRED)
    while limit is None or run.claimed < limit:
        batch = CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - run.claimed)
        ids = _claim(now, batch)
        if not ids:
            break
        run.claimed += len(ids)
        dispatches = list(_claimed(ids, now))
        context = Context.load(dispatches, now)
        for start in range(0, len(dispatches), COMMIT_EVERY):
            with transaction.atomic(), inbox_changes_gathered():
                for dispatch in dispatches[start:start + COMMIT_EVERY]:
                    run.count(_process(dispatch, context, now))
    return run


def _claimed(ids: list[int], now: datetime):
    return (Dispatch.objects.filter(pk__in=ids, status=DispatchStatus.CLAIMED, claimed_at=now)
            .select_related("rule", "revision", "clinic", "patient", "appointment__doctor")
            .order_by())


def dispatch_send(*, dispatch_id: int, now: datetime) -> str:
    """Decide one claimed dispatch and act on it; returns its new status ("" if not ours)."""
    dispatch = _claimed([dispatch_id], now).first()
    if dispatch is None:
        return ""
    with transaction.atomic():
        return _process(dispatch, Context.load([dispatch], now), now)


class _NotOurs(Exception):  # noqa: N818 — another dispatcher took the row back: undo ours
    pass


def _process(dispatch: Dispatch, context: Context, now: datetime) -> str:
    """Decide, send and record one dispatch in a savepoint; its new status, or ""."""
    try:
        with transaction.atomic():
            _decide(dispatch, context, now)
            _record(dispatch, now)
    except _NotOurs:
        return ""
    except Exception:  # noqa: BLE001 — one bad row must not stop the others
        logger.exception("dispatch %s failed; it is claimed again later", dispatch.pk)
        return ""
    if dispatch.status == DispatchStatus.SENT and not dispatch.rule.transactional:
        context.sent(dispatch.patient_id, now)
    return dispatch.status


def _decide(dispatch: Dispatch, context: Context, now: datetime) -> None:
    try:
        if not dispatch.rule.enabled:
            raise Stop(DispatchStatus.SKIPPED, SkipReason.RULE_OFF)
        route = dispatch_route(dispatch=dispatch, now=now, context=context)
        _send(dispatch, dispatch.rule, route, now)
    except Stop as stop:
        dispatch.status, dispatch.reason, dispatch.detail = stop.status, stop.reason, \
            stop.detail
    except Defer as defer:
        dispatch.deferrals += 1
        if dispatch.deferrals > MAX_DEFERRALS:
            dispatch.status, dispatch.reason = DispatchStatus.SKIPPED, defer.reason
        else:
            dispatch.status, dispatch.send_at = DispatchStatus.PLANNED, defer.until
            dispatch.reason = defer.reason
        dispatch.detail = defer.detail


def _record(dispatch: Dispatch, now: datetime) -> None:
    """Write the outcome, only while the claim is still ours (a claim older than CLAIM_STALE
    may have been given to another dispatcher): otherwise undo this row's savepoint."""
    if not Dispatch.objects.filter(pk=dispatch.pk, status=DispatchStatus.CLAIMED,
                                   claimed_at=now).update(
            status=dispatch.status, reason=dispatch.reason, detail=dispatch.detail,
            send_at=dispatch.send_at, deferrals=dispatch.deferrals, claimed_at=None,
            channel=dispatch.channel, message=dispatch.message, sent_at=dispatch.sent_at,
            confirmation=dispatch.confirmation):
        raise _NotOurs


def _check_occasion(dispatch: Dispatch, rule: Rule, context: Context,
                    now: datetime) -> None:
    """The occasion still stands: the visit at the keyed time, nothing booked since, the day."""
    appointment = dispatch.appointment
    if rule.kind in (RuleKind.REMINDER, RuleKind.CONFIRMATION):
        if appointment is None or appointment.status not in LIVE:
            raise Stop(DispatchStatus.SUPERSEDED, SkipReason.NOT_LIVE)
        if f":{key_start(appointment.start)}:" not in dispatch.occurrence_key:
            raise Stop(DispatchStatus.SUPERSEDED, SkipReason.VISIT_MOVED)
        if now > appointment.start - REMINDER_LAST_CALL:
            raise Stop(DispatchStatus.EXPIRED, SkipReason.TOO_LATE)
        if appointment.created_at > dispatch.due_at - timedelta(
                minutes=rule.do_not_send_within):
            raise Stop(DispatchStatus.SKIPPED, SkipReason.BOOKED_LATE)
        return
    if rule.kind == RuleKind.RECALL and dispatch.patient_id in context.booked_ahead:
        raise Stop(DispatchStatus.SKIPPED, SkipReason.ALREADY_BOOKED)
    if rule.kind in (RuleKind.FOLLOW_UP, RuleKind.PLAN_ADHERENCE) and appointment is not None \
            and Appointment.objects.filter(  # "unless the patient booked themselves"
                patient=dispatch.patient_id, created_at__gt=appointment.end,
                status__in=(*LIVE, *VISITED)).exclude(pk=appointment.pk).exists():
        raise Stop(DispatchStatus.SKIPPED, SkipReason.ALREADY_BOOKED)
    if rule.kind == RuleKind.BIRTHDAY:
        tz = ZoneInfo(dispatch.clinic.timezone)
        if now.astimezone(tz).date() != dispatch.due_at.astimezone(tz).date():
            raise Stop(DispatchStatus.EXPIRED, SkipReason.TOO_LATE)


def _check_patient(dispatch: Dispatch, rule: Rule) -> None:
    patient = dispatch.patient
    if patient.opted_out_all:
        raise Stop(DispatchStatus.SKIPPED, SkipReason.OPTED_OUT)
    if not rule.transactional and patient.open_complaint:
        raise Stop(DispatchStatus.SKIPPED, SkipReason.OPEN_COMPLAINT)
    if not rule.transactional and patient.left_unhappy:
        raise Stop(DispatchStatus.SKIPPED, SkipReason.LEFT_UNHAPPY)


def _check_window(dispatch: Dispatch, rule: Rule, settings_: CampaignSettings,
                  now: datetime) -> None:
    patient = dispatch.patient
    window = send_window(tz=dispatch.clinic.timezone, send_from=settings_.send_from,
                         send_until=settings_.send_until, transactional=rule.transactional,
                         time_of_day=patient.preferred_time_of_day,
                         days=patient.preferred_days)
    deadline = (dispatch.appointment.start - REMINDER_LAST_CALL
                if rule.transactional and dispatch.appointment else None)
    at = send_time(window, now, deadline=deadline, now=now)
    if at is None:
        raise Stop(DispatchStatus.EXPIRED, SkipReason.WINDOW)
    if at > now:
        raise Defer(at, SkipReason.WINDOW)


def _check_caps(dispatch: Dispatch, rule: Rule, settings_: CampaignSettings, context: Context,
                now: datetime) -> None:
    """At most `daily_cap` a day and `weekly_cap` a week of non-transactional messages."""
    if rule.transactional:
        return
    sent = sorted((at for at in context.recent_sends.get(dispatch.patient_id, ())
                   if at > now - timedelta(days=7)), reverse=True)
    day = [at for at in sent if at > now - timedelta(days=1)]
    until = None
    if len(day) >= settings_.daily_cap:
        until = day[settings_.daily_cap - 1] + timedelta(days=1)
    if len(sent) >= settings_.weekly_cap:
        until = max(until or now, sent[settings_.weekly_cap - 1] + timedelta(days=7))
    if until is None:
        return
    if until - dispatch.due_at > CAP_GIVE_UP:
        raise Stop(DispatchStatus.SKIPPED, SkipReason.CAP)
    raise Defer(until, SkipReason.CAP)


def dispatch_route(*, dispatch: Dispatch, now: datetime,
                   context: Context | None = None) -> Route:
    """Everything checked at send time; the way to the patient, or Stop / Defer."""
    context = context or Context.load([dispatch], now)
    rule, patient = dispatch.rule, dispatch.patient
    settings_ = context.settings[dispatch.clinic_id]
    _check_occasion(dispatch, rule, context, now)
    _check_patient(dispatch, rule)
    _check_window(dispatch, rule, settings_, now)
    _check_caps(dispatch, rule, settings_, context, now)
    search = route_find(patient=patient, rule=rule, settings_=settings_,
                        events=context.events.get(patient.pk, []),
                        conversations=context.conversations.get(patient.pk, []),
                        whatsapp_channels=context.whatsapp.get(dispatch.clinic_id, []), now=now)
    if search.route is None:
        # Reachable but without consent is "no consent"; not reachable at all, "no channel".
        reason = SkipReason.NO_CONSENT if search.no_consent else SkipReason.NO_CHANNEL
        raise Stop(DispatchStatus.SKIPPED, reason, search.why)
    return search.route


def dispatch_text(dispatch: Dispatch, rule: Rule, channel: str) -> tuple[str, dict[str, str]]:
    """The message's words for this channel, as the dispatch's revision has them."""
    patient, appointment = dispatch.patient, dispatch.appointment
    visit = appointment.start if appointment and rule.transactional else None
    doctor = appointment.doctor.name if appointment and rule.transactional else ""
    revision_texts = dispatch.revision.snapshot.get("texts") or rule.texts
    text = text_pick(texts=revision_texts, language=patient.language, channel=channel)
    values = text_values(patient=patient, clinic=dispatch.clinic, visit=visit,
                         doctor_name=doctor, language=patient.language)
    return text_render(text, values), values


def _send(dispatch: Dispatch, rule: Rule, route: Route, now: datetime) -> None:
    text, values = dispatch_text(dispatch, rule, route.channel)
    if not text and not route.template:
        raise Stop(DispatchStatus.SKIPPED, SkipReason.NO_TEXT)
    asks = rule.kind == RuleKind.CONFIRMATION or rule.ask_confirmation
    if route.channel == "email":
        try:
            send_mail(dispatch.clinic.name, text, settings.EMAIL_FROM, [dispatch.patient.email])
        except Exception as error:  # noqa: BLE001 — the mail server's refusal, recorded
            raise Stop(DispatchStatus.SKIPPED, SkipReason.SEND_REFUSED, str(error)) from error
    else:
        conversation = route.conversation or conversation_for_whatsapp_number(
            channel=route.whatsapp_channel, patient=dispatch.patient)
        buttons = None
        if asks and not route.template and route.channel != ChannelKind.WEBCHAT:
            with translation.override(dispatch.patient.language):
                buttons = [(f"cf:{dispatch.pk}:{key}", str(title))
                           for key, title in BUTTONS.items()]
        params = [text_render(f"{{{name}}}", values) for name in rule.whatsapp_params]
        try:
            dispatch.message = message_send(
                conversation=conversation, author=None, text="" if route.template else text,
                buttons=buttons, template=rule.whatsapp_template if route.template else "",
                template_params=params, automatic="campaign", now=now)
        except SendRefused as error:
            raise Stop(DispatchStatus.SKIPPED, SkipReason.SEND_REFUSED, str(error)) from error
    dispatch.status, dispatch.reason, dispatch.detail = DispatchStatus.SENT, "", ""
    dispatch.channel, dispatch.sent_at = route.channel, now
    if asks:
        dispatch.confirmation = Confirmation.PENDING
