"""Sample files an owner downloads to see the format: one batch that imports cleanly.

The appointments are dated from `today` (next week's Monday and Tuesday, and a visit two weeks
ago), so the sample stays importable whenever it is downloaded. Russian samples are what Russian
Excel reads and writes: UTF-8 with a BOM, semicolons, dates as 01.12.2026; English ones use
commas and 2026-12-01.
"""

import csv
import io
from datetime import date, datetime, time, timedelta

from scheduling.imports.kinds import IMPORTERS

WEEKDAY_SHIFT = "09:00-13:00, 14:00-18:00"
SURGEON_SHIFT = "10:00-14:00, 15:00-20:00"
HYGIENIST_SHIFT = "12:00-16:00, 16:30-20:00"

_ROWS = {
    "doctors": [
        {"name": "Петрова Анна Сергеевна", "specialties": "терапевт, эндодонтист",
         "active": "да", "mon": WEEKDAY_SHIFT, "tue": WEEKDAY_SHIFT, "wed": WEEKDAY_SHIFT,
         "thu": WEEKDAY_SHIFT, "fri": WEEKDAY_SHIFT},
        {"name": "Соколов Игорь Николаевич", "specialties": "хирург, имплантолог",
         "active": "да", "mon": SURGEON_SHIFT, "wed": SURGEON_SHIFT, "fri": SURGEON_SHIFT,
         "sat": "10:00-15:00"},
        {"name": "Лебедева Мария Андреевна", "specialties": "гигиенист", "active": "да",
         "mon": HYGIENIST_SHIFT, "tue": HYGIENIST_SHIFT, "wed": HYGIENIST_SHIFT,
         "thu": HYGIENIST_SHIFT, "fri": HYGIENIST_SHIFT, "sat": "", "sun": ""},
    ],
    "services": [
        {"name": "Консультация стоматолога-терапевта", "category": "Диагностика",
         "duration": "30", "price": "1000", "doctors": "Петрова Анна Сергеевна",
         "preparation": "Возьмите паспорт и снимки, если они есть."},
        {"name": "Лечение кариеса", "category": "Терапия", "duration": "60",
         "price": "5000-8500", "doctors": "Петрова Анна Сергеевна",
         "preparation": "Позавтракайте заранее: после анестезии 2 часа лучше не есть."},
        {"name": "Удаление зуба простое", "category": "Хирургия", "duration": "30",
         "price": "3000-4500", "doctors": "Соколов Игорь Николаевич",
         "preparation": "Поешьте за час до визита; скажите врачу, какие лекарства принимаете."},
        {"name": "Профессиональная гигиена полости рта", "category": "Гигиена",
         "duration": "60", "price": "4500-6500",
         "doctors": "Лебедева Мария Андреевна, Петрова Анна Сергеевна",
         "preparation": "За 2 часа до визита не ешьте и не пейте кофе и чай."},
    ],
    "patients": [
        {"last_name": "Иванова", "first_name": "Мария", "patronymic": "Петровна",
         "phone": "+7 916 123-45-67", "email": "maria.ivanova@example.com",
         "birthday": date(1985, 3, 12)},
        {"last_name": "Иванов", "first_name": "Пётр", "patronymic": "Сергеевич",
         "phone": "+7 916 123-45-67", "birthday": date(1983, 7, 30),
         "notes": "Муж Марии Ивановой, один телефон на двоих"},
        {"last_name": "Смирнов", "first_name": "Алексей", "phone": "8 (903) 555-12-34",
         "notes": "Боится уколов"},
    ],
    "appointments": [
        {"phone": "+7 916 123-45-67", "patient": "Иванова Мария",
         "doctor": "Петрова Анна Сергеевна", "service": "Лечение кариеса",
         "start": ("next monday", 0, time(10, 0)), "status": "booked"},
        {"phone": "+7 916 123-45-67", "patient": "Иванов Пётр",
         "doctor": "Соколов Игорь Николаевич", "service": "Удаление зуба простое",
         "start": ("next monday", 0, time(10, 0)), "status": "confirmed"},
        {"phone": "8 (903) 555-12-34", "doctor": "Лебедева Мария Андреевна",
         "service": "Профессиональная гигиена полости рта",
         "start": ("next monday", 1, time(12, 0)), "status": "booked"},
        {"phone": "+7 916 123-45-67", "patient": "Иванова Мария",
         "doctor": "Петрова Анна Сергеевна", "service": "Консультация стоматолога-терапевта",
         "start": ("today", -14, time(10, 0)), "status": "completed"},
    ],
}

_RU_STATUS = {"booked": "записан", "confirmed": "подтверждён", "completed": "пришёл"}


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def sample_csv(*, kind: str, language: str, today: date) -> bytes:
    """A sample file of `kind` with headers in `language` ("ru" or "en")."""
    russian = not language.startswith("en")
    columns = IMPORTERS[kind].columns
    rows = _ROWS[kind]
    used = [c for c in columns if any(c.key in row for row in rows)]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if russian else ",", lineterminator="\r\n")
    writer.writerow([c.ru if russian else c.en for c in used])
    monday = _next_monday(today)
    for row in rows:
        cells = []
        for column in used:
            value = row.get(column.key, "")
            if column.key == "start":
                origin, days, at = value
                day = (monday if origin == "next monday" else today) + timedelta(days=days)
                moment = datetime.combine(day, at)
                value = moment.strftime("%d.%m.%Y %H:%M" if russian else "%Y-%m-%d %H:%M")
            elif isinstance(value, date):
                value = value.strftime("%d.%m.%Y" if russian else "%Y-%m-%d")
            elif column.key == "status" and russian:
                value = _RU_STATUS.get(value, value)
            elif column.key == "active" and not russian:
                value = {"да": "yes", "нет": "no"}.get(value, value)
            cells.append(value)
        writer.writerow(cells)
    return out.getvalue().encode("utf-8-sig")
