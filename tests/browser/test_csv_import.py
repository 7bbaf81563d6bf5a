"""An owner onboards a clinic in real Chromium: downloads the sample files, uploads them, reads
the preview, imports; a file with a mistake shows the line and imports nothing."""

import pytest

from clinic.models import Patient
from scheduling.models import Appointment, Doctor, Service
from tests.browser.test_login import CHROMIUM_ARGS
from tests.clinic.factories import ClinicFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KINDS = {"doctors": "Doctors", "services": "Services", "patients": "Patients",
         "appointments": "Appointments"}


def test_an_owner_imports_the_sample_files_after_a_preview(chromium_path, live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    clinic = ClinicFactory(name="Клиника «Новая»")
    owner = MembershipFactory(clinic=clinic, role="owner").user
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="en-US", accept_downloads=True)
        page.set_default_timeout(15_000)
        console_errors = []
        page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("User name").fill(owner.username)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/inbox/")

        page.goto(f"{live_server.url}/settings/")
        page.get_by_role("navigation", name="Settings sections").get_by_role(
            "link", name="Import").click()
        page.wait_for_url("**/settings/import/")
        paths = {}
        for kind, label in KINDS.items():
            section = page.locator("details", has=page.locator("summary", has_text=label))
            section.locator("summary").click()
            with page.expect_download() as download:
                section.get_by_role("link", name="Download a sample file").click()
            paths[kind] = tmp_path / f"{kind}.csv"
            download.value.save_as(paths[kind])

        # A mistake first: the preview names the line, and there is nothing to confirm.
        broken = tmp_path / "broken.csv"
        broken.write_text("name,duration,price\nПломба,30,1000\nКоронка,60,abc\n")
        page.get_by_label("Services").set_input_files(broken)
        page.get_by_role("button", name="Check the files").click()
        issues = page.get_by_test_id("import-issues")
        issues.wait_for()
        assert issues.locator("tr").filter(has_text="“abc” is not a price").get_attribute(
            "data-line") == "3"
        assert page.get_by_role("button", name="Import", exact=True).count() == 0

        for kind, label in KINDS.items():
            page.get_by_label(label).set_input_files(paths[kind])
        page.get_by_role("button", name="Check the files").click()
        page.locator("#import-preview").wait_for()
        assert page.locator("[data-action='create']").count() == 14
        assert page.locator("[data-action='error']").count() == 0

        page.get_by_role("button", name="Import", exact=True).click()
        page.locator(".message.success").first.wait_for()
        assert page.locator(".message.success").count() == 4
        browser.close()
    assert (Doctor.objects.filter(clinic=clinic).count(),
            Service.objects.filter(clinic=clinic).count(),
            Patient.objects.filter(clinic=clinic).count(),
            Appointment.objects.filter(clinic=clinic).count()) == (3, 4, 3, 4)
    assert not [e for e in console_errors if "Content Security Policy" in e]
