"""CSV import for onboarding: doctors, services, patients, appointments; preview; all or nothing.

`now` is Tuesday 2026-11-24 11:00 in Moscow; the factories' doctors work Mon–Fri 09:00–13:00,
14:00–20:00.
"""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from clinic.models import Patient
from scheduling.imports import IMPORTERS, ImportFile, csv_import, sample_csv
from scheduling.imports.reading import (
    CellError,
    local_datetime_parse,
    price_parse,
    table_read,
)
from scheduling.models import Appointment, Doctor, Service
from tests.clinic.factories import PatientFactory
from tests.conftest import MOSCOW
from tests.scheduling.factories import AppointmentFactory, DoctorFactory, ServiceFactory


@pytest.fixture(autouse=True)
def english(settings):
    """Problems are asserted by code; the few messages read as text are read in English."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def run(clinic, now, *, dry_run=False, by=None, encoding="utf-8", **texts):
    files = {kind: ImportFile(f"{kind}.csv", text.encode(encoding)) for kind, text in
             texts.items()}
    return csv_import(clinic=clinic, files=files, by=by, now=now, dry_run=dry_run)


def problems(report):
    return [(f.kind, i.line, i.column, i.code) for f in report.files for i in f.issues]


def actions(report, kind):
    file = next(f for f in report.files if f.kind == kind)
    return [(row.line, row.action.value) for row in file.rows]


@pytest.fixture
def doctor(clinic):
    return DoctorFactory(clinic=clinic, name="Петрова Анна Сергеевна")


@pytest.fixture
def service(clinic, doctor):
    return ServiceFactory(clinic=clinic, name="Лечение кариеса", duration_minutes=60,
                          doctors=[doctor])


@pytest.fixture
def maria(clinic):
    return PatientFactory(clinic=clinic, last_name="Иванова", first_name="Мария",
                          patronymic="Петровна", phone="+79161234567")


# --- Each kind ----------------------------------------------------------------------------------

def test_doctors_are_created_with_specialties_and_hours_and_updated_by_name(clinic, now):
    report = run(clinic, now, doctors=(
        "name,specialties,active,mon,tue,wed,thu,fri,sat,sun\n"
        'Петрова Анна Сергеевна,"терапевт, эндодонтист",yes,"09:00-13:00, 14:00-18:00",'
        "9:00-18:00,,,,10.00-15.00,\n"
        "Соколов Игорь,хирург,нет,,,,,,,\n"))
    assert report.applied and problems(report) == []
    petrova = Doctor.objects.get(clinic=clinic, name="Петрова Анна Сергеевна")
    assert petrova.specialties == ["терапевт", "эндодонтист"] and petrova.active
    assert petrova.schedule.weekly_hours == [
        [["09:00", "13:00"], ["14:00", "18:00"]], [["09:00", "18:00"]], [], [], [],
        [["10:00", "15:00"]], []]
    assert not Doctor.objects.get(name="Соколов Игорь").active

    again = run(clinic, now, doctors="ФИО;Специальность;Активен\n"
                                     "петрова  анна сергеевна;терапевт;\n"
                                     "Соколов Игорь;хирург;да\n")
    assert actions(again, "doctors") == [(2, "update"), (3, "update")]
    petrova.refresh_from_db()
    assert petrova.specialties == ["терапевт"]
    assert petrova.schedule.weekly_hours[5] == [["10:00", "15:00"]]  # no hours columns: kept
    assert Doctor.objects.get(name="Соколов Игорь").active
    assert Doctor.objects.filter(clinic=clinic).count() == 2


def test_a_new_doctor_without_hours_columns_works_the_default_week(clinic, now):
    run(clinic, now, doctors="name\nОрлова Наталья\n")
    hours = Doctor.objects.get(name="Орлова Наталья").schedule.weekly_hours
    assert hours[0] == [["09:00", "13:00"], ["14:00", "18:00"]] and hours[6] == []


def test_services_take_a_price_or_a_range_duration_category_doctors_and_preparation(
        clinic, now, doctor):
    DoctorFactory(clinic=clinic, name="Соколов Игорь")
    report = run(clinic, now, services=(
        "name;category;duration;price;doctors;preparation\n"
        "Консультация;Диагностика;30 мин;1 000 ₽;Петрова Анна Сергеевна;Возьмите снимки.\n"
        "Лечение кариеса;Терапия;60;5000–8500;Петрова Анна Сергеевна, соколов игорь;\n"
        "Удаление зуба;Хирургия;45;от 3000 до 4500,50;Соколов Игорь;\n"))
    assert report.applied, problems(report)
    consultation = Service.objects.get(name="Консультация")
    assert (consultation.category, consultation.duration_minutes, consultation.price_min,
            consultation.price_max, consultation.preparation) == (
        "Диагностика", 30, Decimal(1000), Decimal(1000), "Возьмите снимки.")
    caries = Service.objects.get(name="Лечение кариеса")
    assert (caries.price_min, caries.price_max) == (Decimal(5000), Decimal(8500))
    assert {d.name for d in caries.doctors.all()} == {"Петрова Анна Сергеевна", "Соколов Игорь"}
    assert Service.objects.get(name="Удаление зуба").price_max == Decimal("4500.50")

    again = run(clinic, now, services="название;цена\nЛечение кариеса;6000-9000\n"
                                      "Консультация;1000\n")
    assert actions(again, "services") == [(2, "update"), (3, "skip")]
    caries.refresh_from_db()
    assert (caries.price_min, caries.price_max, caries.category) == (
        Decimal(6000), Decimal(9000), "Терапия")


def test_patients_get_e164_phones_and_a_known_phone_and_name_updates_that_patient(
        clinic, now, maria):
    report = run(clinic, now, patients=(
        "ФИО;Телефон;E-mail;Дата рождения;Примечание\n"
        "Иванова Мария;8 (916) 123-45-67;maria@example.com;12.03.1985;\n"
        "Смирнов Алексей Петрович;+7 903 555 12 34;;1990-01-31;Боится уколов\n"))
    assert report.applied, problems(report)
    assert actions(report, "patients") == [(2, "update"), (3, "create")]
    maria.refresh_from_db()
    assert (maria.email, maria.birthday, maria.patronymic) == (
        "maria@example.com", date(1985, 3, 12), "Петровна")  # a blank cell never erases
    alexey = Patient.objects.get(clinic=clinic, phone="+79035551234")
    assert (alexey.last_name, alexey.first_name, alexey.patronymic, alexey.notes) == (
        "Смирнов", "Алексей", "Петрович", "Боится уколов")


def test_a_patient_sharing_a_phone_under_another_name_is_new_and_the_preview_says_so(
        clinic, now, maria):
    report = run(clinic, now, dry_run=True, patients=(
        "last name,first name,phone\nИванов,Пётр,+79161234567\n"))
    row = report.files[0].rows[0]
    assert row.action == "create" and "Иванова Мария Петровна" in row.note
    assert Patient.objects.filter(clinic=clinic).count() == 1  # a preview writes nothing


def test_appointments_are_booked_in_local_time_by_phone_doctor_and_service(
        clinic, now, doctor, service, maria, owner):
    report = run(clinic, now, by=owner, appointments=(
        "patient phone,patient,doctor,service,start,status\n"
        "+7 916 123-45-67,Мария,Петрова Анна Сергеевна,Лечение кариеса,2026-11-25 10:00,\n"
        "89161234567,,Петрова Анна Сергеевна,Лечение кариеса,26.11.2026 15:30,подтверждён\n"
        "+79161234567,,Петрова Анна Сергеевна,Лечение кариеса,2026-11-27T09:00,cancelled\n"
        "+79161234567,,Петрова Анна Сергеевна,Лечение кариеса,17.11.2026 10:00,пришла\n"
        "+79161234567,,петрова анна сергеевна,лечение кариеса,2026-11-18 10:00,неявка\n"))
    assert report.applied, problems(report)
    assert [a.status for a in Appointment.objects.order_by("start")] == [
        "completed", "no_show", "booked", "confirmed", "cancelled"]
    completed, no_show, booked, confirmed, cancelled = Appointment.objects.order_by("start")
    assert booked.start == datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW)
    assert booked.end == datetime(2026, 11, 25, 11, 0, tzinfo=MOSCOW)
    assert (booked.patient, booked.doctor, booked.service, booked.created_by) == (
        maria, doctor, service, owner)
    assert confirmed.start == datetime(2026, 11, 26, 15, 30, tzinfo=MOSCOW)
    assert confirmed.confirmed_via == "import"
    assert completed.start == datetime(2026, 11, 17, 10, 0, tzinfo=MOSCOW)


def test_appointments_may_give_the_date_and_the_time_in_two_columns(
        clinic, now, doctor, service, maria):
    report = run(clinic, now, appointments="Телефон;Врач;Услуга;Дата;Время\n"
                                           "+79161234567;Петрова Анна Сергеевна;Лечение кариеса;"
                                           "25.11.2026;14:00\n")
    assert report.applied, problems(report)
    assert Appointment.objects.get().start == datetime(2026, 11, 25, 14, 0, tzinfo=MOSCOW)


def test_several_patients_on_one_phone_are_told_apart_by_name(
        clinic, now, doctor, service, maria):
    peter = PatientFactory(clinic=clinic, last_name="Иванов", first_name="Пётр",
                           phone=maria.phone)
    header = "phone,patient,doctor,service,start\n"
    unnamed = run(clinic, now, appointments=header + (
        "+79161234567,,Петрова Анна Сергеевна,Лечение кариеса,2026-11-25 10:00\n"))
    assert problems(unnamed) == [("appointments", 2, "patient", "ambiguous_patient")]
    named = run(clinic, now, appointments=header + (
        "+79161234567,Иванов Петр,Петрова Анна Сергеевна,Лечение кариеса,2026-11-25 10:00\n"))
    assert named.applied and Appointment.objects.get().patient == peter


def test_the_sample_files_import_cleanly_as_one_batch_in_any_order(clinic, now):
    today = now.date()
    for language in ("ru", "en"):
        files = {kind: ImportFile(f"{kind}.csv", sample_csv(kind=kind, language=language,
                                                            today=today))
                 for kind in reversed(IMPORTERS)}  # appointments first: the order is the batch's
        report = csv_import(clinic=clinic, files=files, by=None, now=now, dry_run=False)
        assert report.ok, problems(report)
        assert [f.kind for f in report.files] == list(IMPORTERS)
    # The second language re-imported the same data: everything was already there.
    assert all(row.action == "skip" for f in report.files for row in f.rows)
    assert (Doctor.objects.count(), Service.objects.count(), Patient.objects.count(),
            Appointment.objects.count()) == (3, 4, 3, 4)


def test_importing_the_same_files_again_changes_nothing(clinic, now, doctor, service, maria):
    files = {"patients": "phone;first name\n+79035551234;Алексей\n",
             "appointments": "phone;doctor;service;start\n"
                             "+79035551234;Петрова Анна Сергеевна;Лечение кариеса;"
                             "2026-11-25 10:00\n"}
    run(clinic, now, **files)
    again = run(clinic, now, **files)
    assert again.applied
    assert [row.action for f in again.files for row in f.rows] == ["skip", "skip"]
    assert Appointment.objects.count() == 1 and Patient.objects.count() == 2


# --- Problems, with their line numbers -----------------------------------------------------------

def test_problems_name_the_line_and_the_column_as_written_in_the_file(clinic, now, doctor):
    report = run(clinic, now, dry_run=True, services=(
        "Название;Длительность;Цена;Врачи\n"         # line 1
        "Пломба;30;abc;Петрова Анна Сергеевна\n"     # line 2: bad price
        "\n"                                         # line 3: blank, skipped
        '"Отбеливание\n(ZOOM)";90;от 20000;\n'       # lines 4-5: an open range
        "Имплант;3;10000;Неизвестный Врач\n"         # line 6: too short, unknown doctor
        "Пломба;30;1000;\n"                          # line 7: the same as line 2
        "Коронка;;;\n"))                             # line 8: a new service needs more
    assert problems(report) == [
        ("services", 2, "Цена", "invalid_price"),
        ("services", 4, "Цена", "open_price_range"),
        ("services", 6, "Длительность", "duration_range"),
        ("services", 6, "Врачи", "unknown_doctor"),
        ("services", 7, "Название", "duplicate"),
        ("services", 8, "Длительность", "required"),
        ("services", 8, "Цена", "required"),
    ]
    issue = report.files[0].issues[3]
    assert str(issue.message) == ("No doctor named “Неизвестный Врач”: import doctors first, "
                                  "or check the spelling.")
    assert "line 2" in str(report.files[0].issues[4].message)


def test_missing_repeated_and_unknown_columns_are_reported_on_the_header_line(clinic, now):
    report = run(clinic, now, appointments="Телефон,Телефон пациента,Врач,Дата,Комментарий\n"
                                           "+79161234567,,X,2026-11-25,\n")
    assert problems(report) == [
        ("appointments", 1, "Телефон пациента", "duplicate_column"),
        ("appointments", 1, "", "missing_column"),  # service
        ("appointments", 1, "", "missing_column"),  # time, with a date column
    ]
    assert report.files[0].ignored_columns == ["Комментарий"]
    assert report.files[0].rows == []


def test_an_unquoted_delimiter_inside_a_value_is_caught(clinic, now):
    report = run(clinic, now, services="name,duration,price\nПломба,30,1500,50\n")
    assert problems(report) == [("services", 2, "", "too_many_cells")]


@pytest.mark.parametrize(("text", "code"), [
    (b"", "empty"),
    (b"\xff\xfe\x00", "encoding"),
])
def test_an_unreadable_file_is_one_problem(clinic, now, text, code):
    report = csv_import(clinic=clinic, files={"doctors": ImportFile("d.csv", text)}, by=None,
                        now=now, dry_run=True)
    assert problems(report) == [("doctors", 0, "", code)]


def test_appointment_rules_are_the_booking_rules(clinic, now, doctor, service, maria):
    DoctorFactory(clinic=clinic, name="Соколов Игорь")
    report = run(clinic, now, appointments=(
        "phone,doctor,service,start,status\n"
        "+79161234567,Петрова Анна Сергеевна,Лечение кариеса,2026-11-25 12:30,\n"   # lunch
        "+79161234567,Соколов Игорь,Лечение кариеса,2026-11-25 10:00,\n"  # not performed
        "+79161234567,Петрова Анна Сергеевна,Лечение кариеса,2026-11-20 10:00,booked\n"
        "+79161234567,Петрова Анна Сергеевна,Лечение кариеса,2026-11-26 10:00,completed\n"
        "+79035551234,Петрова Анна Сергеевна,Лечение кариеса,2026-11-25 10:00,\n"
        "+79161234567,Петрова Анна Сергеевна,Лечение кариеса,2026-11-25,\n"
        "+79161234567,Петрова Анна Сергеевна,Лечение кариеса,2026-11-25 10:00,maybe\n"))
    assert problems(report) == [
        ("appointments", 2, "start", "outside_schedule"),
        ("appointments", 3, "service", "service_not_performed"),
        ("appointments", 4, "status", "past_live"),
        ("appointments", 5, "status", "future_outcome"),
        ("appointments", 6, "phone", "unknown_patient"),
        ("appointments", 7, "start", "no_time"),
        ("appointments", 8, "status", "invalid_status"),
    ]
    assert Appointment.objects.count() == 0


# --- All or nothing -----------------------------------------------------------------------------

def test_one_bad_row_in_any_file_writes_nothing_from_any_file(clinic, now):
    report = run(clinic, now,
                 doctors="name\nОрлова Наталья\n",
                 services="name,duration,price,doctors\nГигиена,60,4500-6500,Орлова Наталья\n",
                 patients="phone,first name\n+79035551234,Алексей\n+7 000,Борис\n")
    assert not report.applied
    assert problems(report) == [("patients", 3, "phone", "invalid_phone")]
    assert actions(report, "doctors") == [(2, "create")]
    assert (Doctor.objects.count(), Service.objects.count(), Patient.objects.count()) == (0, 0, 0)


def test_a_dry_run_finds_what_the_import_would_and_writes_nothing(clinic, now):
    files = {"doctors": "name\nОрлова Наталья\n",
             "services": "name,duration,price,doctors\nГигиена,60,4500,Орлова Наталья\n"}
    preview = run(clinic, now, dry_run=True, **files)
    assert preview.ok and not preview.applied
    assert [f.preview_summary for f in preview.files] == [
        "to create: 1, to update: 0, to skip: 0"] * 2
    assert Doctor.objects.count() == 0 and Service.objects.count() == 0
    assert run(clinic, now, **files).applied and Service.objects.get().doctors.count() == 1


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8-sig", "utf-8", "utf-16"])
def test_excel_files_are_read_in_their_encoding_and_delimiter(clinic, now, encoding):
    text = ("Фамилия;Имя;Отчество;Телефон;Примечание\r\n"
            "Ёлкина;Наталья;Игоревна;8 903 555-12-34;\"Аллергия; на лидокаин\"\r\n")
    report = run(clinic, now, encoding=encoding, patients=text)
    assert report.applied, problems(report)
    patient = Patient.objects.get()
    assert (patient.last_name, patient.notes, patient.phone) == (
        "Ёлкина", "Аллергия; на лидокаин", "+79035551234")
    assert report.files[0].delimiter == ";"


# --- Never a double booking ---------------------------------------------------------------------

def test_an_import_can_never_double_book(clinic, now, doctor, service, maria):
    AppointmentFactory(doctor=doctor, service=service, patient=maria,
                       start=datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW))
    PatientFactory(clinic=clinic, first_name="Алексей", phone="+79035551234")
    report = run(clinic, now, appointments=(
        "phone,doctor,service,start,status\n"
        "+79035551234,Петрова Анна Сергеевна,Лечение кариеса,2026-11-25 10:30,\n"
        "+79035551234,Петрова Анна Сергеевна,Лечение кариеса,2026-11-26 10:00,\n"
        "+79161234567,Петрова Анна Сергеевна,Лечение кариеса,2026-11-26 10:45,\n"
        "+79161234567,Петрова Анна Сергеевна,Лечение кариеса,2026-11-17 10:00,completed\n"
        "+79035551234,Петрова Анна Сергеевна,Лечение кариеса,2026-11-17 10:15,no-show\n"))
    assert problems(report) == [
        ("appointments", 2, "start", "slot_taken"),
        ("appointments", 4, "start", "slot_taken"),
        ("appointments", 6, "start", "slot_taken"),
    ]
    assert "line 3" in str(report.files[0].issues[1].message)
    assert Appointment.objects.count() == 1


# --- Parsing ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("5000", (5000, 5000)),
    ("5 000 ₽", (5000, 5000)),
    ("1500,50", (Decimal("1500.50"), Decimal("1500.50"))),
    ("5000-8000", (5000, 8000)),
    ("5 000 – 8 000 руб.", (5000, 8000)),
    ("от 5000 до 8000", (5000, 8000)),
    ("from 5000 to 8000", (5000, 8000)),
])
def test_prices_and_ranges_are_read_as_people_write_them(text, expected):
    assert price_parse(text) == tuple(Decimal(v) for v in expected)


@pytest.mark.parametrize("text", ["abc", "8000-5000", "от 5000", "1.500,00", "-5"])
def test_what_is_not_a_price_is_refused(text):
    with pytest.raises(CellError):
        price_parse(text)


@pytest.mark.parametrize("text", ["2026-12-01 10:30", "2026-12-01T10:30", "01.12.2026 10:30",
                                  "1.12.2026 10:30:00", "01/12/2026 10.30"])
def test_local_times_are_read_in_common_formats(text):
    assert local_datetime_parse(text, timezone=MOSCOW) == datetime(2026, 12, 1, 10, 30,
                                                                   tzinfo=MOSCOW)


def test_a_local_time_the_clocks_skip_is_refused():
    with pytest.raises(CellError) as error:
        local_datetime_parse("2027-03-28 02:30", timezone=ZoneInfo("Europe/Berlin"))
    assert error.value.code == "nonexistent_time"


def test_line_numbers_count_the_lines_of_quoted_values_and_blank_lines():
    table = table_read(b'\n\na,b\n"x\ny",1\n\n2,3\n')
    assert table.header == ["a", "b"] and [line for line, _ in table.rows] == [4, 7]


def test_every_column_name_means_one_column_within_its_kind():
    for importer in IMPORTERS.values():
        names = [name for column in importer.columns for name in column.names()]
        assert len(names) == len(set(names)), importer.kind


# --- The command --------------------------------------------------------------------------------

@pytest.fixture
def frozen(now):
    with time_machine.travel(now, tick=False):
        yield now


def test_the_command_imports_a_file_and_exits_1_on_any_problem_writing_nothing(
        clinic, frozen, tmp_path, capsys):
    good = tmp_path / "doctors.csv"
    good.write_bytes("ФИО;Специальности\nОрлова Наталья;гигиенист\n".encode("cp1251"))
    call_command("import_csv", "--clinic", str(clinic.pk), "--kind", "doctors", str(good),
                 "--dry-run")
    assert "to create: 1" in capsys.readouterr().out and Doctor.objects.count() == 0

    bad = tmp_path / "services.csv"
    bad.write_text("name,duration,price,doctors\nГигиена,60,4500,Орлова Наталья\n"
                   "Пломба,30,abc,\n", encoding="utf-8")
    # manage.py exits with the CommandError's return code (run_from_argv would also close the
    # test's database connection, so the command is called in-process).
    with pytest.raises(CommandError, match="Problems found: 1. Nothing was imported.") as error:
        call_command("import_csv", "--clinic", str(clinic.pk), "--doctors", str(good),
                     "--services", str(bad))
    assert error.value.returncode == 1
    assert "line 3, «price»: “abc” is not a price." in capsys.readouterr().err
    assert Doctor.objects.count() == 0 and Service.objects.count() == 0

    call_command("import_csv", "--clinic", str(clinic.pk), "--doctors", str(good))
    assert Doctor.objects.get().specialties == ["гигиенист"]


def test_the_command_prints_a_sample_and_refuses_an_unknown_clinic(db, frozen, capsys):
    call_command("import_csv", "--sample", "patients")  # in the current language, English
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:4] == ["last name", "first name", "patronymic", "phone"]
    assert rows[1][3] == "+7 916 123-45-67"
    with pytest.raises(CommandError, match="No clinic with id 999999") as error:
        call_command("import_csv", "--clinic", "999999", "--kind", "doctors", "/dev/null")
    assert error.value.returncode == 1


# --- The owner's page ---------------------------------------------------------------------------

def _upload(client, **texts):
    data = {kind: _file(kind, text) for kind, text in texts.items()}
    return client.post(reverse("clinic:settings-import"), data)


def _file(kind, text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(f"{kind}.csv", text.encode("cp1251"), content_type="text/csv")


def test_the_import_page_is_for_owners_only(client, administrator, manager):
    for user in (administrator, manager):
        client.force_login(user)
        assert client.get(reverse("clinic:settings-import")).status_code == 403
        assert _upload(client, doctors="name\nВзломов\n").status_code == 403
        assert client.post(reverse("clinic:settings-import-confirm"),
                           {"token": "x"}).status_code == 403
        assert client.get(reverse("clinic:settings-import-sample",
                                  args=["patients"])).status_code == 403
    assert not Doctor.objects.exists()


def test_the_owner_previews_then_confirms_and_sees_the_result(
        client, owner, clinic, other_clinic, frozen):
    theirs = PatientFactory(clinic=other_clinic, first_name="Зинаида", phone="+79035551234")
    client.force_login(owner)
    page = client.get(reverse("clinic:settings-import")).content.decode()
    assert reverse("clinic:settings-import-sample", args=["appointments"]) in page

    preview = _upload(client, doctors="ФИО\nОрлова Наталья\n",
                      patients="Имя;Телефон\n<b>Алексей</b>;8 903 555-12-34\n")
    body = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-line="2" data-action="create"' in body
    assert "&lt;b&gt;Алексей&lt;/b&gt;" in body and "<b>Алексей</b>" not in body
    assert not Doctor.objects.exists() and Patient.objects.filter(clinic=clinic).count() == 0
    token = preview.context["token"]
    assert token

    done = client.post(reverse("clinic:settings-import-confirm"), {"token": token},
                       follow=True)
    assert done.redirect_chain[-1][0] == reverse("clinic:settings-import")
    assert Doctor.objects.get().clinic == clinic
    patient = Patient.objects.get(clinic=clinic)
    assert (patient.first_name, patient.phone) == ("<b>Алексей</b>", "+79035551234")
    theirs.refresh_from_db()
    assert theirs.first_name == "Зинаида"  # the other clinic's patient with this phone
    assert [str(m) for m in done.context["messages"]] == [
        "Doctors imported (doctors.csv): created: 1, updated: 0, skipped: 0.",
        "Patients imported (patients.csv): created: 1, updated: 0, skipped: 0."]

    # The token is spent: confirming again imports nothing more.
    again = client.post(reverse("clinic:settings-import-confirm"), {"token": token})
    assert again.status_code == 302 and Doctor.objects.count() == 1


def test_a_preview_with_problems_offers_no_confirmation(client, owner, frozen):
    client.force_login(owner)
    response = _upload(client, services="Название;Цена\nПломба;abc\n")
    assert response.status_code == 200 and response.context["token"] == ""
    assert 'data-line="2"' in response.content.decode()
    assert "clinic:settings-import-confirm" not in response.content.decode()
    assert not Service.objects.exists()


def test_a_slot_taken_between_preview_and_confirmation_imports_nothing(
        client, owner, clinic, doctor, service, maria, frozen):
    client.force_login(owner)
    preview = _upload(
        client, patients="Имя;Телефон\nАлексей;+79035551234\n",
        appointments="Телефон;Врач;Услуга;Начало\n+79035551234;Петрова Анна Сергеевна;"
                     "Лечение кариеса;25.11.2026 10:00\n")
    assert preview.context["token"]
    AppointmentFactory(doctor=doctor, service=service, patient=maria,
                       start=datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW))
    response = client.post(reverse("clinic:settings-import-confirm"),
                           {"token": preview.context["token"]})
    assert response.status_code == 409
    assert 'data-line="2" data-action="error"' in response.content.decode()
    assert Appointment.objects.count() == 1 and Patient.objects.count() == 1


def test_a_preview_belongs_to_the_clinic_it_was_made_for(client, owner, clinic, other_clinic,
                                                         frozen):
    from tests.clinic.factories import MembershipFactory

    MembershipFactory(user=owner, clinic=other_clinic, role="owner")
    client.force_login(owner)
    client.post(reverse("clinic-switch"), {"clinic": clinic.pk})
    preview = _upload(client, doctors="name\nОрлова Наталья\n")
    assert preview.wsgi_request.clinic == clinic
    client.post(reverse("clinic-switch"), {"clinic": other_clinic.pk})
    response = client.post(reverse("clinic:settings-import-confirm"),
                           {"token": preview.context["token"]})
    assert response.status_code == 302 and not Doctor.objects.exists()


def test_sample_files_download_as_csv_for_excel(client, owner, frozen):
    client.force_login(owner)
    response = client.get(reverse("clinic:settings-import-sample", args=["appointments"]),
                          HTTP_ACCEPT_LANGUAGE="ru")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="appointments.csv"' in response["Content-Disposition"]
    assert response.content.startswith("\ufeff".encode())
    assert client.get(reverse("clinic:settings-import-sample", args=["x"])).status_code == 404


def test_the_settings_show_the_import_tab_to_owners(client, owner, frozen):
    client.force_login(owner)
    body = client.get(reverse("clinic:settings")).content.decode()
    assert reverse("clinic:settings-import") in body

