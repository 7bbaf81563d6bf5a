"""In real Chromium: an administrator books a patient from the chat, finds the visit in the
calendar, cancels it there, and its time is offered again."""

import os
from datetime import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from clinic.management.commands.seed_demo import DEMO_CLINIC, DEMO_PASSWORD
from clinic.models import Clinic
from inbox.models import Channel, ContactIdentity, Conversation
from scheduling.models import Appointment, Service
from tests.browser.test_login import CHROMIUM_ARGS
from tests.conftest import MOSCOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HYGIENE = "Профессиональная гигиена полости рта"
# The server's clock starts here and runs on: a Tuesday morning, one second past a quarter hour,
# so the next free times on the 15-minute grid stay the same for the next quarter of an hour.
MORNING = datetime(2026, 12, 8, 10, 0, 1, tzinfo=MOSCOW)
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR", "")


@pytest.fixture
def page(chromium_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test reads the database
    # between browser steps, which Django refuses in a thread with a loop unless allowed.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ru-RU", viewport={"width": 1280, "height": 900})
        page.set_default_timeout(10_000)
        page.errors = []
        page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        browser.close()
        # With Playwright's loop in this thread the test body got its own database connection
        # (Django keeps them per context); close it here, or it outlives the test database.
        connection.close()


def settled(page) -> None:
    """Wait until htmx has swapped and settled (only then do new controls react to changes)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        # caret="initial": hiding the caret styles the focused input, which the CSP would report
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True,
                        caret="initial")


def test_a_visit_booked_in_the_chat_is_cancelled_in_the_calendar_and_its_time_is_free_again(
        live_server, page):
    with time_machine.travel(MORNING, tick=True):
        call_command("seed_demo", "--patients", "20", "--force")
        call_command("seed_demo_scheduling", "--force")
        clinic = Clinic.objects.get(name=DEMO_CLINIC)
        channel = Channel.objects.create(clinic=clinic, kind="telegram", name="@bot",
                                         bot_token="1:demo", webhook_secret="secret")
        contact = ContactIdentity.objects.create(clinic=clinic, channel=channel,
                                                 external_id="5123456789",
                                                 display_name="Вера Лебедь")
        conversation = Conversation.objects.create(clinic=clinic, channel=channel,
                                                   contact=contact)
        hygiene = Service.objects.get(clinic=clinic, name=HYGIENE)

        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Имя пользователя").fill("anna")
        page.get_by_label("Пароль").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url("**/inbox/")

        # In the chat: choose the cleaning in the patient panel and press the first free time.
        page.goto(f"{live_server.url}/inbox/c/{conversation.pk}/")
        page.select_option("#booking-service", value=str(hygiene.pk))
        first = page.locator("#booking-slots form").first
        first.wait_for()
        start = first.locator("input[name=start]").get_attribute("value")
        first.locator("button.slot").click()
        page.locator("#booking-slots .ok").wait_for()
        booked = Appointment.objects.get(source_conversation_id=conversation.pk)
        assert booked.service == hygiene and booked.start == datetime.fromisoformat(start)
        assert "Вера" in page.locator("#composer-text").input_value()  # the confirmation
        shot(page, "1-inbox-booked")

        # In the calendar: that doctor's day shows the visit; it opens with the patient and chat.
        page.locator(".mainnav a[href='/calendar/']").click()
        page.wait_for_url("**/calendar/")
        page.locator("[data-calendar].cal-ready").wait_for()
        page.select_option("#calendar-doctor", value=str(booked.doctor_id))
        page.locator(f"#calendar-doctor option[value='{booked.doctor_id}'][selected]").wait_for(
            state="attached")  # the doctor's calendar has arrived
        settled(page)
        page.locator("#calendar-date").fill(start[:10])
        page.locator("#calendar-date").dispatch_event("change")
        entry = page.locator(f"[data-appointment='{booked.pk}']")
        entry.wait_for()
        settled(page)
        assert "status-booked" in entry.get_attribute("class")
        shot(page, "2-calendar-day")
        entry.click()
        detail = page.locator(f"[data-appointment-detail='{booked.pk}']")
        detail.wait_for()
        settled(page)
        assert "Лебедь Вера" in detail.inner_text()
        assert page.get_by_test_id("source-conversation").get_attribute("href") == (
            f"/inbox/c/{conversation.pk}/")
        shot(page, "3-calendar-detail")

        # Cancel it there, with a reason: the detail and the grid both show it cancelled.
        page.locator("#cancel-reason").fill("Пациентка перенесёт визит сама")
        page.get_by_test_id("appointment-cancel").click()
        page.locator("[data-testid=appointment-status][data-status=cancelled]").wait_for()
        page.locator(f"[data-appointment='{booked.pk}'].status-cancelled").wait_for()
        booked.refresh_from_db()
        assert (booked.status, booked.cancellation_reason) == (
            "cancelled", "Пациентка перенесёт визит сама")
        shot(page, "4-calendar-cancelled")

        # The time is free again: the calendar's booking form offers it for that doctor and day.
        page.get_by_test_id("calendar-new").click()
        page.locator("#book-form").wait_for()
        settled(page)
        page.locator("#book-service").select_option(value=str(hygiene.pk))
        page.locator("#book-slots [data-testid=free-slot]").first.wait_for()
        settled(page)
        page.locator("#book-slots-doctor").select_option(value=str(booked.doctor_id))
        page.locator("#book-slots-date").fill(start[:10])
        page.locator("#book-slots-date").dispatch_event("change")
        page.locator(f"#book-slots [data-start='{start}']").wait_for()
        shot(page, "5-calendar-free-again")

        # And so does the chat's patient panel, first of all.
        page.goto(f"{live_server.url}/inbox/c/{conversation.pk}/")
        page.select_option("#booking-service", value=str(hygiene.pk))
        again = page.locator("#booking-slots form").first
        again.wait_for()
        assert again.locator("input[name=start]").get_attribute("value") == start
    assert not page.errors  # no script errors, no CSP violations
