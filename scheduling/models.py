"""Doctors, the services they perform, their working schedules and the appointments."""

from django.conf import settings
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Patient
from scheduling.constraints import PostgresExclusionConstraint, TsTzRange

# The longest service; the slot finder relies on it to bound its one query for appointments.
MAX_DURATION_MINUTES = 12 * 60


def default_doctor_weekly_hours() -> list[list[list[str]]]:
    """Monday to Friday 09:00–18:00 with a lunch break 13:00–14:00; weekends off."""
    weekday = [["09:00", "13:00"], ["14:00", "18:00"]]
    return [weekday, weekday, weekday, weekday, weekday, [], []]


class Doctor(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="doctors")
    name = models.CharField(_("name"), max_length=200)
    # Free text, e.g. ["терапевт", "эндодонтист"].
    specialties = models.JSONField(_("specialties"), default=list, blank=True)
    staff_account = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="doctor_profiles",
                                      verbose_name=_("staff account"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["clinic", "active"], name="doctor_clinic_active")]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration, minutes"),
        validators=[MinValueValidator(5), MaxValueValidator(MAX_DURATION_MINUTES)])
    # A fixed price has price_min == price_max; otherwise the patient is told the range.
    price_min = models.DecimalField(_("price from"), max_digits=10, decimal_places=2)
    price_max = models.DecimalField(_("price up to"), max_digits=10, decimal_places=2)
    doctors = models.ManyToManyField(Doctor, blank=True, related_name="services",
                                     verbose_name=_("performed by"))
    preparation = models.TextField(_("preparation notes for the patient"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["category", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price_min__lte=F("price_max")),
                                   name="service_price_range_ordered"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0, duration_minutes__lte=MAX_DURATION_MINUTES),
                name="service_duration_bounded"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def fixed_price(self) -> bool:
        return self.price_min == self.price_max


class DoctorSchedule(models.Model):
    """A doctor's weekly template, in the clinic's representation and timezone.

    Seven entries, Monday first; each a list of ["HH:MM", "HH:MM"] intervals. Gaps between
    intervals are breaks; an empty list is a day off. Dated exceptions replace a whole day.
    """

    doctor = models.OneToOneField(Doctor, on_delete=models.CASCADE, related_name="schedule")
    weekly_hours = models.JSONField(_("weekly hours"), default=default_doctor_weekly_hours)

    class Meta:
        verbose_name = _("doctor's schedule")
        verbose_name_plural = _("doctors' schedules")

    def __str__(self) -> str:
        return f"{self.doctor}"


class ExceptionKind(models.TextChoices):
    VACATION = "vacation", _("Vacation")
    SICK = "sick", _("Sick leave")
    EXTRA_SHIFT = "extra_shift", _("Extra shift")
    CHANGED_HOURS = "changed_hours", _("Changed hours")


class DoctorScheduleException(models.Model):
    """A dated day that replaces the doctor's weekly hours (no intervals = off that day)."""

    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE,
                               related_name="schedule_exceptions")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=ExceptionKind.choices)
    intervals = models.JSONField(_("hours"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("schedule exception")
        verbose_name_plural = _("schedule exceptions")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["doctor", "date"],
                                    name="doctor_schedule_exception_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} {self.date}: {self.get_kind_display()}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")


class Appointment(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="appointments")
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(_("status"), max_length=20, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.BOOKED)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # The inbox owns conversations and depends on scheduling, so this is a plain id, not a FK.
    source_conversation_id = models.BigIntegerField(_("conversation"), null=True, blank=True,
                                                    db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    confirmed_via = models.CharField(_("confirmed via"), max_length=50, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["doctor", "start"], name="appointment_doctor_start"),
            models.Index(fields=["clinic", "start"], name="appointment_clinic_start"),
            models.Index(fields=["patient", "start"], name="appointment_patient_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")),
                                   name="appointment_ends_after_start"),
            # No double booking: a doctor's live appointments never overlap (Postgres only;
            # the booking service serialises bookings on SQLite).
            PostgresExclusionConstraint(
                name="appointment_no_overlap",
                expressions=[
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("doctor", RangeOperators.EQUAL),
                ],
                condition=~Q(status=AppointmentStatus.CANCELLED),
                violation_error_message=_("The doctor already has an appointment at this time."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} {self.start:%Y-%m-%d %H:%M} {self.get_status_display()}"

    @property
    def is_live(self) -> bool:
        """Booked or confirmed: it still holds the doctor's time and can be changed."""
        return self.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
