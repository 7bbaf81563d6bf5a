"""Quality pages: the managers' scorecard list, CSV and dashboards; one scorecard with its
thread and verdicts; "My quality" for every member of staff.

Managers and the owner see every scorecard of the clinic; an administrator only their own
(scorecard_get_for_user scopes it: another's is a 404), and the manager pages are a 403.
"""

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinic import clock
from clinic.access import clinic_view
from clinic.models import Role
from clinic.selectors import clinic_staff_list
from qa import reports
from qa.forms import CommentForm, OverrideForm, ScorecardFilterForm
from qa.models import AckState, ItemResult, Scorecard
from qa.selectors import (
    ScorecardFilters,
    qa_settings_get,
    scorecard_get_for_user,
    scorecard_history,
    scorecard_list,
    scorecard_messages,
)
from qa.services.access import QaRefused
from qa.services.review import (
    scorecard_acknowledge,
    scorecard_dispute,
    scorecard_dispute_answer,
    scorecard_mark_reviewed,
    scorecard_override,
)

PAGE_SIZE = 50


# --- The manager's list and the CSV ---------------------------------------------------------

def _filter_form(request: HttpRequest) -> ScorecardFilterForm:
    staff = list(clinic_staff_list(clinic=request.clinic))
    return ScorecardFilterForm(request.GET, clinic=request.clinic, staff=staff)


@clinic_view(Role.MANAGER)
def index(request: HttpRequest) -> HttpResponse:
    """Scorecards of the clinic, filtered by the GET form, 50 a page; `?format=csv` exports
    the same selection."""
    if request.GET.get("format") == "csv":
        return export(request)
    form = _filter_form(request)
    scorecards = reports.scorecard_rows(scorecard_list(clinic=request.clinic,
                                                       filters=form.filters()))
    page = Paginator(scorecards, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "qa/index.html", {
        "form": form, "page": page, "queue": form.cleaned_data.get("queue", False),
        "threshold": qa_settings_get(clinic=request.clinic).review_threshold})


@clinic_view(Role.MANAGER)
def export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered scorecards as CSV, one column per checklist item, streamed."""
    form = _filter_form(request)
    scorecards = scorecard_list(clinic=request.clinic, filters=form.filters())
    today = clock.now().astimezone(ZoneInfo(request.clinic.timezone)).date()
    name = f"scorecards-{today:%Y-%m-%d}.csv"
    response = StreamingHttpResponse(reports.scorecards_csv(clinic=request.clinic,
                                                            scorecards=scorecards),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- One scorecard --------------------------------------------------------------------------

def _scorecard(request: HttpRequest, scorecard_id: int) -> Scorecard:
    try:
        return scorecard_get_for_user(user=request.user, clinic=request.clinic, pk=scorecard_id)
    except Scorecard.DoesNotExist:
        raise Http404 from None


def _panel_context(request: HttpRequest, scorecard: Scorecard) -> dict[str, Any]:
    """What the items panel and the feedback box need (their htmx fragments too)."""
    settings = qa_settings_get(clinic=request.clinic)
    is_manager = request.membership.has_role(Role.MANAGER)
    return {
        "scorecard": scorecard, "items": list(scorecard.items.all()),
        "threshold": settings.review_threshold, "reasons": settings.override_reasons,
        "results": ItemResult.choices, "is_manager": is_manager,
        "can_override": is_manager and scorecard.is_current,
        "is_own": scorecard.administrator_id == request.user.pk,
    }


@clinic_view()
def scorecard(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """The thread of the scored dialogue beside the 15 verdicts; a manager overrides, marks
    reviewed and answers a dispute here, the administrator acknowledges or disputes."""
    card = _scorecard(request, scorecard_id)
    thread = list(scorecard_messages(scorecard=card))
    history = list(scorecard_history(scorecard=card, user=request.user))
    return render(request, "qa/scorecard.html", {
        **_panel_context(request, card), "thread": thread, "history": history,
        "timezone": request.clinic.timezone})


def _after_change(request: HttpRequest, scorecard_id: int, partial: str,
                  error: str = "") -> HttpResponse:
    """An htmx request gets the changed part of the page again; a plain form post goes back
    to the page with the error (if any) as a message."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("qa:scorecard", scorecard_id)
    card = _scorecard(request, scorecard_id)
    response = render(request, f"qa/scorecard.html#{partial}",
                      {**_panel_context(request, card), "error": error})
    response["Vary"] = "HX-Request"
    return response


def _form_error(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@require_POST
@clinic_view(Role.MANAGER)
def item_override(request: HttpRequest, scorecard_id: int, item_id: int) -> HttpResponse:
    """One step: the result, a reason from the clinic's list and a comment; the items panel
    (with the new score) comes back."""
    card = _scorecard(request, scorecard_id)
    item = next((i for i in card.items.all() if i.pk == item_id), None)
    if item is None:
        raise Http404
    form = OverrideForm(request.POST,
                        reasons=qa_settings_get(clinic=request.clinic).override_reasons)
    error = ""
    if form.is_valid():
        try:
            scorecard_override(item=item, by=request.user, now=clock.now(),
                               result=form.cleaned_data["result"],
                               reason=form.cleaned_data["reason"],
                               comment=form.cleaned_data["comment"])
        except QaRefused as refused:
            error = str(refused)
    else:
        error = _form_error(form)
    return _after_change(request, scorecard_id, "items", error)


@require_POST
@clinic_view(Role.MANAGER)
def mark_reviewed(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    scorecard_mark_reviewed(scorecard=_scorecard(request, scorecard_id), by=request.user,
                            now=clock.now())
    return _after_change(request, scorecard_id, "review")


FEEDBACK_SERVICES = {"acknowledge": scorecard_acknowledge, "dispute": scorecard_dispute,
                     "answer": scorecard_dispute_answer}


@require_POST
@clinic_view()
def feedback(request: HttpRequest, scorecard_id: int, action: str) -> HttpResponse:
    """The administrator acknowledges or disputes (only their own: the service checks); a
    manager answers a dispute (the service checks the role)."""
    service = FEEDBACK_SERVICES.get(action)
    if service is None:
        raise Http404
    card = _scorecard(request, scorecard_id)
    form = CommentForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            service(scorecard=card, by=request.user, comment=form.cleaned_data["comment"],
                    now=clock.now())
        except QaRefused as refused:
            error = str(refused)
    else:
        error = _form_error(form)
    return _after_change(request, scorecard_id, "feedback", error)


# --- "My quality" ---------------------------------------------------------------------------

MY_FILTERS = {"": ScorecardFilters(), "waiting": ScorecardFilters(ack_state=AckState.NONE),
              "disputed": ScorecardFilters(ack_state=AckState.DISPUTED)}


@clinic_view()
def mine(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own scorecards with the managers' overrides and comments, and
    their figures beside the clinic's."""
    shown = request.GET.get("show", "")
    base = MY_FILTERS.get(shown, MY_FILTERS[""])
    filters = ScorecardFilters(administrator_id=request.user.pk, ack_state=base.ack_state)
    scorecards = reports.scorecard_rows(scorecard_list(clinic=request.clinic, filters=filters))
    page = Paginator(scorecards, PAGE_SIZE).get_page(request.GET.get("page"))
    feedback_by_card = reports.scorecard_feedback(scorecards=page.object_list)
    rows = [(card, feedback_by_card.get(card.pk, [])) for card in page.object_list]
    figures = reports.summaries(clinic=request.clinic, now=clock.now())
    return render(request, "qa/mine.html", {
        "page": page, "rows": rows, "show": shown if shown in MY_FILTERS else "",
        "me": figures.of(request.user.pk), "clinic_figures": figures.clinic,
        "weeks": reports.PERIOD_WEEKS, "is_manager": request.membership.has_role(Role.MANAGER),
        "threshold": qa_settings_get(clinic=request.clinic).review_threshold})


# --- Dashboards -----------------------------------------------------------------------------

def _name(user: Any) -> str:
    return user.get_full_name() or user.username


@clinic_view(Role.MANAGER)
def team(request: HttpRequest) -> HttpResponse:
    """Every member of staff with scorecards or reply figures, beside the clinic: the weekly
    score trend, their figures, and the clinic's fail rate per item."""
    now = clock.now()
    staff = {m.user_id: m.user for m in clinic_staff_list(clinic=request.clinic)}
    trend = reports.score_trend(clinic=request.clinic, now=now)
    figures = reports.summaries(clinic=request.clinic, now=now)
    people = sorted((user for user_id, user in staff.items()
                     if user_id in figures.people or user_id in trend.people), key=_name)
    settings = qa_settings_get(clinic=request.clinic)
    series = [(_("The clinic"), "series-clinic", trend.clinic)]
    series += [(_name(user), f"series-{i % 8}", trend.people.get(user.pk, ()))
               for i, user in enumerate(people)]
    return render(request, "qa/team.html", {
        "chart": reports.trend_chart(weeks=trend.weeks, series=series,
                                     threshold=settings.review_threshold),
        "rows": [(user, figures.of(user.pk)) for user in people],
        "clinic_figures": figures.clinic, "weeks": reports.PERIOD_WEEKS,
        "rates": reports.item_fail_rates(clinic=request.clinic, now=now),
        "threshold": settings.review_threshold})


@clinic_view(Role.MANAGER)
def team_member(request: HttpRequest, user_id: int) -> HttpResponse:
    """One person's dashboard, each figure beside the clinic's."""
    staff = {m.user_id: m.user for m in clinic_staff_list(clinic=request.clinic)}
    person = staff.get(user_id)
    if person is None:
        raise Http404
    now = clock.now()
    trend = reports.score_trend(clinic=request.clinic, now=now)
    figures = reports.summaries(clinic=request.clinic, now=now)
    settings = qa_settings_get(clinic=request.clinic)
    series = [(_("The clinic"), "series-clinic", trend.clinic),
              (_name(person), "series-0", trend.people.get(user_id, ()))]
    return render(request, "qa/team_member.html", {
        "person": person, "me": figures.of(user_id), "clinic_figures": figures.clinic,
        "chart": reports.trend_chart(weeks=trend.weeks, series=series,
                                     threshold=settings.review_threshold),
        "rates": reports.item_fail_rates(clinic=request.clinic, now=now, user=person),
        "weeks": reports.PERIOD_WEEKS, "threshold": settings.review_threshold})

