from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinic import clock, services
from clinic.access import SESSION_CLINIC_KEY, clinic_view, membership_resolve
from clinic.forms import (
    ApiTokenForm,
    ClinicProfileForm,
    DayExceptionForm,
    ResponseStandardsForm,
    WorkingHoursForm,
)
from clinic.models import ApiToken, Clinic, ClinicDayException, Role
from clinic.selectors import (
    api_token_list,
    clinic_setting_history,
    clinic_staff_list,
    worker_status,
)


@clinic_view()
def home(request: HttpRequest) -> HttpResponse:
    return redirect("inbox:index")


@require_POST
@login_required
def clinic_switch(request: HttpRequest) -> HttpResponse:
    membership = membership_resolve(user=request.user, clinic_id=request.POST.get("clinic"))
    if membership is None:
        return HttpResponse(status=404)
    request.session[SESSION_CLINIC_KEY] = membership.clinic_id
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "home"
    return redirect(target)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and docker-compose: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _editable_clinic(request: HttpRequest) -> Clinic:
    # A fresh instance: an invalid ModelForm must not alter the clinic shown in the page header.
    return Clinic.objects.get(pk=request.clinic.pk)


def _settings_page(request: HttpRequest, tab: str, context: dict) -> HttpResponse:
    context["tab"] = tab
    return render(request, f"clinic/settings_{tab}.html", context)


@clinic_view(Role.OWNER)
def settings_profile(request: HttpRequest) -> HttpResponse:
    clinic = _editable_clinic(request)
    form = ClinicProfileForm(request.POST or None, instance=clinic)
    if request.method == "POST" and form.is_valid():
        services.clinic_settings_update(
            clinic=request.clinic, changed_by=request.user, now=clock.now(),
            changes={name: form.cleaned_data[name] for name in form.Meta.fields})
        messages.success(request, _("Clinic details saved."))
        return redirect("clinic:settings")
    return _settings_page(request, "profile", {
        "form": form, "worker": worker_status(now=clock.now()),
        "staff": clinic_staff_list(clinic=request.clinic)})


@clinic_view(Role.OWNER)
def settings_hours(request: HttpRequest) -> HttpResponse:
    clinic = _editable_clinic(request)
    form = WorkingHoursForm(request.POST or None, clinic=clinic)
    if request.method == "POST" and form.is_valid():
        services.clinic_settings_update(clinic=request.clinic, changed_by=request.user,
                                        now=clock.now(), changes=form.changes())
        messages.success(request, _("Working hours saved."))
        return redirect("clinic:settings-hours")
    return _settings_page(request, "hours", {
        "form": form,
        "day_form": DayExceptionForm(),
        "exceptions": _upcoming_days(request),
    })


def _upcoming_days(request: HttpRequest) -> QuerySet[ClinicDayException]:
    today = clock.now().astimezone(ZoneInfo(request.clinic.timezone)).date()
    return ClinicDayException.objects.filter(clinic=request.clinic, date__gte=today)


@require_POST
@clinic_view(Role.OWNER)
def settings_day_add(request: HttpRequest) -> HttpResponse:
    form = DayExceptionForm(request.POST)
    if form.is_valid():
        services.clinic_day_exception_set(
            clinic=request.clinic, changed_by=request.user, now=clock.now(),
            day=form.cleaned_data["date"], intervals=form.cleaned_data["hours"],
            note=form.cleaned_data["note"])
        messages.success(request, _("Day saved."))
        return redirect("clinic:settings-hours")
    return _settings_page(request, "hours", {
        "form": WorkingHoursForm(clinic=_editable_clinic(request)),
        "day_form": form,
        "exceptions": _upcoming_days(request),
    })


@require_POST
@clinic_view(Role.OWNER)
def settings_day_delete(request: HttpRequest, exception_id: int) -> HttpResponse:
    exception = get_object_or_404(ClinicDayException, pk=exception_id, clinic=request.clinic)
    services.clinic_day_exception_delete(exception=exception, changed_by=request.user,
                                         now=clock.now())
    messages.success(request, _("Day removed."))
    return redirect("clinic:settings-hours")


@clinic_view(Role.OWNER)
def settings_standards(request: HttpRequest) -> HttpResponse:
    clinic = _editable_clinic(request)
    form = ResponseStandardsForm(request.POST or None, instance=clinic)
    if request.method == "POST" and form.is_valid():
        services.clinic_settings_update(
            clinic=request.clinic, changed_by=request.user, now=clock.now(),
            changes={name: form.cleaned_data[name] for name in form.Meta.fields})
        messages.success(request, _("Response standards saved."))
        return redirect("clinic:settings-standards")
    return _settings_page(request, "standards", {"form": form})


def _setting_label(field: str) -> str:
    if field.startswith("day:"):
        return _("Day %(date)s") % {"date": field.removeprefix("day:")}
    try:
        return str(Clinic._meta.get_field(field).verbose_name).capitalize()
    except FieldDoesNotExist:  # another app's setting: "channel:3:name", "qa:review_share"
        return field


@clinic_view(Role.OWNER)
def settings_history(request: HttpRequest) -> HttpResponse:
    changes = list(clinic_setting_history(clinic=request.clinic)[:200])
    for change in changes:
        change.label = _setting_label(change.field)
    return _settings_page(request, "history", {"changes": changes})


@clinic_view(Role.OWNER)
def settings_api(request: HttpRequest) -> HttpResponse:
    """The clinic's API tokens; a new token's secret is shown on this one answer only."""
    form = ApiTokenForm(request.POST or None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        _token, secret = services.api_token_create(
            clinic=request.clinic, name=form.cleaned_data["name"], created_by=request.user,
            now=clock.now())
        form = ApiTokenForm()
    response = _settings_page(request, "api", {
        "form": form, "secret": secret, "tokens": api_token_list(clinic=request.clinic)})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@clinic_view(Role.OWNER)
def settings_api_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, clinic=request.clinic)
    services.api_token_revoke(token=token, revoked_by=request.user, now=clock.now())
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("clinic:settings-api")


class SignOutView(auth_views.LogoutView):
    """Signing out also takes the person offline, so no new conversation waits on them."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated:
            services.staff_sign_out(user=request.user)
        return super().post(request, *args, **kwargs)
