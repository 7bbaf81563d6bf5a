"""The owner's campaign pages: the rules with their on/off switch, a rule's form with a live
preview and the audience of the next 7 days, the delivery log, each rule's results and the
clinic's campaign settings.

Owners create, change and switch rules and change the settings; managers see the rules, the log
and the results read-only (a POST from them is a 403, as is every page for an administrator).
Everything is the current clinic's: another clinic's rule is a 404.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from campaigns.forms import (
    CHANNEL_LABELS,
    KIND_DESCRIPTIONS,
    LANGUAGE_LABELS,
    CampaignSettingsForm,
    LogFilterForm,
    RuleForm,
    kind_shape,
    rule_draft,
    rule_summary,
)
from campaigns.models import (
    CampaignSettings,
    Confirmation,
    Dispatch,
    DispatchStatus,
    Rule,
    RuleKind,
    RuleRevision,
)
from campaigns.selectors import (
    Audience,
    dispatch_log,
    reason_label,
    rule_audience,
    rule_get,
    rule_list,
    rule_results,
)
from campaigns.services.dispatcher import BUTTONS
from campaigns.services.planner import LIVE
from campaigns.services.rules import (
    campaign_settings,
    campaign_settings_update,
    rule_create,
    rule_defaults_create,
    rule_switch,
    rule_update,
)
from campaigns.texts import LANGUAGES, text_render, text_values
from clinic import clock
from clinic.access import clinic_view
from clinic.models import Clinic, Patient, Role
from clinic.selectors import MESSAGE_CHANNELS
from inbox.models import Channel, ChannelKind
from scheduling.models import Appointment
from scheduling.selectors import doctor_list, service_list

PAGE_SIZE = 50
RECENT = timedelta(days=30)
PERIODS = (30, 90, 365)


def _rule(request: HttpRequest, rule_id: int) -> Rule:
    rule = rule_get(clinic=request.clinic, pk=rule_id)
    if rule is None:
        raise Http404
    return rule


def _is_owner(request: HttpRequest) -> bool:
    return request.membership.has_role(Role.OWNER)


# --- The rules ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    summary: str
    sent: int
    confirmed: int


def _recent_counts(clinic: Clinic, now: datetime) -> dict[int, tuple[int, int]]:
    """Per rule: messages sent in the last 30 days and how many of them were confirmed."""
    rows = (Dispatch.objects.filter(clinic=clinic, status=DispatchStatus.SENT,
                                    sent_at__gte=now - RECENT)
            .values("rule_id")
            .annotate(sent=Count("pk"),
                      confirmed=Count("pk", filter=Q(confirmation=Confirmation.CONFIRMED))))
    return {r["rule_id"]: (r["sent"], r["confirmed"]) for r in rows}


def _row(rule: Rule, counts: dict[int, tuple[int, int]]) -> RuleRow:
    sent, confirmed = counts.get(rule.pk, (0, 0))
    return RuleRow(rule, rule_summary(rule), sent, confirmed)


@clinic_view(Role.MANAGER)
def index(request: HttpRequest) -> HttpResponse:
    """The clinic's rules, each with its switch and the last 30 days' figures. An owner's first
    visit gives a clinic made before campaigns existed its default rules (all off)."""
    clinic, now = request.clinic, clock.now()
    if _is_owner(request):
        rule_defaults_create(clinic=clinic, now=now)
    counts = _recent_counts(clinic, now)
    current = CampaignSettings.objects.filter(clinic=clinic).first()
    return render(request, "campaigns/index.html", {
        "rows": [_row(rule, counts) for rule in rule_list(clinic=clinic)],
        "can_edit": _is_owner(request), "campaign_settings": current,
        "settings_channels": _channel_names(current.channel_order) if current else "",
    })


def _channel_names(order: list[str]) -> str:
    return ", ".join(str(CHANNEL_LABELS.get(c, c)) for c in order)


@require_POST
@vary_on_headers("HX-Request")
@clinic_view(Role.OWNER)
def switch(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Switch a rule on or off; htmx gets the rule's row again."""
    rule = rule_switch(rule=_rule(request, rule_id), enabled=request.POST.get("enabled") == "1",
                       by=request.user, now=clock.now())
    if request.htmx:
        return render(request, "campaigns/index.html#rule-row", {
            "row": _row(rule, _recent_counts(request.clinic, clock.now())), "can_edit": True})
    if rule.enabled:
        messages.success(request, _("“%(name)s” is on.") % {"name": rule.name})
    else:
        messages.success(request, _("“%(name)s” is off.") % {"name": rule.name})
    return redirect("campaigns:index")


# --- A rule's form -------------------------------------------------------------------------------

def _whatsapp_templates(clinic: Clinic) -> dict[str, list[str]]:
    """The approved template names of the clinic's WhatsApp numbers, with their parameters."""
    templates: dict[str, list[str]] = {}
    for channel in Channel.objects.filter(clinic=clinic, kind=ChannelKind.WHATSAPP,
                                          is_active=True).order_by("pk"):
        for template in channel.whatsapp_templates or []:
            name = template.get("name") if isinstance(template, dict) else None
            if name and name not in templates:
                templates[name] = [str(p) for p in template.get("params") or []]
    return templates


def _form(request: HttpRequest, rule: Rule, data: Any = None) -> RuleForm:
    clinic = request.clinic
    return RuleForm(data, rule=rule,
                    services=list(service_list(clinic=clinic, active_only=False)),
                    doctors=list(doctor_list(clinic=clinic, active_only=False)),
                    templates=_whatsapp_templates(clinic))


@dataclass(frozen=True)
class Sample:
    """Whom the preview is written to: a real patient with an upcoming visit, or a made-up
    one (never saved)."""

    patient: Patient
    visit: datetime
    doctor_name: str
    real: bool


def _sample(clinic: Clinic, now: datetime) -> Sample:
    upcoming = (Appointment.objects.filter(clinic=clinic, status__in=LIVE, start__gt=now)
                .select_related("patient", "doctor").order_by("start", "pk").first())
    if upcoming is not None:
        return Sample(upcoming.patient, upcoming.start, upcoming.doctor.name, True)
    tz = ZoneInfo(clinic.timezone)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    patient = Patient(clinic=clinic, last_name="Иванова", first_name="Мария",
                      patronymic="Петровна")
    return Sample(patient, datetime.combine(tomorrow, time(10, 0), tzinfo=tz),
                  "Петров Иван Сергеевич", False)


@dataclass(frozen=True)
class PreviewText:
    channel: str  # "" for the common text
    text: str


@dataclass(frozen=True)
class PreviewLanguage:
    code: str
    label: str
    texts: list[PreviewText]
    buttons: list[str]  # a confirmation request's answers, in this language


@dataclass(frozen=True)
class Preview:
    sample: Sample
    languages: list[PreviewLanguage]
    template: str
    template_values: list[str]
    errors: list[str]
    about_visit: bool  # the texts may name the visit's time and place


def _preview(*, clinic: Clinic, kind: str, texts: dict[str, dict[str, str]], template: str,
             params: list[str], sample: Sample, asks: bool,
             errors: list[str] | None = None) -> Preview:
    """The rule's words as the sample patient would read them, per language and channel."""
    transactional = kind_shape(kind).transactional
    values = {code: text_values(patient=sample.patient, clinic=clinic,
                                visit=sample.visit if transactional else None,
                                doctor_name=sample.doctor_name if transactional else "",
                                language=code) for code in LANGUAGES}
    languages = []
    for code in LANGUAGES:
        by_channel = texts.get(code) or {}
        shown = [PreviewText(str(CHANNEL_LABELS.get(channel, "")) if channel else "",
                             text_render(text, values[code]))
                 for channel, text in sorted(by_channel.items(), key=lambda i: i[0] != "")
                 if text]
        with translation.override(code):
            buttons = [str(title) for title in BUTTONS.values()] if asks else []
        languages.append(PreviewLanguage(code, str(LANGUAGE_LABELS[code]), shown, buttons))
    template_values = [text_render(f"{{{name}}}", values["ru"]) for name in params]
    return Preview(sample, languages, template, template_values, errors or [], transactional)


def _form_texts(form: RuleForm) -> dict[str, dict[str, str]]:
    """The texts as typed (the form may not be valid yet)."""
    texts: dict[str, dict[str, str]] = {}
    for code in LANGUAGES:
        for channel in ("", *MESSAGE_CHANNELS):
            name = f"text_{code}_{channel}" if channel else f"text_{code}"
            text = (form.data.get(name) or "").strip() if name in form.fields else ""
            if text:
                texts.setdefault(code, {})[channel] = text
    return texts


def _form_preview(request: HttpRequest, form: RuleForm, sample: Sample) -> Preview:
    valid = form.is_valid()
    params = form.cleaned_data.get("whatsapp_params", []) if valid else []
    errors = [] if valid else [f"{form.fields[name].label or name}: {error}"
                               if name in form.fields else str(error)
                               for name, field_errors in form.errors.items()
                               for error in field_errors]
    asks = form.kind == RuleKind.CONFIRMATION or (
        "ask_confirmation" in form.fields and bool(form.data.get("ask_confirmation")))
    return _preview(clinic=request.clinic, kind=form.kind, texts=_form_texts(form),
                    template=form.data.get("whatsapp_template", "") if "whatsapp_template"
                    in form.fields else "", params=params, sample=sample, asks=asks,
                    errors=errors)


def _rule_preview(request: HttpRequest, rule: Rule, sample: Sample) -> Preview:
    return _preview(clinic=request.clinic, kind=rule.kind, texts=rule.texts or {},
                    template=rule.whatsapp_template, params=list(rule.whatsapp_params),
                    sample=sample, asks=rule.kind == RuleKind.CONFIRMATION
                    or (rule.kind == RuleKind.REMINDER and rule.ask_confirmation))


@dataclass(frozen=True)
class AudienceLine:
    patient: Patient
    when: datetime | None
    channel: str
    text: str
    skipped: str  # the reason's label
    reason: str  # its code (a SkipReason or a DispatchStatus value)
    detail: str


@dataclass(frozen=True)
class AudienceView:
    total: int
    decided: int
    would_send: int
    skipped: list[tuple[str, str, int]]  # (label, code, count)
    lines: list[AudienceLine]


def _audience_view(audience: Audience) -> AudienceView:
    lines = [AudienceLine(r.patient, r.when, str(CHANNEL_LABELS.get(r.channel, r.channel)),
                          r.text, r.skipped, r.reason, r.detail)
             for r in audience.rows]
    skipped = [(reason_label(code), code, n) for code, n in
               sorted(audience.skipped.items(), key=lambda i: (-i[1], i[0]))]
    return AudienceView(audience.total, len(audience.rows), audience.would_send, skipped, lines)


def _revisions(rule: Rule) -> list[RuleRevision]:
    if rule.pk is None:
        return []
    return list(RuleRevision.objects.filter(rule=rule).select_related("created_by")
                .order_by("-number"))


def _rule_facts(request: HttpRequest, rule: Rule) -> list[tuple[str, str]]:
    """The rule's settings in words, for the read-only page."""
    shape = kind_shape(rule.kind)
    services = {s.pk: s.name for s in service_list(clinic=request.clinic, active_only=False)}
    doctors = {d.pk: d.name for d in doctor_list(clinic=request.clinic, active_only=False)}
    everyone = _("every one")
    facts = [(_("When"), rule_summary(rule))]
    if shape.transactional:
        facts.append((_("Ask to confirm"), _("yes") if rule.ask_confirmation
                      or rule.kind == RuleKind.CONFIRMATION else _("no")))
        facts.append((_("Not when booked less than this before"),
                      _("%(n)d min") % {"n": rule.do_not_send_within}))
    if shape.services:
        facts.append((_("Services"), ", ".join(services.get(i, f"#{i}")
                                              for i in rule.service_ids) or everyone))
        facts.append((_("Doctors"), ", ".join(doctors.get(i, f"#{i}")
                                             for i in rule.doctor_ids) or everyone))
    if rule.age_min is not None or rule.age_max is not None:
        facts.append((_("Age"), f"{rule.age_min if rule.age_min is not None else '…'}–"
                                f"{rule.age_max if rule.age_max is not None else '…'}"))
    if rule.last_visit_within_days is not None:
        facts.append((_("Last visit within, days"), str(rule.last_visit_within_days)))
    if shape.channels:
        facts.append((_("Channels in order"), _channel_names(rule.channel_order)
                      or _("the clinic's order")))
        if rule.whatsapp_template:
            facts.append((_("WhatsApp template"), f"{rule.whatsapp_template} "
                                                  f"({', '.join(rule.whatsapp_params)})"))
    return facts


def _rule_page(request: HttpRequest, rule: Rule, *, form: RuleForm | None = None,
               audience: Audience | None = None) -> HttpResponse:
    can_edit = _is_owner(request)
    now = clock.now()
    sample = _sample(request.clinic, now)
    if can_edit:
        form = form or _form(request, rule)
        preview = _form_preview(request, form, sample) if form.is_bound \
            else _rule_preview(request, rule, sample)
    else:
        preview = _rule_preview(request, rule, sample)
    return render(request, "campaigns/rule.html", {
        "rule": rule, "is_new": rule.pk is None, "form": form, "can_edit": can_edit,
        "kind_label": RuleKind(rule.kind).label, "shape": kind_shape(rule.kind),
        "preview": preview, "revisions": _revisions(rule),
        "facts": [] if can_edit else _rule_facts(request, rule),
        "dry_run": _audience_view(audience) if audience is not None else None,
        "templates": _whatsapp_templates(request.clinic) if can_edit else {},
    })


def _save_error(form: RuleForm, error: ValidationError) -> None:
    form.add_error(None, "; ".join(error.messages))


@clinic_view(Role.OWNER)
def rule_new(request: HttpRequest, kind: str = "") -> HttpResponse:
    """Choose a kind of rule, then fill in its form (starting from sensible settings)."""
    now = clock.now()
    rule_defaults_create(clinic=request.clinic, now=now)
    if kind not in RuleKind.values:
        if kind:
            raise Http404
        return render(request, "campaigns/new.html", {
            "kinds": [(value, label, KIND_DESCRIPTIONS[value])
                      for value, label in RuleKind.choices]})
    draft = rule_draft(clinic=request.clinic, kind=kind)
    form = None
    if request.method == "POST":
        form = _form(request, draft, request.POST)
        if form.is_valid():
            try:
                rule = rule_create(clinic=request.clinic, by=request.user, now=now, kind=kind,
                                   **form.rule_fields())
            except ValidationError as error:
                _save_error(form, error)
            else:
                messages.success(request, _("The rule is saved. It is off until you switch it "
                                            "on."))
                return redirect("campaigns:rule", rule.pk)
    return _rule_page(request, draft, form=form)


@clinic_view(Role.MANAGER)
def rule_detail(request: HttpRequest, rule_id: int) -> HttpResponse:
    """The owner's form for a rule (a change makes its next revision); read-only for a
    manager."""
    rule = _rule(request, rule_id)
    form = None
    if request.method == "POST":
        if not _is_owner(request):
            raise PermissionDenied
        form = _form(request, rule, request.POST)
        if form.is_valid():
            try:
                updated = rule_update(rule=rule, by=request.user, now=clock.now(),
                                      **form.rule_fields())
            except ValidationError as error:
                _save_error(form, error)
            else:
                if updated.revision != rule.revision:
                    messages.success(request, _("Saved as revision %(n)d.")
                                     % {"n": updated.revision})
                else:
                    messages.success(request, _("Nothing has changed."))
                return redirect("campaigns:rule", rule.pk)
    return _rule_page(request, rule, form=form)


def _kind(kind: str) -> str:
    if kind not in RuleKind.values:
        raise Http404
    return kind


@require_POST
@clinic_view(Role.OWNER)
def preview(request: HttpRequest, kind: str) -> HttpResponse:
    """htmx, as the owner types: the texts as the sample patient would read them."""
    form = _form(request, rule_draft(clinic=request.clinic, kind=_kind(kind)), request.POST)
    sample = _sample(request.clinic, clock.now())
    return render(request, "campaigns/rule.html#preview",
                  {"preview": _form_preview(request, form, sample)})


@require_POST
@clinic_view(Role.OWNER)
def audience(request: HttpRequest, kind: str) -> HttpResponse:
    """htmx: who the rule as typed (not saved) would reach in the next 7 days."""
    form = _form(request, rule_draft(clinic=request.clinic, kind=_kind(kind)), request.POST)
    if not form.is_valid():
        return render(request, "campaigns/rule.html#audience", {"audience_invalid": True})
    found = rule_audience(rule=form.draft(), now=clock.now())
    return render(request, "campaigns/rule.html#audience", {"audience": _audience_view(found)})


@vary_on_headers("HX-Request")
@clinic_view(Role.MANAGER)
def dry_run(request: HttpRequest, rule_id: int) -> HttpResponse:
    """The saved rule's audience for the next 7 days, as the dispatcher would decide it today;
    nothing is written or sent."""
    rule = _rule(request, rule_id)
    found = rule_audience(rule=rule, now=clock.now())
    if request.htmx:
        return render(request, "campaigns/rule.html#audience",
                      {"audience": _audience_view(found), "dry": True})
    return _rule_page(request, rule, audience=found)


# --- The delivery log ----------------------------------------------------------------------------

@dataclass(frozen=True)
class LogRow:
    dispatch: Dispatch
    channel: str


@clinic_view(Role.MANAGER)
def log(request: HttpRequest) -> HttpResponse:
    """Every message the rules planned, sent or skipped, newest first, 50 a page."""
    rules = list(rule_list(clinic=request.clinic))
    form = LogFilterForm(request.GET, rules=rules)
    filters = form.filters()
    rows = dispatch_log(clinic=request.clinic, rule_id=filters.rule_id, status=filters.status,
                        reason=filters.reason, channel=filters.channel, search=filters.search)
    if filters.answer:
        rows = rows.filter(confirmation=filters.answer)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "campaigns/log.html", {
        "form": form, "page": page,
        "rows": [LogRow(d, str(CHANNEL_LABELS.get(d.channel, d.channel)))
                 for d in page.object_list]})


# --- A rule's results ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    value: int
    share: str  # of the first bar, e.g. "80%"; "" for the first bar
    label_x: str
    label_y: str
    x: str
    y: str
    width: str
    value_x: str
    value_y: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bar_height: int
    anchor: str  # of the labels: "end" (left of the bars) or "start" (above them)
    bars: tuple[Bar, ...]


def _n(value: float) -> str:
    """A coordinate for an SVG attribute: always a dot, never the locale's comma."""
    return f"{value:.1f}"


def bar_chart(rows: list[tuple[str, str, int]], *, funnel: bool = False) -> BarChart:
    """Horizontal bars of (key, label, value), drawn on the server as SVG. A funnel centres
    its bars under one another, labels on the left, with each one's share of the first; other
    charts put each label above its bar (reasons can be long)."""
    top = max((value for _key, _label, value in rows), default=0)
    first = rows[0][2] if rows else 0
    if funnel:
        width, left, right, row, bar_height = 720, 170, 600, 34, 24
    else:
        width, left, right, row, bar_height = 520, 0, 460, 40, 14
    bars = []
    for i, (key, label, value) in enumerate(rows):
        length = max((right - left) * value / top if top else 0.0, 1.0 if value else 0.0)
        y = 4 + i * row + (0 if funnel else 18)
        x = left + ((right - left) - length) / 2 if funnel else left
        share = f"{round(100 * value / first)}%" if funnel and i and first else ""
        middle = y + bar_height / 2
        bars.append(Bar(
            key, label, value, share,
            label_x=_n(left - 10 if funnel else 0), label_y=_n(middle if funnel else y - 6),
            x=_n(x), y=_n(y), width=_n(length),
            value_x=_n(right + 10 if funnel else x + length + 6), value_y=_n(middle)))
    height = 4 + row * len(rows) + (0 if funnel else 4)
    return BarChart(width=width, height=height, bar_height=bar_height,
                    anchor="end" if funnel else "start", bars=tuple(bars))


@clinic_view(Role.MANAGER)
def results(request: HttpRequest, rule_id: int) -> HttpResponse:
    """What the rule's messages led to over the last 30, 90 or 365 days."""
    rule = _rule(request, rule_id)
    try:
        days = int(request.GET.get("days", PERIODS[0]))
    except ValueError:
        days = PERIODS[0]
    days = days if days in PERIODS else PERIODS[0]
    figures = rule_results(rule=rule, since=clock.now() - timedelta(days=days))
    funnel = [("sent", _("Sent"), figures.sent), ("delivered", _("Delivered"), figures.delivered),
              ("read", _("Read"), figures.read)]
    if kind_shape(rule.kind).transactional or rule.ask_confirmation:
        funnel.append(("confirmed", _("Confirmed"), figures.confirmed))
    skipped = [(code, reason_label(code), n) for code, n in
               sorted(figures.skipped.items(), key=lambda i: (-i[1], i[0]))]
    failed = [("", reason, n) for reason, n in
              sorted(figures.failed_by_reason.items(), key=lambda i: (-i[1], i[0]))]
    return render(request, "campaigns/results.html", {
        "rule": rule, "figures": figures, "days": days, "periods": PERIODS,
        "funnel": bar_chart(funnel, funnel=True) if figures.sent else None,
        "skipped": bar_chart(skipped) if skipped else None,
        "failed": bar_chart(failed) if failed else None,
    })


# --- The clinic's campaign settings --------------------------------------------------------------

@clinic_view(Role.OWNER)
def settings_view(request: HttpRequest) -> HttpResponse:
    """The send window, the caps and the clinic's channel order (owner only)."""
    rule_defaults_create(clinic=request.clinic, now=clock.now())
    current = campaign_settings(clinic=request.clinic)
    form = CampaignSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        campaign_settings_update(clinic=request.clinic, changes=form.cleaned_data,
                                 by=request.user, now=clock.now())
        messages.success(request, _("Campaign settings saved."))
        return redirect("campaigns:settings")
    return render(request, "campaigns/settings.html", {"form": form})
