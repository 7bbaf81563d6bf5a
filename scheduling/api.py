"""REST API for the clinic's medical information system: doctors, services, schedules, free
slots and appointments. Every queryset is scoped to the caller's clinic (another clinic's ids
answer 404 in the path and "does not exist" in a body). Reading needs an administrator; booking,
moving, cancelling and confirming too; keeping doctors, services and schedules needs a manager
(a clinic API token acts as one, see clinic.access.INTEGRATION_ROLE).

Datetimes are read and written in the clinic's timezone: a time given without an offset is the
clinic's local time, and answers carry the clinic's offset.
"""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from clinic import clock
from clinic.access import staff_user
from clinic.forms import intervals_from_text
from clinic.models import Clinic, Patient, Role
from clinic.rest import ErrorSerializer, RolePerMethod, ValidationErrorSerializer, error_body
from scheduling import services
from scheduling.models import (
    MAX_DURATION_MINUTES,
    Appointment,
    AppointmentStatus,
    Doctor,
    DoctorScheduleException,
    ExceptionKind,
    Service,
)
from scheduling.selectors import (
    DEFAULT_SLOT_LIMIT,
    Slot,
    appointment_search,
    doctor_list,
    free_slots,
    schedule_exception_list,
    service_list,
)

MAX_ID = 2**63 - 1
MAX_SLOT_LIMIT = 100
SLOT_DAYS_DEFAULT = 14
MAX_RANGE_DAYS = 92
"""The longest date range one request may ask about (slots, lists)."""
BOOKING_HORIZON = timedelta(days=731)
"""Times further than this from now, either way, are refused as implausible."""


def _clinic_tz(clinic: Clinic) -> ZoneInfo:
    return ZoneInfo(clinic.timezone)


def _today(clinic: Clinic) -> date:
    return clock.now().astimezone(_clinic_tz(clinic)).date()


class ClinicDateTimeField(serializers.DateTimeField):
    """A time without an offset is the clinic's local time; answers carry the clinic's offset."""

    def default_timezone(self) -> Any:
        clinic = self.context.get("clinic")
        return _clinic_tz(clinic) if clinic is not None else super().default_timezone()


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class ClinicScoped(serializers.PrimaryKeyRelatedField):
    """A related id that must belong to the caller's clinic (else "does not exist")."""

    def __init__(self, model: type, **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        return self.model.objects.filter(clinic=self.context["clinic"])

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or (isinstance(data, int) and not 0 < data <= MAX_ID):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class Interval(serializers.ListField):
    """["09:00", "13:00"]; an interval ending at or before its start runs past midnight."""

    child = serializers.RegexField(r"^([01]\d|2[0-4]):[0-5]\d$")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=2, max_length=2, **kwargs)


class DayIntervals(serializers.ListField):
    """One day's working intervals, sorted and not overlapping; empty is a day off."""

    child = Interval()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=24, **kwargs)

    def to_internal_value(self, data: Any) -> list[list[str]]:
        intervals = super().to_internal_value(data)
        try:
            return intervals_from_text(", ".join(f"{s}-{e}" for s, e in intervals))
        except forms.ValidationError as error:
            raise serializers.ValidationError(error.messages) from error


# --- Doctors, services, schedules -------------------------------------------------------------


class DoctorSerializer(serializers.ModelSerializer):
    specialties = serializers.ListField(child=serializers.CharField(max_length=100),
                                        max_length=20, required=False)
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True,
                                                  help_text=_("Services the doctor performs."))

    class Meta:
        model = Doctor
        fields = ["id", "name", "specialties", "active", "services"]
        read_only_fields = ["id", "services"]


class ScheduleSerializer(serializers.Serializer):
    weekly_hours = serializers.ListField(
        child=DayIntervals(), min_length=7, max_length=7,
        help_text=_("Seven days, Monday first; each a list of [\"HH:MM\", \"HH:MM\"] intervals "
                    "in the clinic's timezone. Gaps are breaks; an empty day is a day off."))


class ScheduleExceptionSerializer(serializers.ModelSerializer):
    doctor = ClinicScoped(Doctor)
    intervals = DayIntervals(required=False, default=list,
                             help_text=_("The hours worked that day; empty means off."))

    class Meta:
        model = DoctorScheduleException
        fields = ["id", "doctor", "date", "kind", "intervals", "note"]
        read_only_fields = ["id"]
        validators: list = []  # (doctor, date) is unique: a second one replaces the first

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        off = data["kind"] in (ExceptionKind.VACATION, ExceptionKind.SICK)
        if off and data["intervals"]:
            raise serializers.ValidationError({"intervals": _("A day off has no hours.")})
        if not off and not data["intervals"]:
            raise serializers.ValidationError(
                {"intervals": _("An extra shift or changed hours need the hours.")})
        return data


class ServiceSerializer(serializers.ModelSerializer):
    doctors = ClinicScoped(Doctor, many=True, required=False,
                           help_text=_("Doctors who perform the service."))
    duration_minutes = serializers.IntegerField(min_value=5, max_value=MAX_DURATION_MINUTES)
    price_min = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    price_max = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    fixed_price = serializers.BooleanField(read_only=True, help_text=_(
        "The price is exact (price_min = price_max); otherwise tell the patient the range."))

    class Meta:
        model = Service
        fields = ["id", "name", "category", "duration_minutes", "price_min", "price_max",
                  "fixed_price", "doctors", "preparation", "active"]
        read_only_fields = ["id", "fixed_price"]

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        low = data.get("price_min", getattr(self.instance, "price_min", None))
        high = data.get("price_max", getattr(self.instance, "price_max", None))
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"price_max": _("The upper price is below the lower one.")})
        return data


class ByName(CursorPagination):
    ordering = ("name", "id")


class ByDate(CursorPagination):
    ordering = ("date", "id")


class ByStart(CursorPagination):
    ordering = ("start", "id")


class ClinicContext:
    """Serializers get the caller's clinic, for scoped ids and the clinic's timezone."""

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "clinic": self.request.membership.clinic}


ACTIVE_FILTER = OpenApiParameter("active", bool, description=_("Only active (true) or only "
                                                                "inactive (false) ones."))


def _active_filter(request: Request) -> bool | None:
    value = request.query_params.get("active", "")
    return {"true": True, "1": True, "false": False, "0": False}.get(value.lower())


@extend_schema(tags=["doctors"])
class DoctorViewSet(ClinicContext, RolePerMethod, mixins.ListModelMixin,
                    mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The clinic's doctors, by name. A new doctor gets the default weekly schedule."""

    queryset = Doctor.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = DoctorSerializer
    pagination_class = ByName
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Doctor]:
        doctors = doctor_list(clinic=self.request.membership.clinic, active_only=False)
        active = _active_filter(self.request)
        if active is not None:
            doctors = doctors.filter(active=active)
        return doctors.prefetch_related("services")

    @extend_schema(parameters=[ACTIVE_FILTER])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: DoctorSerializer) -> None:
        serializer.instance = services.doctor_create(clinic=self.request.membership.clinic,
                                                     **serializer.validated_data)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        doctor = self.get_object()
        form = DoctorSerializer(doctor, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        services.doctor_update(doctor=doctor, **form.validated_data)
        return Response(DoctorSerializer(self.get_object()).data)

    @extend_schema(methods=["GET"], responses=ScheduleSerializer)
    @extend_schema(methods=["PUT"], request=ScheduleSerializer, responses=ScheduleSerializer)
    @action(detail=True, methods=["get", "put"])
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        """The doctor's weekly template. PUT replaces it; booked appointments stay."""
        doctor = self.get_object()
        if request.method == "PUT":
            form = ScheduleSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            schedule = services.doctor_schedule_set(doctor=doctor, **form.validated_data)
            return Response({"weekly_hours": schedule.weekly_hours})
        schedule = getattr(doctor, "schedule", None)
        return Response({"weekly_hours": schedule.weekly_hours if schedule else [[]] * 7})


@extend_schema(tags=["services"])
class ServiceViewSet(ClinicContext, RolePerMethod, mixins.ListModelMixin,
                     mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     viewsets.GenericViewSet):
    """The clinic's services: duration, price or price range, who performs them, preparation."""

    queryset = Service.objects.none()
    serializer_class = ServiceSerializer
    pagination_class = ByName
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Service]:
        found = service_list(clinic=self.request.membership.clinic, active_only=False)
        active = _active_filter(self.request)
        return found if active is None else found.filter(active=active)

    @extend_schema(parameters=[ACTIVE_FILTER])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: ServiceSerializer) -> None:
        serializer.instance = services.service_create(clinic=self.request.membership.clinic,
                                                      **serializer.validated_data)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        service = self.get_object()
        form = self.get_serializer(service, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        services.service_update(service=service, **form.validated_data)
        return Response(self.get_serializer(self.get_object()).data)


class DateRangeQuery(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        start, end = data.get("date_from"), data.get("date_to")
        for name, day in (("date_from", start), ("date_to", end)):
            if day is not None and not date(2000, 1, 1) <= day <= date(2100, 12, 31):
                raise serializers.ValidationError({name: _("Give a date between 2000 and 2100.")})
        if start and end and end < start:
            raise serializers.ValidationError({"date_to": _("The range ends before it starts.")})
        if start and end and (end - start).days > MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"date_to": _("At most %(days)d days at a time.") % {"days": MAX_RANGE_DAYS}})
        return data


class ExceptionQuery(DateRangeQuery):
    doctor = _id_field(required=False)


@extend_schema(tags=["schedules"])
class ScheduleExceptionViewSet(ClinicContext, RolePerMethod, mixins.ListModelMixin,
                               mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Dated days that replace a doctor's weekly hours: vacation, sick leave (no hours), an
    extra shift or changed hours (the hours). One per doctor and date."""

    queryset = DoctorScheduleException.objects.none()
    serializer_class = ScheduleExceptionSerializer
    pagination_class = ByDate
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[DoctorScheduleException]:
        clinic = self.request.membership.clinic
        if self.action != "list":
            return schedule_exception_list(clinic=clinic)
        query = ExceptionQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        found = query.validated_data
        return schedule_exception_list(clinic=clinic, doctor_id=found.get("doctor"),
                                       start_date=found.get("date_from"),
                                       end_date=found.get("date_to"))

    @extend_schema(parameters=[ExceptionQuery])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ScheduleExceptionSerializer, 201: ScheduleExceptionSerializer})
    def create(self, request: Request) -> Response:
        """Declare a day; a day already declared for that doctor and date is replaced (200)."""
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        exception, created = services.doctor_schedule_exception_set(
            doctor=data["doctor"], day=data["date"], kind=data["kind"],
            intervals=data["intervals"], note=data.get("note", ""))
        return Response(self.get_serializer(exception).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.doctor_schedule_exception_delete(exception=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Free slots -------------------------------------------------------------------------------


class SlotQuery(DateRangeQuery):
    service = _id_field(help_text=_("The service to book."))
    doctor = _id_field(required=False, help_text=_("Only this doctor."))
    limit = serializers.IntegerField(min_value=1, max_value=MAX_SLOT_LIMIT,
                                     default=DEFAULT_SLOT_LIMIT)

    def validate_service(self, value: int) -> Service:
        service = service_list(clinic=self.context["clinic"]).filter(pk=value).first()
        if service is None:
            raise serializers.ValidationError(_("No such active service."))
        return service

    def validate_doctor(self, value: int) -> Doctor:
        doctor = Doctor.objects.filter(clinic=self.context["clinic"], pk=value).first()
        if doctor is None:
            raise serializers.ValidationError(_("No such doctor."))
        return doctor

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        today = _today(self.context["clinic"])
        data.setdefault("date_from", max(today, data.get("date_to", today) - timedelta(
            days=SLOT_DAYS_DEFAULT)))
        data.setdefault("date_to", data["date_from"] + timedelta(days=SLOT_DAYS_DEFAULT))
        return super().validate(data)


class SlotSerializer(serializers.Serializer):
    doctor = serializers.IntegerField(source="doctor_id")
    doctor_name = serializers.CharField()
    start = ClinicDateTimeField()
    end = ClinicDateTimeField()


class SlotListSerializer(serializers.Serializer):
    results = SlotSerializer(many=True)


def _slots_data(slots: list[Slot], clinic: Clinic) -> list[dict[str, Any]]:
    return SlotSerializer(slots, many=True, context={"clinic": clinic}).data


@extend_schema(tags=["slots"])
class SlotViewSet(viewsets.ViewSet):
    """Free times to book a service."""

    list_answers_one_object = True  # {"results": [...]}, for the schema

    @extend_schema(operation_id="slots_list", parameters=[SlotQuery], responses={
        200: SlotListSerializer, 400: ValidationErrorSerializer})
    def list(self, request: Request) -> Response:
        """The earliest free slots for a service (optionally one doctor) over local dates
        [date_from, date_to] (default: today and the next 14 days), earliest first."""
        clinic = request.membership.clinic
        query = SlotQuery(data=request.query_params, context={"clinic": clinic})
        query.is_valid(raise_exception=True)
        found = query.validated_data
        slots = free_slots(clinic=clinic, service=found["service"], doctor=found.get("doctor"),
                           start_date=found["date_from"], end_date=found["date_to"],
                           now=clock.now(), limit=found["limit"])
        return Response({"results": _slots_data(slots, clinic)})


# --- Appointments -----------------------------------------------------------------------------


class AppointmentSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    doctor_name = serializers.CharField(source="doctor.name", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    start = ClinicDateTimeField(read_only=True)
    end = ClinicDateTimeField(read_only=True)
    cancelled_at = ClinicDateTimeField(read_only=True, allow_null=True)
    confirmed_at = ClinicDateTimeField(read_only=True, allow_null=True)
    created_at = ClinicDateTimeField(read_only=True)

    class Meta:
        model = Appointment
        fields = ["id", "patient", "patient_name", "doctor", "doctor_name", "service",
                  "service_name", "start", "end", "status", "cancellation_reason",
                  "cancelled_at", "confirmed_via", "confirmed_at", "source_conversation_id",
                  "created_at"]
        read_only_fields = fields


def _plausible(start: datetime) -> datetime:
    if abs(start - clock.now()) > BOOKING_HORIZON:
        raise serializers.ValidationError(_("Give a time within two years from now."))
    return start


class BookSerializer(serializers.Serializer):
    patient = ClinicScoped(Patient)
    doctor = ClinicScoped(Doctor)
    service = ClinicScoped(Service)
    start = ClinicDateTimeField(help_text=_("Without an offset: the clinic's local time."))

    def validate_start(self, value: datetime) -> datetime:
        return _plausible(value)


class MoveSerializer(serializers.Serializer):
    start = ClinicDateTimeField(help_text=_("Without an offset: the clinic's local time."))
    doctor = ClinicScoped(Doctor, required=False,
                          help_text=_("Another doctor who performs the service; default: the "
                                      "same doctor."))

    def validate_start(self, value: datetime) -> datetime:
        return _plausible(value)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ConfirmSerializer(serializers.Serializer):
    via = serializers.CharField(max_length=50, default="api",
                                help_text=_("How the patient confirmed, e.g. phone, sms."))


class AppointmentQuery(DateRangeQuery):
    doctor = _id_field(required=False)
    patient = _id_field(required=False)
    status = serializers.ChoiceField(choices=AppointmentStatus.choices, required=False)


class SlotTakenSerializer(ErrorSerializer):
    next_slots = SlotSerializer(many=True, required=False,
                                help_text=_("slot_taken: what this doctor has free next."))


BOOKING_ERRORS = {
    400: OpenApiResponse(ValidationErrorSerializer, description=_(
        "Invalid values, or a time the rules refuse (code: in_past, lead_time, "
        "outside_schedule, doctor_inactive, service_inactive, service_not_performed).")),
    409: OpenApiResponse(SlotTakenSerializer, description=_(
        "slot_taken: the doctor is busy then (next_slots lists what is free); not_live: the "
        "appointment is cancelled, completed or a no-show.")),
}


def _booking_error(error: services.BookingError, clinic: Clinic) -> Response:
    if isinstance(error, services.SlotTaken):
        return Response(error_body(error.code, error.message,
                                   next_slots=_slots_data(error.next_slots, clinic)),
                        status=status.HTTP_409_CONFLICT)
    code = status.HTTP_409_CONFLICT if error.code == "not_live" else status.HTTP_400_BAD_REQUEST
    return Response(error_body(error.code, error.message), status=code)


@extend_schema(tags=["appointments"])
class AppointmentViewSet(ClinicContext, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    """Appointments of the clinic, by start. Booking never double-books a doctor."""

    queryset = Appointment.objects.none()
    serializer_class = AppointmentSerializer
    pagination_class = ByStart
    lookup_value_regex = r"\d+"
    required_role = Role.ADMINISTRATOR

    def get_queryset(self) -> QuerySet[Appointment]:
        clinic = self.request.membership.clinic
        if self.action != "list":
            return appointment_search(clinic=clinic)
        query = AppointmentQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        found = query.validated_data
        tz = _clinic_tz(clinic)
        start = end = None
        if found.get("date_from"):
            start = datetime.combine(found["date_from"], time(), tzinfo=tz)
        if found.get("date_to"):
            end = datetime.combine(found["date_to"] + timedelta(days=1), time(), tzinfo=tz)
        return appointment_search(clinic=clinic, start=start, end=end,
                                  doctor_id=found.get("doctor"),
                                  patient_id=found.get("patient"),
                                  status=found.get("status", ""))

    @extend_schema(parameters=[AppointmentQuery])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Filter by local dates [date_from, date_to] of the start, doctor, patient, status."""
        return super().list(request, *args, **kwargs)

    def _answer(self, appointment: Appointment, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(appointment).data, status=code)

    @extend_schema(request=BookSerializer, responses={201: AppointmentSerializer,
                                                      **BOOKING_ERRORS})
    def create(self, request: Request) -> Response:
        """Book: the patient, doctor and service of the clinic, at a free start."""
        clinic = request.membership.clinic
        form = BookSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        try:
            appointment = services.appointment_book(
                clinic=clinic, created_by=staff_user(request), now=clock.now(),
                **form.validated_data)
        except services.BookingError as error:
            return _booking_error(error, clinic)
        return self._answer(appointment, status.HTTP_201_CREATED)

    @extend_schema(request=MoveSerializer, responses={200: AppointmentSerializer,
                                                      **BOOKING_ERRORS})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Move to another start (and doctor); a moved appointment needs confirming again."""
        appointment = self.get_object()
        form = MoveSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        try:
            appointment = services.appointment_reschedule(appointment=appointment,
                                                          now=clock.now(), **form.validated_data)
        except services.BookingError as error:
            return _booking_error(error, request.membership.clinic)
        return self._answer(appointment)

    @extend_schema(request=CancelSerializer, responses={200: AppointmentSerializer,
                                                        409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel with a reason; the time is free again at once. Cancelling twice is a no-op."""
        appointment = self.get_object()
        form = CancelSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            appointment = services.appointment_cancel(appointment=appointment, now=clock.now(),
                                                      **form.validated_data)
        except services.BookingError as error:
            return _booking_error(error, request.membership.clinic)
        return self._answer(appointment)

    @extend_schema(request=ConfirmSerializer, responses={200: AppointmentSerializer,
                                                         409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """The patient confirmed. Confirming twice is a no-op."""
        appointment = self.get_object()
        form = ConfirmSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            appointment = services.appointment_confirm(appointment=appointment, now=clock.now(),
                                                       **form.validated_data)
        except services.BookingError as error:
            return _booking_error(error, request.membership.clinic)
        return self._answer(appointment)

