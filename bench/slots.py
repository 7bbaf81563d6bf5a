"""Slot-finder and booking benchmark on Postgres.

What it measures
    1. ``scheduling.selectors.free_slots`` for a clinic with 10 doctors who all perform the
       measured service, over a two-week window that already holds 2,000 live appointments
       (plus breaks, a vacation day and a clinic holiday): p50/p95/max over --calls calls for the
       default limit (the next 20 slots) and for every free slot in the window.
    2. ``scheduling.services.appointment_book`` throughput with --bookers concurrent threads,
       each with its own connection, booking its own distinct slots (in the two weeks after the
       measured window, so there is room for them) plus a share of slots that
       the next booker also wants (so some bookings lose, through the pre-check or through the
       exclusion constraint): bookings/s, SlotTaken count, and a double-booking check.

How it runs
    Creates a fresh Postgres database ``clinic_slots_bench`` (dropped first if it exists),
    migrates it with ``manage.py migrate`` in a subprocess, then sets Django up in this process
    on that database (DEBUG off, so no query log), builds the data, measures, and drops the
    database again -- also on Ctrl-C or an error. It prints figures and asserts nothing about
    timing.

Usage
    .venv/bin/python bench/slots.py [--calls 200] [--bookers 8] [--per-booker 50]
                                    [--contended 10] [--seed 1]

    Needs Postgres at 127.0.0.1:5432 (user postgres, trust auth).

Output
    One figure a line, then a one-line summary. Exit status 1 when the data set is off or a
    doctor ends up double-booked, never because of timing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from scratch_db import database_drop, database_recreate, django_on, percentile

HOST = "127.0.0.1"
DB_NAME = "clinic_slots_bench"
DATABASE_URL = f"postgres://postgres@{HOST}:5432/{DB_NAME}"

MOSCOW = ZoneInfo("Europe/Moscow")
MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=MOSCOW)  # before the window opens
DAYS = 14
DOCTORS = 10
APPOINTMENTS = 2000
WEEKLY = [[["08:00", "14:00"], ["15:00", "21:00"]]] * 5 + [[["10:00", "16:00"]], []]
BOOKING_START = MONDAY + timedelta(days=DAYS)  # bookers fill the two weeks after the window








def build(rng: random.Random) -> dict[str, Any]:
    """The clinic, its doctors and services, and 2,000 appointments in the window."""
    from clinic.models import Clinic, ClinicDayException, Patient
    from scheduling.models import (
        Appointment,
        Doctor,
        DoctorSchedule,
        DoctorScheduleException,
        Service,
    )
    from scheduling.selectors import doctor_working_spans

    clinic = Clinic.objects.create(name="Клиника «Бенчмарк»", timezone="Europe/Moscow")
    ClinicDayException.objects.create(clinic=clinic, date=MONDAY + timedelta(days=10),
                                      intervals=[], note="Праздник")
    patients = Patient.objects.bulk_create(
        Patient(clinic=clinic, last_name=f"Пациентов{n}", first_name="Иван",
                phone=f"+7916{n:07d}") for n in range(300))
    doctors = []
    for n in range(DOCTORS):
        doctor = Doctor.objects.create(clinic=clinic, name=f"Врач {n:02d}",
                                       specialties=["терапевт"])
        DoctorSchedule.objects.create(doctor=doctor, weekly_hours=WEEKLY)
        doctors.append(doctor)
    DoctorScheduleException.objects.create(doctor=doctors[3], date=MONDAY + timedelta(days=2),
                                           kind="vacation", intervals=[])
    measured = Service.objects.create(clinic=clinic, name="Лечение кариеса", category="Терапия",
                                      duration_minutes=30, price_min=5000, price_max=8000)
    measured.doctors.set(doctors)
    fillers = [Service.objects.create(clinic=clinic, name=f"Услуга {m} мин", category="Терапия",
                                      duration_minutes=m, price_min=1000, price_max=1000)
               for m in (15, 30, 45)]
    for service in fillers:
        service.doctors.set(doctors)

    candidates: dict[int, list[tuple[datetime, datetime, Any]]] = {}
    for doctor in doctors:
        rows = []
        spans = doctor_working_spans(clinic=clinic, doctor=doctor, start_date=MONDAY,
                                     end_date=MONDAY + timedelta(days=DAYS - 1))
        for span_start, span_end in spans:
            t = span_start
            while True:
                service = rng.choice(fillers)
                end = t + timedelta(minutes=service.duration_minutes)
                if end > span_end:
                    break
                rows.append((t, end, service))
                t = end + timedelta(minutes=rng.choice((0, 0, 0, 15)))
        candidates[doctor.pk] = rows
    # 200 a doctor where the schedule allows; the shortfall (vacation) goes to the others.
    per_doctor = APPOINTMENTS // DOCTORS
    chosen, leftover = [], []
    for doctor in doctors:
        rows = [(doctor, *row) for row in candidates[doctor.pk]]
        rng.shuffle(rows)
        chosen += rows[:per_doctor]
        leftover += rows[per_doctor:]
    chosen += rng.sample(leftover, APPOINTMENTS - len(chosen))
    appointments = [
        Appointment(clinic=clinic, patient=rng.choice(patients), doctor=doctor, service=service,
                    start=start, end=end, status=rng.choice(("booked", "confirmed")),
                    created_at=NOW - timedelta(days=1))
        for doctor, start, end, service in chosen]
    Appointment.objects.bulk_create(appointments)
    # A few cancelled ones too: the finder must skip them in the same query.
    Appointment.objects.filter(pk__in=[a.pk for a in appointments[::50]]).update(
        status="cancelled")
    return {"clinic": clinic, "doctors": doctors, "service": measured, "patients": patients,
            "live": Appointment.objects.exclude(status="cancelled").count()}


def measure_free_slots(data: dict[str, Any], calls: int, limit: int) -> tuple[list[float], int]:
    from scheduling.selectors import free_slots

    kwargs = {"clinic": data["clinic"], "service": data["service"], "start_date": MONDAY,
              "end_date": MONDAY + timedelta(days=DAYS - 1), "limit": limit}
    for _ in range(10):  # warm-up: connection, statement paths, imports
        free_slots(now=NOW, **kwargs)
    latencies = []
    found = 0
    for n in range(calls):
        now = NOW + timedelta(minutes=n % 60)  # vary the input a little
        began = time.perf_counter()
        slots = free_slots(now=now, **kwargs)
        latencies.append((time.perf_counter() - began) * 1000)
        found = len(slots)
    return sorted(latencies), found


def query_count(data: dict[str, Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduling.selectors import free_slots

    with CaptureQueriesContext(connection) as captured:
        free_slots(clinic=data["clinic"], service=data["service"], start_date=MONDAY,
                   end_date=MONDAY + timedelta(days=DAYS - 1), now=NOW)
    return len(captured.captured_queries)


def measure_booking(data: dict[str, Any], bookers: int, per_booker: int, contended: int,
                    rng: random.Random) -> dict[str, Any]:
    from django.db import connection

    from scheduling.selectors import free_slots
    from scheduling.services import SlotTaken, appointment_book

    service = data["service"]
    everything = free_slots(clinic=data["clinic"], service=service, start_date=BOOKING_START,
                            end_date=BOOKING_START + timedelta(days=DAYS - 1), now=NOW,
                            limit=100_000)
    # Disjoint slots only: 30-minute slots on a 15-minute grid overlap their neighbours.
    disjoint, last_end = [], {}
    for slot in sorted(everything, key=lambda s: (s.doctor_id, s.start)):
        if slot.start >= last_end.get(slot.doctor_id, slot.start):
            disjoint.append(slot)
            last_end[slot.doctor_id] = slot.end
    rng.shuffle(disjoint)
    needed = bookers * per_booker
    if len(disjoint) < needed:
        raise SystemExit(f"only {len(disjoint)} disjoint free slots, need {needed}")
    own = [disjoint[i * per_booker:(i + 1) * per_booker] for i in range(bookers)]
    plans = []
    for i in range(bookers):
        # The first `contended` slots of the next booker are wanted by this one too.
        plan = own[i] + own[(i + 1) % bookers][:contended]
        rng.shuffle(plan)
        plans.append(plan)
    doctors = {d.pk: d for d in data["doctors"]}
    patients = data["patients"]
    results = {"booked": 0, "taken": 0, "errors": [], "latencies": []}
    lock = threading.Lock()
    barrier = threading.Barrier(bookers + 1)

    def booker(plan: list[Any], seed: int) -> None:
        local = random.Random(seed)
        try:
            barrier.wait()
            for slot in plan:
                began = time.perf_counter()
                outcome = "booked"
                try:
                    appointment_book(clinic=data["clinic"], patient=local.choice(patients),
                                     doctor=doctors[slot.doctor_id], service=service,
                                     start=slot.start, created_by=None, now=NOW)
                except SlotTaken:
                    outcome = "taken"
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    results[outcome] += 1
                    results["latencies"].append(elapsed)
        except Exception as error:  # reported in the output
            with lock:
                results["errors"].append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=booker, args=(plan, i)) for i, plan in enumerate(plans)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    results["wall"] = time.perf_counter() - began
    results["attempts"] = sum(len(p) for p in plans)
    results["contended"] = bookers * contended
    results["latencies"].sort()
    return results


def overlaps_in_database() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b
              ON a.doctor_id = b.doctor_id AND a.id < b.id
             AND a.status <> 'cancelled' AND b.status <> 'cancelled'
             AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")
        """)
        return cursor.fetchone()[0]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="measured free_slots calls")
    parser.add_argument("--bookers", type=int, default=8, help="concurrent booking threads")
    parser.add_argument("--per-booker", type=int, default=50,
                        help="distinct slots each booker owns")
    parser.add_argument("--contended", type=int, default=10,
                        help="slots each booker also tries from the next booker's share")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if min(args.calls, args.bookers, args.per_booker) < 1 or args.contended < 0:
        parser.error("need --calls, --bookers, --per-booker >= 1 and --contended >= 0")
    if args.contended > args.per_booker:
        parser.error("--contended cannot exceed --per-booker")
    return args


def main() -> int:
    args = parse_args()
    rng = random.Random(args.seed)
    var_dir = tempfile.mkdtemp(prefix="clinic-slots-bench-")
    created_db = False

    def terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, terminate)
    try:
        print(f"setup: database {DB_NAME}, migrate …", flush=True)
        database_recreate(DB_NAME)
        created_db = True
        django_on(DATABASE_URL, var_dir)
        from django.db import connection

        data = build(rng)
        print(f"data: {DOCTORS} doctors x {DAYS} days, {data['live']} live appointments "
              f"(of {APPOINTMENTS}), 1 vacation day, 1 clinic holiday", flush=True)
        queries = query_count(data)
        first, first_found = measure_free_slots(data, args.calls, limit=20)
        full, full_found = measure_free_slots(data, args.calls, limit=100_000)
        print(f"booking: {args.bookers} bookers x ({args.per_booker} own + {args.contended} "
              "contended) slots …", flush=True)
        booking = measure_booking(data, args.bookers, args.per_booker, args.contended, rng)
        overlaps = overlaps_in_database()
        pg_version = connection.cursor().connection.info.server_version
        connection.close()

        lat = booking["latencies"]
        rate = booking["booked"] / booking["wall"] if booking["wall"] else 0.0
        attempts_rate = booking["attempts"] / booking["wall"] if booking["wall"] else 0.0
        data_ok = data["live"] == APPOINTMENTS - len(range(0, APPOINTMENTS, 50))
        print()
        print(f"postgres             {pg_version // 10000}.{pg_version % 10000}, "
              f"{os.cpu_count()} CPU(s)")
        print(f"free_slots queries   {queries} per call")
        print(f"free_slots next 20   p50 {percentile(first, 0.5):.2f} ms, "
              f"p95 {percentile(first, 0.95):.2f} ms, max {first[-1]:.2f} ms "
              f"({args.calls} calls, {first_found} slots each)")
        print(f"free_slots all       p50 {percentile(full, 0.5):.2f} ms, "
              f"p95 {percentile(full, 0.95):.2f} ms, max {full[-1]:.2f} ms "
              f"({args.calls} calls, {full_found} slots each)")
        print(f"booking attempts     {booking['attempts']} ({booking['contended']} on slots "
              "another booker also wants)")
        print(f"booked               {booking['booked']}")
        print(f"SlotTaken            {booking['taken']}")
        print(f"errors               {len(booking['errors'])}")
        for error in booking["errors"][:5]:
            print(f"  error              {error}")
        print(f"booking wall time    {booking['wall']:.2f} s")
        print(f"bookings/s           {rate:.0f} ({attempts_rate:.0f} attempts/s)")
        print(f"booking latency      p50 {percentile(lat, 0.5):.1f} ms, "
              f"p95 {percentile(lat, 0.95):.1f} ms, mean "
              f"{statistics.fmean(lat) if lat else float('nan'):.1f} ms")
        print(f"double bookings      {overlaps}")
        print()
        print(f"slots: free_slots p95 {percentile(first, 0.95):.2f} ms (next 20) / "
              f"{percentile(full, 0.95):.2f} ms (all {full_found}) over {DOCTORS} doctors x "
              f"{DAYS} days with {data['live']} appointments; {args.bookers} bookers "
              f"{rate:.0f} bookings/s, {booking['taken']} SlotTaken, "
              f"{overlaps} double bookings")
        ok = data_ok and overlaps == 0 and not booking["errors"]
        ok = ok and booking["booked"] + booking["taken"] == booking["attempts"]
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        if created_db:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            with contextlib.suppress(psycopg.Error):
                database_drop(DB_NAME)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
