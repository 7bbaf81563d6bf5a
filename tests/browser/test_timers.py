"""The reply clock in real Chromium: it counts down, turns amber, then red and "overdue"."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from clinic.models import Clinic
from inbox.models import Channel, ContactIdentity, Conversation, ResponseTimer
from inbox.services.live import inbox_changed
from tests.browser import beside_playwright
from tests.browser.test_login import CHROMIUM_ARGS
from tests.conftest import ROUND_THE_CLOCK

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _waiting(clinic: Clinic, channel: Channel, name: str, due_in: timedelta) -> Conversation:
    now = timezone.now()
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel, external_id=name,
                                             display_name=name)
    conversation = Conversation.objects.create(
        clinic=clinic, channel=channel, contact=contact, last_message_at=now,
        last_patient_message_at=now, last_message_preview="Здравствуйте!",
        waiting_since=now, reply_due_at=now + due_in, waiting_rule="first_reply")
    ResponseTimer.objects.create(clinic=clinic, conversation=conversation, kind="first_reply",
                                 started_at=now, due_at=now + due_in)
    return conversation


def test_the_clock_turns_amber_then_red_and_the_overdue_filter_finds_it(chromium_path,
                                                                        live_server):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    call_command("seed_demo", "--patients", "1", "--force")
    clinic = Clinic.objects.get(name="Стоматология «Улыбка»")
    clinic.weekly_hours = ROUND_THE_CLOCK
    clinic.save(update_fields=["weekly_hours"])
    channel = Channel.objects.create(clinic=clinic, kind="telegram", name="@bot",
                                     bot_token="1:demo")
    _waiting(clinic, channel, "Пётр Спокойный", timedelta(minutes=4))
    _waiting(clinic, channel, "Ольга Срочная", timedelta(seconds=6))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ru-RU")
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Имя пользователя").fill("anna")
        page.get_by_label("Пароль").fill("demo-clinic")
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url("**/inbox/")
        assert page.title().startswith("(2) ")
        # The most urgent conversation is at the top of the list.
        assert "Ольга" in page.locator("[data-row]").first.inner_text()

        calm = page.locator("[data-row]", has_text="Пётр").locator(".countdown")
        urgent = page.locator("[data-row]", has_text="Ольга").locator(".countdown")
        assert "countdown-ok" in calm.get_attribute("class")
        assert "countdown-soon" in urgent.get_attribute("class")  # its last minute: amber
        # The browser's clock turns it red when the due time passes, without the server...
        page.wait_for_function("el => el.classList.contains('countdown-overdue')",
                               arg=urgent.element_handle(), timeout=15_000)
        assert "просрочено" in urgent.inner_text()
        assert "countdown-ok" in calm.get_attribute("class")
        # ...and a change anywhere in the clinic refreshes the list (the live poll runs every
        # 2 s; under a loaded CI machine one announcement can land while the list is already
        # refetching, so announce again until the server-drawn row is overdue, up to 30 s).
        for _ in range(10):
            beside_playwright(lambda: inbox_changed(clinic.pk))  # what every change does
            try:
                page.locator("li.conversation.overdue").wait_for(timeout=3_000)
                break
            except PlaywrightTimeout:
                continue
        page.locator("li.conversation.overdue").wait_for(timeout=1_000)
        overdue = page.locator("[data-row]", has_text="Ольга")

        overdue.click()
        page.locator(".waiting-bar .countdown-overdue").wait_for()
        page.goto(f"{live_server.url}/inbox/?filter=overdue")
        rows = page.locator("[data-row]")
        assert rows.count() == 1 and "Ольга" in rows.first.inner_text()
        browser.close()
