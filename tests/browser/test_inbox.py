"""An administrator answers a patient in real Chromium, with a real worker and the fake Telegram."""

import json

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command

from clinic.models import Clinic
from inbox.fake_providers import FakeProviders
from inbox.models import Channel, Message, QuickReply
from tests.browser.test_login import CHROMIUM_ARGS
from tests.conftest import ROUND_THE_CLOCK
from tests.inbox import payloads
from tests.workers import celery_worker, wait_for, worker_database_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake(settings):
    with FakeProviders() as server:
        settings.TELEGRAM_API_BASE = server.base_url
        yield server


def test_an_administrator_answers_a_telegram_patient_with_a_quick_reply(
        require_postgres, require_redis, chromium_path, fake, live_server):
    from playwright.sync_api import sync_playwright

    call_command("seed_demo", "--patients", "5", "--force")
    clinic = Clinic.objects.get(name="Стоматология «Улыбка»")
    clinic.weekly_hours = ROUND_THE_CLOCK  # the worker reads the real clock: never closed
    clinic.save(update_fields=["weekly_hours"])
    channel = Channel.objects.create(clinic=clinic, kind="telegram", name="@bot",
                                     bot_token="1:demo", webhook_secret="secret")
    QuickReply.objects.create(clinic=clinic, title="Цена чистки",
                              text="{patient_first_name}, чистка стоит от 4500 ₽. Записать вас?")
    hook = f"{live_server.url}/hooks/telegram/{channel.key}/"
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "secret"}
    env = {"DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "1",
           "TELEGRAM_API_BASE": fake.base_url}

    with celery_worker(env, "default,inbound,outbound") as worker, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ru-RU")
        page.set_default_timeout(10_000)
        alerts = []
        page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Имя пользователя").fill("anna")
        page.get_by_label("Пароль").fill("demo-clinic")
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url("**/inbox/")

        # The patient writes; the list shows it without a reload.
        for n, text in enumerate(["Сколько стоит чистка?", "<img src=x onerror=alert(1)>"]):
            httpx.post(hook, headers=headers, content=json.dumps(
                payloads.tg_message(update_id=n + 1, message_id=n + 1, text=text)))
        row = page.locator("[data-row]", has_text="Мария")
        row.wait_for(timeout=8_000)
        row.click()
        page.get_by_text("<img src=x onerror=alert(1)>").wait_for()

        # "/" opens the quick replies; the chosen one arrives with the name filled in.
        composer = page.locator("#composer-text")
        composer.type("/")
        page.locator("#quick-reply-q").type("чистк")
        page.locator("[data-insert]").first.click()
        assert composer.input_value() == "Мария, чистка стоит от 4500 ₽. Записать вас?"
        composer.press("Control+Enter")

        assert wait_for(lambda: len(fake.sent("telegram")) == 1, 20), worker["output"][-2000:]
        page.locator(".bubble.out .tick-sent").wait_for(timeout=8_000)
        browser.close()
    sent = fake.sent("telegram")[0].json
    assert sent["text"] == "Мария, чистка стоит от 4500 ₽. Записать вас?"
    assert Message.objects.get(direction="out").status == "sent"
    assert not alerts  # the patient's HTML was shown as text, never run
