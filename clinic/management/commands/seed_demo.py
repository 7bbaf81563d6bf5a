"""Create the demo clinic: staff with printed logins and ~200 patients. Safe to run twice."""

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic import clock, services
from clinic.models import (
    Channel,
    Clinic,
    ClinicDayException,
    ConsentSource,
    ConsentTopic,
    Membership,
    Role,
    TimeOfDay,
)

DEMO_PASSWORD = "demo-clinic"
DEMO_CLINIC = "Стоматология «Улыбка»"
DEMO_BRANCH = "Стоматология «Улыбка» на Садовой"

STAFF = (
    ("owner", Role.OWNER, "Ольга", "Смирнова"),
    ("manager", Role.MANAGER, "Марина", "Кузнецова"),
    ("anna", Role.ADMINISTRATOR, "Анна", "Белова"),
    ("irina", Role.ADMINISTRATOR, "Ирина", "Соколова"),
    ("dmitry", Role.ADMINISTRATOR, "Дмитрий", "Орлов"),
)

MALE_NAMES = ("Александр", "Алексей", "Андрей", "Артём", "Борис", "Вадим", "Виктор", "Владимир",
              "Георгий", "Денис", "Дмитрий", "Евгений", "Иван", "Игорь", "Илья", "Кирилл",
              "Константин", "Максим", "Михаил", "Никита", "Николай", "Олег", "Павел", "Роман",
              "Сергей", "Станислав", "Юрий", "Ярослав")
FEMALE_NAMES = ("Александра", "Алина", "Анастасия", "Анна", "Валентина", "Валерия", "Вера",
                "Виктория", "Галина", "Дарья", "Екатерина", "Елена", "Елизавета", "Ирина",
                "Ксения", "Лариса", "Людмила", "Марина", "Мария", "Наталья", "Ольга",
                "Полина", "Светлана", "Софья", "Татьяна", "Юлия")
# (male form, female form)
LAST_NAMES = (("Иванов", "Иванова"), ("Смирнов", "Смирнова"), ("Кузнецов", "Кузнецова"),
              ("Попов", "Попова"), ("Васильев", "Васильева"), ("Петров", "Петрова"),
              ("Соколов", "Соколова"), ("Михайлов", "Михайлова"), ("Новиков", "Новикова"),
              ("Фёдоров", "Фёдорова"), ("Морозов", "Морозова"), ("Волков", "Волкова"),
              ("Алексеев", "Алексеева"), ("Лебедев", "Лебедева"), ("Семёнов", "Семёнова"),
              ("Егоров", "Егорова"), ("Павлов", "Павлова"), ("Козлов", "Козлова"),
              ("Степанов", "Степанова"), ("Николаев", "Николаева"), ("Орлов", "Орлова"),
              ("Андреев", "Андреева"), ("Макаров", "Макарова"), ("Никитин", "Никитина"),
              ("Захаров", "Захарова"), ("Зайцев", "Зайцева"), ("Соловьёв", "Соловьёва"),
              ("Белов", "Белова"), ("Гусев", "Гусева"), ("Ковалёв", "Ковалёва"),
              ("Ильин", "Ильина"), ("Тихонов", "Тихонова"), ("Григорьев", "Григорьева"),
              ("Романов", "Романова"), ("Жуков", "Жукова"), ("Крылов", "Крылова"),
              ("Сорокин", "Сорокина"), ("Виноградов", "Виноградова"), ("Богданов", "Богданова"),
              ("Титов", "Титова"), ("Кудрявцев", "Кудрявцева"), ("Баранов", "Баранова"),
              ("Шевченко", "Шевченко"), ("Ким", "Ким"), ("Черных", "Черных"))
# father's name -> (male patronymic, female patronymic)
PATRONYMICS = (("Александрович", "Александровна"), ("Алексеевич", "Алексеевна"),
               ("Андреевич", "Андреевна"), ("Викторович", "Викторовна"),
               ("Владимирович", "Владимировна"), ("Дмитриевич", "Дмитриевна"),
               ("Евгеньевич", "Евгеньевна"), ("Иванович", "Ивановна"), ("Игоревич", "Игоревна"),
               ("Ильич", "Ильинична"), ("Михайлович", "Михайловна"), ("Николаевич", "Николаевна"),
               ("Олегович", "Олеговна"), ("Павлович", "Павловна"), ("Петрович", "Петровна"),
               ("Сергеевич", "Сергеевна"), ("Юрьевич", "Юрьевна"))
MOBILE_PREFIXES = ("903", "905", "906", "909", "910", "915", "916", "917", "919", "925", "926",
                   "929", "960", "962", "965", "977", "985", "999")
CHANNELS = (Channel.TELEGRAM, Channel.WHATSAPP, Channel.WHATSAPP, Channel.TELEGRAM,
            Channel.WEBCHAT, Channel.SMS, Channel.PHONE, "")
NOTES = ("", "", "", "", "Боится уколов, нужна спокойная обстановка.",
         "Аллергия на лидокаин.", "Предпочитает доктора-женщину.", "Приходит с ребёнком.",
         "Просит звонить только после 18:00.", "Постоянный пациент с 2019 года.")
# Consent given, by topic, for this share of patients.
CONSENT_SHARE = {
    ConsentTopic.APPOINTMENT: 0.85, ConsentTopic.RECALL: 0.6, ConsentTopic.FOLLOW_UP: 0.55,
    ConsentTopic.PLAN_ADHERENCE: 0.4, ConsentTopic.BIRTHDAY: 0.45,
    ConsentTopic.EDUCATION: 0.15, ConsentTopic.PROMOTIONS: 0.2,
}


def _holidays(year: int) -> list[tuple[date, list[list[str]], str]]:
    days = [(date(year, 1, d), [], "Новогодние каникулы") for d in range(1, 9)]
    days += [
        (date(year, 2, 23), [], "День защитника Отечества"),
        (date(year, 3, 8), [], "Международный женский день"),
        (date(year, 5, 1), [], "Праздник Весны и Труда"),
        (date(year, 5, 9), [], "День Победы"),
        (date(year, 6, 12), [], "День России"),
        (date(year, 11, 3), [["09:00", "19:00"]], "Предпраздничный день"),
        (date(year, 11, 4), [], "День народного единства"),
        (date(year, 12, 31), [["10:00", "15:00"]], "Короткий день"),
    ]
    return days


class Command(BaseCommand):
    help = "Create the demo clinic, its staff (printed logins) and about 200 patients."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--patients", type=int, default=200)
        parser.add_argument("--force", action="store_true",
                            help="Run even with DEBUG off (the demo logins have a known password).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo creates logins with a known password; it runs only "
                               "with DEBUG=1 (or --force).")
        now = clock.now()
        with transaction.atomic():
            clinic, created = self._clinic(DEMO_CLINIC, "Москва, ул. Пречистенка, 12",
                                           "+74951234567")
            branch, _ = self._clinic(DEMO_BRANCH, "Москва, Садовая-Кудринская ул., 20",
                                     "+74957654321")
            staff = self._staff(clinic, branch)
            if created or not clinic.patients.exists():
                self._holiday_days(clinic, now)
                self._patients(clinic, options["patients"], staff, now, seed=42)
                self._patients(branch, max(options["patients"] // 10, 1), staff, now, seed=7)
        self._print_logins(clinic)

    def _clinic(self, name: str, address: str, phone: str) -> tuple[Clinic, bool]:
        existing = Clinic.objects.filter(name=name).first()
        if existing is not None:
            return existing, False
        return services.clinic_create(
            name=name, address=address, phone=phone, timezone="Europe/Moscow",
            weekly_hours=[[["09:00", "14:00"], ["14:30", "20:00"]]] * 5
            + [[["10:00", "16:00"]], []],
            evening_duty_start=time(20, 0), evening_duty_end=time(22, 0),
            evening_duty_weekdays=[0, 1, 2, 3, 4]), True

    def _staff(self, clinic: Clinic, branch: Clinic) -> list[Any]:
        users = []
        user_model = get_user_model()
        for username, role, first, last in STAFF:
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            Membership.objects.get_or_create(user=user, clinic=clinic, defaults={"role": role})
            if role == Role.OWNER or username == "anna":
                Membership.objects.get_or_create(user=user, clinic=branch,
                                                 defaults={"role": role})
            users.append(user)
        return users

    def _holiday_days(self, clinic: Clinic, now: datetime) -> None:
        for year in (now.year, now.year + 1):
            for day, intervals, note in _holidays(year):
                ClinicDayException.objects.get_or_create(
                    clinic=clinic, date=day, defaults={"intervals": intervals, "note": note})

    def _patients(self, clinic: Clinic, count: int, staff: list[Any], now: datetime,
                  seed: int) -> None:
        rng = random.Random(seed)  # the same demo every time
        phones: list[str] = []
        for _ in range(count):
            female = rng.random() < 0.6
            first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
            last = rng.choice(LAST_NAMES)[1 if female else 0]
            patronymic = rng.choice(PATRONYMICS)[1 if female else 0] if rng.random() < 0.9 else ""
            if phones and rng.random() < 0.06:
                phone = rng.choice(phones)  # a family member's phone
            else:
                phone = f"8 {rng.choice(MOBILE_PREFIXES)} {rng.randrange(10**7):07d}"
            age_days = rng.randrange(3 * 365, 85 * 365)
            patient = services.patient_create(
                clinic=clinic, last_name=last, first_name=first, patronymic=patronymic,
                phone=phone,
                email=f"patient{rng.randrange(10**6)}@example.ru" if rng.random() < 0.4 else "",
                birthday=(now - timedelta(days=age_days)).date(),
                preferred_channel=rng.choice(CHANNELS),
                preferred_time_of_day=rng.choice([*TimeOfDay.values, ""]),
                preferred_days=sorted(rng.sample(range(7), rng.randrange(0, 6))),
                opted_out_all=rng.random() < 0.03,
                open_complaint=rng.random() < 0.03,
                left_unhappy=rng.random() < 0.04,
                notes=rng.choice(NOTES),
            )
            phones.append(patient.phone)
            for topic, share in CONSENT_SHARE.items():
                if rng.random() < share:
                    services.consent_record(
                        patient=patient, topic=topic, granted=True,
                        source=rng.choice(ConsentSource.values), recorded_by=rng.choice(staff),
                        now=now - timedelta(days=rng.randrange(1, 700)))

    def _print_logins(self, clinic: Clinic) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo clinic: {clinic.name}"))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, role, first, last in STAFF:
            self.stdout.write(f"  {username:<8} {str(role.label):<14} {first} {last}")
