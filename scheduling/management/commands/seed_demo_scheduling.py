"""Give the demo clinic doctors, services, schedules and a month of appointments. Safe to run twice.

Run `seed_demo` first. Doctors, schedules and services are matched by name; vacations and
appointments, which are dated around today, are created only while the clinic has none.
"""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic import clock
from clinic.management.commands.seed_demo import DEMO_CLINIC
from clinic.models import Clinic, Role
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    DoctorSchedule,
    DoctorScheduleException,
    ExceptionKind,
    Service,
)
from scheduling.selectors import doctor_working_spans

OFF: list[list[str]] = []

# name, specialties, weekly hours Monday..Sunday
DOCTORS = (
    ("Смирнова Елена Викторовна", ["терапевт", "эндодонтист"],
     [[["09:00", "14:00"], ["14:30", "18:00"]]] * 5 + [OFF, OFF]),
    ("Кузнецов Андрей Павлович", ["хирург", "имплантолог"],
     [[["10:00", "14:00"], ["15:00", "20:00"]], OFF, [["10:00", "14:00"], ["15:00", "20:00"]],
      OFF, [["10:00", "14:00"], ["15:00", "20:00"]], [["10:00", "15:00"]], OFF]),
    ("Волкова Ирина Олеговна", ["ортодонт"],
     [OFF, [["09:00", "13:00"], ["14:00", "19:00"]], OFF,
      [["09:00", "13:00"], ["14:00", "19:00"]], OFF, [["10:00", "16:00"]], OFF]),
    ("Лебедева Мария Андреевна", ["гигиенист"],
     [[["12:00", "16:00"], ["16:30", "20:00"]]] * 5 + [OFF, OFF]),
    ("Орлова Наталья Игоревна", ["детский стоматолог"],
     [[["09:00", "13:00"], ["14:00", "17:00"]]] * 5 + [OFF, OFF]),
    ("Морозов Дмитрий Сергеевич", ["имплантолог", "ортопед"],
     [OFF, [["10:00", "14:00"], ["15:00", "20:00"]], OFF,
      [["10:00", "14:00"], ["15:00", "20:00"]], OFF, OFF, OFF]),
    ("Соколов Игорь Николаевич", ["терапевт"],
     [[["14:00", "20:00"]]] * 5 + [[["10:00", "16:00"]], OFF]),
    ("Павлова Ольга Михайловна", ["гигиенист", "терапевт"],
     [[["09:00", "13:00"], ["13:30", "16:00"]], OFF, [["09:00", "13:00"], ["13:30", "16:00"]],
      OFF, [["09:00", "13:00"], ["13:30", "16:00"]], OFF, OFF]),
)

# category, name, minutes, price from, price to (roubles), performed by (specialty), preparation
SERVICES = (
    ("Диагностика", "Консультация стоматолога-терапевта", 30, 1000, 1000, "терапевт",
     "Возьмите паспорт и снимки, если они есть."),
    ("Диагностика", "Прицельный рентгеновский снимок", 15, 500, 500, "терапевт", ""),
    ("Диагностика", "Компьютерная томография челюсти", 30, 3500, 3500, "хирург",
     "Снимите серьги, пирсинг и съёмные протезы."),
    ("Гигиена", "Профессиональная гигиена полости рта", 60, 4500, 6500, "гигиенист",
     "За 2 часа до визита не ешьте и не пейте кофе и чай."),
    ("Гигиена", "Отбеливание зубов ZOOM 4", 90, 25000, 30000, "гигиенист",
     "Сначала нужна профессиональная гигиена; 48 часов после — «белая диета»."),
    ("Гигиена", "Фторирование зубов", 30, 1500, 1500, "гигиенист", ""),
    ("Терапия", "Лечение кариеса", 60, 5000, 8500, "терапевт",
     "Позавтракайте заранее: после анестезии 2 часа лучше не есть."),
    ("Терапия", "Лечение пульпита (одноканальный зуб)", 90, 9000, 12000, "терапевт",
     "Позавтракайте заранее: после анестезии 2 часа лучше не есть."),
    ("Терапия", "Лечение каналов под микроскопом", 120, 15000, 25000, "эндодонтист",
     "Возьмите свежий снимок зуба, если он есть."),
    ("Терапия", "Художественная реставрация зуба", 90, 9000, 14000, "терапевт", ""),
    ("Хирургия", "Удаление зуба простое", 30, 3000, 4500, "хирург",
     "Поешьте за час до визита; сообщите врачу о лекарствах, которые принимаете."),
    ("Хирургия", "Удаление зуба мудрости", 60, 7000, 15000, "хирург",
     "Нужен снимок (ОПТГ или КТ). Поешьте за час до визита."),
    ("Хирургия", "Синус-лифтинг", 90, 35000, 60000, "хирург",
     "Нужна КТ не старше 6 месяцев и общий анализ крови."),
    ("Имплантация", "Консультация имплантолога с планом лечения", 30, 1500, 1500,
     "имплантолог", "Возьмите КТ, если она есть."),
    ("Имплантация", "Установка импланта Osstem", 90, 38000, 45000, "имплантолог",
     "Нужны КТ и анализы крови; за сутки до операции исключите алкоголь."),
    ("Имплантация", "Установка импланта Straumann", 90, 65000, 80000, "имплантолог",
     "Нужны КТ и анализы крови; за сутки до операции исключите алкоголь."),
    ("Ортодонтия", "Консультация ортодонта", 45, 1500, 1500, "ортодонт",
     "Возьмите ОПТГ и ТРГ, если они есть."),
    ("Ортодонтия", "Установка брекет-системы (одна челюсть)", 120, 45000, 90000, "ортодонт",
     "Перед установкой нужна профессиональная гигиена."),
    ("Ортодонтия", "Коррекция брекет-системы", 30, 3000, 4000, "ортодонт", ""),
    ("Детская стоматология", "Адаптационный визит для ребёнка", 30, 1000, 1000,
     "детский стоматолог", "Расскажите ребёнку о визите спокойно, без слов «больно» и «укол»."),
    ("Детская стоматология", "Лечение молочного зуба", 45, 3500, 5500, "детский стоматолог",
     "Покормите ребёнка за час до визита."),
    ("Детская стоматология", "Герметизация фиссур", 30, 2000, 2500, "детский стоматолог", ""),
    ("Ортопедия", "Коронка металлокерамическая", 60, 15000, 18000, "ортопед", ""),
    ("Ортопедия", "Коронка из диоксида циркония", 60, 28000, 35000, "ортопед", ""),
)

CONFIRMED_VIA = ("telegram button", "telegram button", "whatsapp button", "phone", "sms link")
CANCELLATION_REASONS = ("Заболел(а)", "Заболел ребёнок", "Не может прийти, работа",
                        "Перенесёт позже, напишет сам(а)", "Уезжает в командировку",
                        "Записался(ась) в другую клинику", "")
DAYS_BACK = 21
DAYS_AHEAD = 14


class Command(BaseCommand):
    help = "Give the demo clinic doctors, services, schedules and a month of appointments."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true",
                            help="Run even with DEBUG off.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo_scheduling writes demo data; it runs only with "
                               "DEBUG=1 (or --force).")
        clinic = Clinic.objects.filter(name=DEMO_CLINIC).first()
        if clinic is None:
            raise CommandError(f"No demo clinic «{DEMO_CLINIC}»: run seed_demo first.")
        now = clock.now()
        with transaction.atomic():
            doctors = self._doctors(clinic)
            services = self._services(clinic, doctors)
            if not Appointment.objects.filter(clinic=clinic).exists():
                today = now.astimezone(ZoneInfo(clinic.timezone)).date()
                self._exceptions(doctors, today)
                self._appointments(clinic, doctors, services, today, now)
        self.stdout.write(self.style.SUCCESS(
            f"{clinic.name}: {len(doctors)} doctors, {len(services)} services, "
            f"{Appointment.objects.filter(clinic=clinic).count()} appointments"))

    def _doctors(self, clinic: Clinic) -> list[Doctor]:
        doctors = []
        for name, specialties, weekly in DOCTORS:
            doctor, _ = Doctor.objects.get_or_create(clinic=clinic, name=name,
                                                     defaults={"specialties": specialties})
            DoctorSchedule.objects.get_or_create(doctor=doctor, defaults={"weekly_hours": weekly})
            doctors.append(doctor)
        return doctors

    def _services(self, clinic: Clinic, doctors: list[Doctor]) -> list[Service]:
        services = []
        for category, name, minutes, low, high, specialty, preparation in SERVICES:
            service, created = Service.objects.get_or_create(clinic=clinic, name=name, defaults={
                "category": category, "duration_minutes": minutes, "price_min": Decimal(low),
                "price_max": Decimal(high), "preparation": preparation})
            if created:
                service.doctors.set([d for d in doctors if specialty in d.specialties])
            services.append(service)
        return services

    def _exceptions(self, doctors: list[Doctor], today: date) -> None:
        by_name = {d.name.split()[0]: d for d in doctors}
        next_monday = today + timedelta(days=7 - today.weekday())
        rows = [(by_name["Лебедева"], next_monday + timedelta(days=n), ExceptionKind.VACATION,
                 OFF, "Отпуск") for n in range(5)]
        rows += [(by_name["Соколов"], today - timedelta(days=n), ExceptionKind.SICK, OFF,
                  "Больничный") for n in (8, 9)]
        rows.append((by_name["Смирнова"], next_monday + timedelta(days=5),
                     ExceptionKind.EXTRA_SHIFT, [["10:00", "15:00"]], "Дополнительная смена"))
        rows.append((by_name["Волкова"], next_monday + timedelta(days=1),
                     ExceptionKind.CHANGED_HOURS, [["12:00", "19:00"]], "Конференция утром"))
        for doctor, day, kind, intervals, note in rows:
            DoctorScheduleException.objects.get_or_create(
                doctor=doctor, date=day, defaults={"kind": kind, "intervals": intervals,
                                                   "note": note})

    def _appointments(self, clinic: Clinic, doctors: list[Doctor], services: list[Service],
                      today: date, now: datetime) -> None:
        rng = random.Random(2026)  # the same demo every time
        patients = list(clinic.patients.order_by("id"))
        if not patients:
            return
        staff = [m.user for m in clinic.memberships.filter(role=Role.ADMINISTRATOR)
                 .select_related("user")]
        by_id = {s.pk: s for s in services}
        performs: dict[int, list[Service]] = {d.pk: [] for d in doctors}
        links = Service.doctors.through.objects.filter(service__in=services).order_by("id")
        for doctor_id, service_id in links.values_list("doctor_id", "service_id"):
            if doctor_id in performs:
                performs[doctor_id].append(by_id[service_id])
        rows = []
        for doctor in doctors:
            if not performs[doctor.pk]:
                continue
            spans = doctor_working_spans(clinic=clinic, doctor=doctor,
                                         start_date=today - timedelta(days=DAYS_BACK),
                                         end_date=today + timedelta(days=DAYS_AHEAD))
            for span_start, span_end in spans:
                t = span_start
                days_ahead = (t - now) / timedelta(days=1)
                fill = 0.75 if days_ahead < 0 else max(0.15, 0.65 - days_ahead * 0.04)
                while True:
                    service = rng.choice(performs[doctor.pk])
                    end = t + timedelta(minutes=service.duration_minutes)
                    if end > span_end:
                        break
                    if rng.random() < fill:
                        rows.append(self._appointment(rng, clinic, doctor, service, t, end,
                                                      rng.choice(patients), staff, now))
                        t = end + timedelta(minutes=rng.choice((0, 0, 0, 15)))
                    else:
                        t += timedelta(minutes=30)
        Appointment.objects.bulk_create(rows)

    def _appointment(self, rng: random.Random, clinic: Clinic, doctor: Doctor,
                     service: Service, start: datetime, end: datetime, patient: Any,
                     staff: list[Any], now: datetime) -> Appointment:
        created_at = min(now, start - timedelta(days=rng.randrange(1, 15),
                                                minutes=rng.randrange(0, 600)))
        appointment = Appointment(
            clinic=clinic, patient=patient, doctor=doctor, service=service, start=start,
            end=end, created_at=created_at,
            created_by=rng.choice(staff) if staff and rng.random() < 0.8 else None)
        roll = rng.random()
        if end <= now:
            if roll < 0.12:
                status = AppointmentStatus.CANCELLED
            elif roll < 0.18:
                status = AppointmentStatus.NO_SHOW
            else:
                status = AppointmentStatus.COMPLETED
        elif roll < 0.08:
            status = AppointmentStatus.CANCELLED
        elif (start - now < timedelta(days=2) and roll < 0.75) or roll < 0.3:
            status = AppointmentStatus.CONFIRMED
        else:
            status = AppointmentStatus.BOOKED
        appointment.status = status
        if status == AppointmentStatus.CANCELLED:
            appointment.cancellation_reason = rng.choice(CANCELLATION_REASONS)
            cancelled_at = start - timedelta(hours=rng.randrange(2, 48))
            appointment.cancelled_at = min(now, max(created_at, cancelled_at))
        if status in (AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED,
                      AppointmentStatus.NO_SHOW):
            appointment.confirmed_via = rng.choice(CONFIRMED_VIA)
            appointment.confirmed_at = max(created_at, start - timedelta(
                hours=rng.randrange(3, 30)))
            appointment.confirmed_at = min(appointment.confirmed_at, now)
        return appointment
