"""The inbox at 1280 px and on a tablet, by keyboard: no sideways scroll, every part reachable."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from clinic.models import Clinic
from inbox.models import Channel, ContactIdentity, Conversation, Message
from tests.browser.test_login import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"laptop": (1280, 800), "tablet landscape": (1024, 768),
             "tablet portrait": (768, 1024)}


def test_the_inbox_fits_a_laptop_and_a_tablet_and_works_by_keyboard(chromium_path, live_server):
    from playwright.sync_api import sync_playwright

    call_command("seed_demo", "--patients", "1", "--force")
    clinic = Clinic.objects.get(name="Стоматология «Улыбка»")
    channel = Channel.objects.create(clinic=clinic, kind="telegram", name="@bot",
                                     bot_token="1:demo")
    now = timezone.now()
    for n in range(3):
        contact = ContactIdentity.objects.create(
            clinic=clinic, channel=channel, external_id=str(n),
            display_name=f"Пациентка с очень длинным именем и фамилией номер {n}")
        conversation = Conversation.objects.create(
            clinic=clinic, channel=channel, contact=contact, last_message_at=now,
            last_message_preview=("Добрый день! " * 20)[:200])
        Message.objects.create(conversation=conversation, channel=channel, direction="in",
                               body="Добрый день! " * 60, status="received", created_at=now)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        for name, (width, height) in VIEWPORTS.items():
            page = browser.new_page(locale="ru-RU", viewport={"width": width, "height": height})
            page.goto(f"{live_server.url}/login/")
            page.get_by_label("Имя пользователя").fill("anna")
            page.get_by_label("Пароль").fill("demo-clinic")
            page.get_by_role("button", name="Войти").click()
            page.wait_for_url("**/inbox/")

            # j moves to the first conversation, Enter opens it.
            page.keyboard.press("j")
            assert page.evaluate("document.activeElement.matches('[data-row]')"), name
            page.keyboard.press("Enter")
            composer = page.locator("#composer-text")
            composer.wait_for()
            composer.scroll_into_view_if_needed()
            assert composer.is_visible(), name
            page.locator("#patient-panel").scroll_into_view_if_needed()
            assert page.locator("#patient-panel").is_visible(), name
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow} px"
            # Esc leaves the reply box; "/" in an empty reply opens the quick replies.
            composer.click()
            composer.type("/")
            assert page.evaluate("document.activeElement.id") == "quick-reply-q", name
            page.keyboard.press("Escape")
            assert page.evaluate("document.activeElement === document.body"), name
            page.close()
        browser.close()
