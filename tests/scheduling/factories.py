from datetime import timedelta
from decimal import Decimal

import factory

from scheduling.models import (
    Appointment,
    Doctor,
    DoctorSchedule,
    DoctorScheduleException,
    Service,
)
from tests.clinic.factories import ClinicFactory, PatientFactory

WEEKDAYS_9_TO_20_WITH_LUNCH = [[["09:00", "13:00"], ["14:00", "20:00"]]] * 5 + [[], []]


class DoctorFactory(factory.django.DjangoModelFactory):
    """A doctor with a weekly schedule (Mon–Fri 09:00–13:00, 14:00–20:00); pass
    `schedule__weekly_hours=[...]` to change it."""

    class Meta:
        model = Doctor
        skip_postgeneration_save = True

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Петров Иван {n}")
    specialties = factory.LazyFunction(lambda: ["терапевт"])
    schedule = factory.RelatedFactory(
        "tests.scheduling.factories.DoctorScheduleFactory", factory_related_name="doctor")


class DoctorScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoctorSchedule

    doctor = factory.SubFactory(DoctorFactory, schedule=None)
    weekly_hours = factory.LazyFunction(lambda: list(WEEKDAYS_9_TO_20_WITH_LUNCH))


class DoctorScheduleExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoctorScheduleException

    doctor = factory.SubFactory(DoctorFactory)
    kind = "vacation"
    intervals = factory.LazyFunction(list)


class ServiceFactory(factory.django.DjangoModelFactory):
    """A service; `doctors=[...]` lists who performs it."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    clinic = factory.SubFactory(ClinicFactory)
    name = "Лечение кариеса"
    category = "Терапия"
    duration_minutes = 60
    price_min = Decimal("5000")
    price_max = Decimal("8000")

    @factory.post_generation
    def doctors(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted:
            self.doctors.set(extracted)


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    doctor = factory.SubFactory(DoctorFactory)
    clinic = factory.SelfAttribute("doctor.clinic")
    patient = factory.SubFactory(PatientFactory, clinic=factory.SelfAttribute("..clinic"))
    service = factory.SubFactory(ServiceFactory, clinic=factory.SelfAttribute("..clinic"))
    end = factory.LazyAttribute(lambda a: a.start + timedelta(minutes=a.service.duration_minutes))
    created_at = factory.LazyAttribute(lambda a: a.start - timedelta(days=1))
