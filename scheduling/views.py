"""The calendar: a day by doctor or a week by day; an appointment's detail; booking, moving,
cancelling, confirming and recording the outcome with the scheduling services; the price list.

One URL returns the page or, for an htmx request, a fragment of the same templates. Every query
is scoped to the current clinic; any staff role may view and book.
"""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from clinic import clock
from clinic.access import clinic_view
from clinic.models import Patient
from clinic.selectors import patient_list
from scheduling.forms import (
    AppointmentBookForm,
    AppointmentCancelForm,
    AppointmentConfirmForm,
    AppointmentMoveForm,
    AppointmentOutcomeForm,
    CalendarQuery,
    CalendarQueryForm,
)
from scheduling.models import Appointment, AppointmentStatus, Doctor, Service
from scheduling.prices import price_language, price_sentence, price_text
from scheduling.selectors import (
    Slot,
    appointment_get,
    calendar_build,
    doctor_list,
    free_slots,
    patient_appointment_list,
    service_list,
    service_search,
)
from scheduling.services import (
    BookingError,
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_outcome_set,
    appointment_reschedule,
)

DAY_SLOTS_SHOWN = 32
"""Free times offered beside the booking and moving forms for the chosen day."""
NEXT_SLOTS_SHOWN = 8
NEXT_SLOTS_DAYS = 14
PATIENTS_SHOWN = 10
PRICES_SHOWN = 12
CHANGED_EVENT = "calendar-changed"
"""Sent with every change, so the calendar on the page reloads its grid."""


def _timezone(request: HttpRequest) -> ZoneInfo:
    return ZoneInfo(request.clinic.timezone)


def _today(request: HttpRequest) -> date:
    return clock.now().astimezone(_timezone(request)).date()


def _calendar_url(query: CalendarQuery, **changes: object) -> str:
    params = {"view": query.view, "date": query.day.isoformat(), "doctor": query.doctor_id or "",
              "hide_cancelled": "1" if query.hide_cancelled else ""}
    params.update(changes)
    return f"{reverse('scheduling:calendar')}?{urlencode({k: v for k, v in params.items() if v})}"


def _calendar_context(request: HttpRequest, query: CalendarQuery) -> dict:
    clinic = request.clinic
    doctor = None
    if query.doctor_id:
        doctor = get_object_or_404(doctor_list(clinic=clinic, active_only=False),
                                   pk=query.doctor_id)
    week = query.view == "week"
    start = query.day - timedelta(days=query.day.weekday()) if week else query.day
    end = start + timedelta(days=6) if week else start
    step = timedelta(days=7 if week else 1)
    calendar = calendar_build(clinic=clinic, start_date=start, end_date=end, doctor=doctor,
                              by_doctor=not week, include_cancelled=not query.hide_cancelled)
    now = clock.now().astimezone(calendar.timezone)
    now_minute = now.hour * 60 + now.minute
    now_top = None
    if (calendar.columns and start <= now.date() <= end
            and calendar.first_minute <= now_minute <= calendar.last_minute):
        span = calendar.last_minute - calendar.first_minute
        now_top = round((now_minute - calendar.first_minute) / span * 100, 3)
    return {
        "calendar": calendar, "query": query, "week": week, "start": start, "end": end,
        "doctor": doctor, "today": now.date(), "now_top": now_top,
        "statuses": AppointmentStatus.choices,
        "links": {
            "self": _calendar_url(query),
            "prev": _calendar_url(query, date=(query.day - step).isoformat()),
            "next": _calendar_url(query, date=(query.day + step).isoformat()),
            "today": _calendar_url(query, date=now.date().isoformat()),
            "day": _calendar_url(query, view="day"),
            "week": _calendar_url(query, view="week"),
        },
    }


def _query(request: HttpRequest) -> CalendarQuery:
    return CalendarQueryForm(request.GET).query(today=_today(request))


def _page(request: HttpRequest, *, side: str, context: dict, day: date | None = None,
          status: int = 200) -> HttpResponse:
    """The whole calendar page with `side` (a template#partial) in its side panel.

    htmx answers are always 200 (htmx does not swap an error status); whole pages carry it."""
    query = _query(request)
    if day is not None and "date" not in request.GET:
        query = CalendarQuery(query.view, day, query.doctor_id, query.hide_cancelled)
    return render(request, "scheduling/calendar.html",
                  {**_calendar_context(request, query), **context, "side": side}, status=status)


@vary_on_headers("HX-Request")
@clinic_view()
def calendar(request: HttpRequest) -> HttpResponse:
    context = _calendar_context(request, _query(request))
    if request.htmx and request.htmx.target == "calendar-body":
        return render(request, "scheduling/calendar.html#calendar-body", context)
    return render(request, "scheduling/calendar.html", context)


# --- One appointment ------------------------------------------------------------------------------

def _appointment(request: HttpRequest, appointment_id: int) -> Appointment:
    appointment = appointment_get(clinic=request.clinic, pk=appointment_id)
    if appointment is None:
        raise Http404
    return appointment


def _local_day(request: HttpRequest, moment: datetime) -> date:
    return moment.astimezone(_timezone(request)).date()


def _detail_context(request: HttpRequest, appointment: Appointment, **extra: object) -> dict:
    now = clock.now()
    return {
        "appointment": appointment, "timezone": _timezone(request),
        "started": appointment.start <= now,
        "others": patient_appointment_list(appointment=appointment, now=now),
        "price": price_text(price_min=appointment.service.price_min,
                            price_max=appointment.service.price_max, language=get_language()),
        "cancel_form": AppointmentCancelForm(), "confirm_form": AppointmentConfirmForm(),
        **extra,
    }


def _detail(request: HttpRequest, appointment: Appointment, *, flash: str = "",
            error: str = "") -> HttpResponse:
    context = _detail_context(request, appointment, flash=flash, error=error)
    if request.htmx:
        return render(request, "scheduling/appointment.html#detail", context)
    return _page(request, side="scheduling/appointment.html#detail", context=context,
                 day=_local_day(request, appointment.start))


def _changed(request: HttpRequest, appointment: Appointment, flash: str) -> HttpResponse:
    """After a change: the detail with a note (and the grid told to reload), or a redirect."""
    if request.htmx:
        response = _detail(request, appointment, flash=flash)
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    messages.success(request, flash)
    return redirect("scheduling:appointment", appointment_id=appointment.pk)


def _refused(request: HttpRequest, appointment: Appointment, error: str) -> HttpResponse:
    if request.htmx:
        return _detail(request, appointment, error=error)
    messages.error(request, error)
    return redirect("scheduling:appointment", appointment_id=appointment.pk)


@vary_on_headers("HX-Request")
@clinic_view()
def appointment_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _detail(request, _appointment(request, appointment_id))


@require_POST
@clinic_view()
def appointment_cancel_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _appointment(request, appointment_id)
    form = AppointmentCancelForm(request.POST)
    if not form.is_valid():
        return _refused(request, appointment, " ".join(form.errors.get("reason", [])))
    try:
        appointment_cancel(appointment=appointment, reason=form.cleaned_data["reason"].strip(),
                           now=clock.now())
    except BookingError as refused:
        return _refused(request, appointment, refused.message)
    return _changed(request, appointment, _("The appointment is cancelled; its time is free."))


@require_POST
@clinic_view()
def appointment_confirm_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _appointment(request, appointment_id)
    form = AppointmentConfirmForm(request.POST)
    via = form.cleaned_data["via"] if form.is_valid() else "phone"
    try:
        appointment_confirm(appointment=appointment, via=via, now=clock.now())
    except BookingError as refused:
        return _refused(request, appointment, refused.message)
    return _changed(request, appointment, _("The appointment is confirmed."))


@require_POST
@clinic_view()
def appointment_outcome(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Completed or no-show, once the visit has started."""
    appointment = _appointment(request, appointment_id)
    form = AppointmentOutcomeForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        appointment_outcome_set(appointment=appointment, status=form.cleaned_data["status"],
                                now=clock.now())
    except BookingError as refused:
        return _refused(request, appointment, refused.message)
    return _changed(request, appointment, _("Saved: %(status)s.")
                    % {"status": appointment.get_status_display()})


# --- Choosing a time: booking and moving ----------------------------------------------------------

def _free_times(request: HttpRequest, *, service: Service | None, doctor: Doctor | None,
                day: date | None) -> tuple[list[Slot], bool]:
    """Free times on `day`, or, when it has none, the next ones within two weeks.

    Returns the slots and whether they are all on `day`."""
    if service is None:
        return [], True
    clinic, now = request.clinic, clock.now()
    today = _today(request)
    day = max(day or today, today)
    slots = free_slots(clinic=clinic, service=service, doctor=doctor, start_date=day,
                       end_date=day, now=now, limit=DAY_SLOTS_SHOWN)
    if slots:
        return slots, True
    return free_slots(clinic=clinic, service=service, doctor=doctor, start_date=day,
                      end_date=day + timedelta(days=NEXT_SLOTS_DAYS), now=now,
                      limit=NEXT_SLOTS_SHOWN), False


def _form_value(form: AppointmentBookForm | AppointmentMoveForm, name: str) -> object:
    """A field's value as the form holds it (bound or initial), cleaned when valid."""
    field = form[name]
    try:
        return field.field.clean(field.value())
    except ValidationError:  # an invalid value simply shows no slots
        return None


def _slots_context(request: HttpRequest, form: AppointmentBookForm | AppointmentMoveForm,
                   service: Service | None, *, next_slots: list[Slot] | None = None) -> dict:
    """Free times beside the form, by day and doctor; after a refusal, what is free instead."""
    if next_slots is not None:
        slots, same_day = next_slots, False
    else:
        slots, same_day = _free_times(request, service=service,
                                      doctor=_form_value(form, "doctor"),
                                      day=_form_value(form, "date"))
    days: dict[date, dict[str, list[Slot]]] = {}
    for slot in slots:
        days.setdefault(slot.start.date(), {}).setdefault(slot.doctor_name, []).append(slot)
    return {"slot_days": days, "same_day": same_day, "service": service,
            "timezone": _timezone(request)}


def _book_response(request: HttpRequest, form: AppointmentBookForm, *, error: str = "",
                   next_slots: list[Slot] | None = None, status: int = 200) -> HttpResponse:
    service = _form_value(form, "service")
    context = {"form": form, **_slots_context(request, form, service, next_slots=next_slots)}
    if request.htmx and request.htmx.target == "book-slots":
        return render(request, "scheduling/book.html#slot-buttons",
                      {**context, "slots_id": "book-slots"})
    # The patient picker: the chosen patient, or (without JavaScript) the patients found.
    search = request.GET.get("patient_q", "").strip()[:100]
    chosen = form["patient"].value()
    patients: list[Patient] = []
    if search:
        patients = list(patient_list(clinic=request.clinic, search=search)[:PATIENTS_SHOWN])
    elif str(chosen or "").isdigit():
        patients = list(patient_list(clinic=request.clinic).filter(pk=chosen))
    context.update({"error": error, "patients": patients, "patient_q": search,
                    "searched": bool(search), "chosen_patient": int(chosen)
                    if str(chosen or "").isdigit() else None})
    if request.htmx:
        return render(request, "scheduling/book.html#book", context)
    return _page(request, side="scheduling/book.html#book", context=context,
                 day=_form_value(form, "date"), status=status)


@vary_on_headers("HX-Request")
@clinic_view()
def appointment_new(request: HttpRequest) -> HttpResponse:
    """Book from the calendar: find the patient, choose the service and a free time."""
    clinic = request.clinic
    if request.method != "POST":
        initial = {"date": _today(request), **{k: v for k, v in request.GET.items()
                                              if k in ("patient", "service", "doctor", "date",
                                                       "time") and v}}
        return _book_response(request, AppointmentBookForm(initial=initial, clinic=clinic))
    form = AppointmentBookForm(request.POST, clinic=clinic)
    if not form.is_valid():
        return _book_response(request, form, status=422)
    data = form.cleaned_data
    try:
        appointment = appointment_book(
            clinic=clinic, patient=data["patient"], doctor=data["doctor"],
            service=data["service"], start=data["start"], created_by=request.user,
            now=clock.now())
    except SlotTaken as taken:
        return _book_response(request, form, error=taken.message, next_slots=taken.next_slots,
                              status=409)
    except BookingError as refused:
        return _book_response(request, form, error=refused.message, status=422)
    appointment = appointment_get(clinic=clinic, pk=appointment.pk)
    return _changed(request, appointment, _("Booked."))


def _move_response(request: HttpRequest, appointment: Appointment, form: AppointmentMoveForm,
                   *, error: str = "", next_slots: list[Slot] | None = None,
                   status: int = 200) -> HttpResponse:
    context = {"appointment": appointment, "form": form, "error": error,
               **_slots_context(request, form, appointment.service, next_slots=next_slots)}
    if request.htmx and request.htmx.target == "move-slots":
        return render(request, "scheduling/book.html#slot-buttons",
                      {**context, "slots_id": "move-slots"})
    if request.htmx:
        return render(request, "scheduling/appointment.html#move", context)
    return _page(request, side="scheduling/appointment.html#move", context=context,
                 day=_local_day(request, appointment.start), status=status)


@vary_on_headers("HX-Request")
@clinic_view()
def appointment_move(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Move to another time or doctor under the booking rules; a taken time shows what is free."""
    appointment = _appointment(request, appointment_id)
    if request.method != "POST":
        local = appointment.start.astimezone(_timezone(request))
        initial = {"doctor": appointment.doctor_id, "date": local.date(),
                   "time": local.strftime("%H:%M"), **{k: v for k, v in request.GET.items()
                                                       if k in ("doctor", "date", "time")}}
        form = AppointmentMoveForm(initial=initial, appointment=appointment)
        return _move_response(request, appointment, form)
    form = AppointmentMoveForm(request.POST, appointment=appointment)
    if not form.is_valid():
        return _move_response(request, appointment, form, status=422)
    try:
        appointment_reschedule(appointment=appointment, start=form.cleaned_data["start"],
                               doctor=form.cleaned_data["doctor"], now=clock.now())
    except SlotTaken as taken:
        return _move_response(request, appointment, form, error=taken.message,
                              next_slots=taken.next_slots, status=409)
    except BookingError as refused:
        return _move_response(request, appointment, form, error=refused.message, status=422)
    return _changed(request, appointment_get(clinic=request.clinic, pk=appointment.pk),
                    _("The appointment is moved; it needs confirming again."))


@clinic_view()
def patient_search(request: HttpRequest) -> HttpResponse:
    """The booking form's patient finder: a few matching patients to choose from."""
    search = request.GET.get("patient_q", "").strip()[:100]
    patients: list[Patient] = []
    if search:
        patients = list(patient_list(clinic=request.clinic, search=search)[:PATIENTS_SHOWN])
    return render(request, "scheduling/book.html#patients", {"patients": patients,
                                                              "searched": bool(search)})


# --- Services and prices --------------------------------------------------------------------------

def _priced(services: list[Service]) -> list[tuple[Service, str]]:
    language = get_language()
    return [(s, price_text(price_min=s.price_min, price_max=s.price_max, language=language))
            for s in services]


@vary_on_headers("HX-Request")
@clinic_view()
def service_reference(request: HttpRequest) -> HttpResponse:
    """What the clinic offers, for answering patients: price or range, duration, preparation."""
    search = request.GET.get("q", "").strip()[:100]
    services = service_search(clinic=request.clinic, search=search)
    context = {"services": _priced(services), "q": search,
               "total": service_list(clinic=request.clinic).count() if search else len(services)}
    if request.htmx and request.htmx.target == "service-results":
        return render(request, "scheduling/services.html#results", context)
    return render(request, "scheduling/services.html", context)


@clinic_view()
def price_search(request: HttpRequest) -> HttpResponse:
    """The inbox composer's price finder: each service with the sentence to put in the reply."""
    search = request.GET.get("price_q", "").strip()[:100]
    language = price_language(get_language())
    services = service_search(clinic=request.clinic, search=search)[:PRICES_SHOWN]
    items = [(s, price, price_sentence(service=s, language=language))
             for s, price in _priced(services)]
    return render(request, "scheduling/price_search.html", {"items": items})
