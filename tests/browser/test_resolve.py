"""Resolving in real Chromium: the button opens the result's choices, and the choice is kept."""

import os

import pytest
from django.core.management import call_command
from django.utils import timezone

from clinic.models import Clinic
from inbox.models import Channel, ContactIdentity, Conversation, DialogueWindow, Message
from tests.browser import beside_playwright
from tests.browser.test_login import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_resolves_with_an_agreed_next_step(chromium_path, live_server):
    from playwright.sync_api import sync_playwright

    call_command("seed_demo", "--patients", "1", "--force")
    clinic = Clinic.objects.get(name="Стоматология «Улыбка»")
    channel = Channel.objects.create(clinic=clinic, kind="telegram", name="@bot",
                                     bot_token="1:demo")
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel, external_id="7",
                                             display_name="Ольга Петрова")
    now = timezone.now()
    conversation = Conversation.objects.create(
        clinic=clinic, channel=channel, contact=contact, last_message_at=now,
        last_patient_message_at=now, last_message_preview="Можно записаться?")
    Message.objects.create(conversation=conversation, channel=channel, direction="in",
                           body="Можно записаться?", status="received", created_at=now)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ru-RU")
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Имя пользователя").fill("anna")
        page.get_by_label("Пароль").fill("demo-clinic")
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url("**/inbox/")
        page.goto(f"{live_server.url}/inbox/c/{conversation.pk}/")

        form = page.locator(".resolve-form")
        assert not form.is_visible()  # folded until asked for
        page.locator(".resolve-popover summary").click()
        assert form.locator("input[name=outcome]").count() == 4
        form.locator("input[name=outcome][value=next_step]").check()
        page.locator("#resolve-next-step").fill("Пришлёт снимок к пятнице")
        if os.environ.get("SCREENSHOTS"):
            page.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], "resolve.png"))
        form.locator("button[type=submit]").click()
        page.get_by_role("button", name="Открыть снова").wait_for()
        assert "Пришлёт снимок к пятнице" in page.locator(".resolved-outcome").inner_text()
        browser.close()

    window = beside_playwright(lambda: DialogueWindow.objects.get())
    assert (window.outcome, window.next_step) == ("next_step", "Пришлёт снимок к пятнице")
