"""CSV import benchmark: how long an onboarding batch takes to preview and to import.

What it measures
    One batch of 10 doctors, 40 services, --patients patients and --appointments future
    appointments (sequential 30-minute visits in the doctors' schedules, booked through
    ``appointment_book`` like every import) into a fresh clinic:
    1. the preview (a dry run: every row checked and written, then rolled back),
    2. the import itself,
    3. the same files again (every row found and skipped),
    4. each kind imported on its own (in order, into a second clinic), rows per second.

How it runs
    Postgres (default): creates the database --database (dropped first if it exists), migrates
    it in a subprocess, sets Django up on it here (DEBUG off), measures, drops it again.
    With --sqlite: the same on a SQLite file in a temporary directory. Prints figures, asserts
    nothing about timing.

Usage
    .venv/bin/python bench/csv_import.py [--patients 5000] [--appointments 2000]
                                         [--database clinic_csv_import_bench] [--sqlite]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scratch_db import database_drop, database_recreate, django_on

MOSCOW = ZoneInfo("Europe/Moscow")
MONDAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=MOSCOW)  # the Friday before
DOCTORS = 10
SERVICES = 40
SHIFT = "08:00-14:00, 15:00-21:00"


def files(patients: int, appointments: int) -> dict[str, bytes]:
    """The four files, Russian headers, semicolons, as Excel writes them (Windows-1251)."""
    doctors = ["ФИО;Специальности;пн;вт;ср;чт;пт;сб;вс"]
    names = [f"Врачова Анна {n:02d}" for n in range(DOCTORS)]
    doctors += [f"{name};терапевт;{SHIFT};{SHIFT};{SHIFT};{SHIFT};{SHIFT};;" for name in names]
    services = ["Название;Категория;Длительность;Цена;Врачи"]
    services += [f"Услуга {n:02d};Терапия;30;{1000 + n * 100}-{2000 + n * 100};"
                 f"\"{', '.join(names)}\"" for n in range(SERVICES)]
    people = ["Фамилия;Имя;Отчество;Телефон;Дата рождения"]
    people += [f"Пациентов{n};Иван;Петрович;8 916 {n // 10000:03d}-{n % 10000 // 100:02d}-"
               f"{n % 100:02d};{1 + n % 28:02d}.0{1 + n % 9}.19{50 + n % 50}"
               for n in range(patients)]
    visits = ["Телефон;Врач;Услуга;Начало;Статус"]
    count = 0
    day = MONDAY
    while count < appointments:
        if day.weekday() < 5:
            for doctor in names:
                for hour in (8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20):
                    for minute in (0, 30):
                        if count == appointments:
                            break
                        n = count % patients
                        visits.append(
                            f"8 916 {n // 10000:03d}-{n % 10000 // 100:02d}-{n % 100:02d};"
                            f"{doctor};Услуга {count % SERVICES:02d};"
                            f"{day:%d.%m.%Y} {hour:02d}:{minute:02d};записан")
                        count += 1
        day += timedelta(days=1)
    return {kind: ("\r\n".join(lines) + "\r\n").encode("cp1251") for kind, lines in
            (("doctors", doctors), ("services", services), ("patients", people),
             ("appointments", visits))}


def timed(label: str, function, rows: int) -> object:
    began = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - began
    print(f"{label}: {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")
    return result


def run(patients: int, appointments: int) -> int:
    from clinic.models import Clinic
    from scheduling.imports import ImportFile, csv_import
    from scheduling.models import Appointment

    data = files(patients, appointments)
    rows = sum(len(d.splitlines()) - 1 for d in data.values())
    batch = {kind: ImportFile(f"{kind}.csv", content) for kind, content in data.items()}
    print(f"batch: {rows} rows, {sum(len(d) for d in data.values()) / 1024:.0f} KiB")
    clinic = Clinic.objects.create(name="Клиника «Импорт»", timezone="Europe/Moscow")

    def batch_run(dry_run: bool):
        return csv_import(clinic=clinic, files=batch, by=None, now=NOW, dry_run=dry_run)

    preview = timed("preview (dry run)", lambda: batch_run(True), rows)
    if not preview.ok:
        print("unexpected problems:", [i for f in preview.files for i in f.issues][:5])
        return 1
    timed("import", lambda: batch_run(False), rows)
    again = timed("the same files again", lambda: batch_run(False), rows)
    skipped = sum(f.skipped for f in again.files)
    print(f"  skipped {skipped} of {rows} rows")

    second = Clinic.objects.create(name="Клиника «Импорт 2»", timezone="Europe/Moscow")
    for kind, content in data.items():
        def one(kind=kind, content=content):
            return csv_import(clinic=second, files={kind: ImportFile(kind, content)}, by=None,
                              now=NOW, dry_run=False)
        timed(f"  {kind} alone", one, len(content.splitlines()) - 1)
    booked = Appointment.objects.filter(clinic=second).count()
    ok = skipped == rows and booked == appointments
    print(f"summary: {rows} rows previewed and imported; {booked} appointments booked; "
          f"{'ok' if ok else 'MISMATCH'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--appointments", type=int, default=2000)
    parser.add_argument("--database", default="clinic_csv_import_bench")
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="csv-import-bench-")
    try:
        if args.sqlite:
            django_on(f"sqlite:///{var_dir}/bench.sqlite3", var_dir)
        else:
            database_recreate(args.database)
            django_on(f"postgres://postgres@127.0.0.1:5432/{args.database}", var_dir)
        return run(args.patients, args.appointments)
    finally:
        if not args.sqlite:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            database_drop(args.database)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
