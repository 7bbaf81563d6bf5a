"""In real Chromium: an owner writes a 6-month hygiene recall, sees in its audience the patient
whose last cleaning was six months ago and who has written to the clinic's Telegram bot, and
switches the rule on. On the due morning the planner and the dispatcher send that patient one
message through the fake Telegram; a second pass sends nothing more."""

import os
from datetime import datetime, timedelta

import pytest
import time_machine

from campaigns.models import Dispatch, DispatchStatus, Rule
from campaigns.services.dispatcher import dispatches_process_due
from campaigns.services.planner import plan_all
from inbox.fake_providers import FakeProviders
from inbox.services.outbound import message_deliver
from tests.browser import beside_playwright
from tests.browser.test_login import CHROMIUM_ARGS
from tests.clinic.factories import PatientFactory
from tests.conftest import MOSCOW
from tests.inbox.factories import ContactFactory, ConversationFactory, TelegramChannelFactory
from tests.scheduling.factories import AppointmentFactory, DoctorFactory, ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests.clinic.factories.UserFactory
WRITING = datetime(2026, 12, 7, 15, 0, tzinfo=MOSCOW)  # Monday afternoon: the owner's session
LAST_CLEANING = datetime(2026, 6, 8, 10, 0, tzinfo=MOSCOW)  # six months before Tuesday
DUE_MORNING = datetime(2026, 12, 8, 9, 30, tzinfo=MOSCOW)  # inside the 09:00–21:00 window
TEXT = ("{patient_first_name}, здравствуйте! Прошло полгода — пора на профессиональную "
        "гигиену в {clinic_name}. Ответьте, и мы подберём время.")
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR", "")


@pytest.fixture
def fake(settings):
    with FakeProviders() as server:
        settings.TELEGRAM_API_BASE = server.base_url
        yield server


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True,
                        caret="initial")


def settled(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def test_an_owner_switches_on_a_recall_and_the_due_patient_gets_one_telegram_message(
        chromium_path, live_server, fake, clinic, owner):
    from playwright.sync_api import expect, sync_playwright

    hygiene = ServiceFactory(clinic=clinic, name="Профессиональная гигиена", category="Гигиена")
    filling = ServiceFactory(clinic=clinic, name="Лечение кариеса")
    doctor = DoctorFactory(clinic=clinic)
    vera = PatientFactory(clinic=clinic, last_name="Лебедева", first_name="Вера")
    AppointmentFactory(doctor=doctor, patient=vera, service=hygiene, start=LAST_CLEANING,
                       status="completed", created_at=LAST_CLEANING - timedelta(days=7))
    bot = TelegramChannelFactory(clinic=clinic)
    conversation = ConversationFactory(
        contact=ContactFactory(channel=bot, external_id="5123456789"), patient=vera,
        last_patient_message_at=LAST_CLEANING - timedelta(days=10))
    # Also six months ago, but another service: not this rule's audience.
    AppointmentFactory(doctor=doctor, patient=PatientFactory(clinic=clinic, first_name="Олег"),
                       service=filling, start=LAST_CLEANING + timedelta(hours=2),
                       status="completed", created_at=LAST_CLEANING - timedelta(days=7))

    with time_machine.travel(WRITING, tick=True), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ru-RU", viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Имя пользователя").fill(owner.username)
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url("**/inbox/")

        # A new recall: the cleaning, 6 months after it, one attempt, the owner's own words.
        page.goto(f"{live_server.url}/campaigns/")
        page.get_by_test_id("rule-new").click()
        page.locator("a[data-kind=recall]").click()
        page.locator("#rule-audience [data-testid=audience-total]").wait_for()
        settled(page)
        page.locator("#id_name").fill("Гигиена через полгода")
        page.locator("#id_interval_months").fill("6")
        page.locator("#id_max_attempts").fill("1")
        page.locator("#id_text_ru").fill(TEXT)
        page.locator("#id_services").select_option(value=str(hygiene.pk))
        settled(page)

        # The preview speaks to a patient; the audience lists Вера on Telegram, Олег not at all.
        preview = page.locator("#rule-preview [data-language=ru] [data-testid=preview-text]")
        preview.filter(has_text="Прошло полгода").wait_for()
        assert "{" not in preview.inner_text()
        line = page.locator(f"#rule-audience tr[data-patient='{vera.pk}']")
        expect(line).to_contain_text("Вера, здравствуйте! Прошло полгода")
        expect(page.locator("#rule-audience tr[data-patient]")).to_have_count(1)
        settled(page)
        assert "Лебедева Вера" in line.inner_text() and "Telegram" in line.inner_text()
        assert "8 декабря, 09:00" in line.inner_text()  # the morning it falls due
        assert page.locator("#rule-audience [data-testid=audience-would-send]").inner_text() == "1"
        shot(page, "campaigns-1-recall-form")

        # Saved (off until switched on), then switched on from the list.
        page.get_by_test_id("rule-save").click()
        page.wait_for_url("**/campaigns/*/")
        rule_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        page.goto(f"{live_server.url}/campaigns/")
        row = page.locator(f"#rule-{rule_id}")
        assert row.get_attribute("data-enabled") == "0"
        row.get_by_test_id("rule-switch").click()
        page.locator(f"#rule-{rule_id}[data-enabled='1']").wait_for()
        shot(page, "campaigns-2-rules")
        browser.close()
    assert not errors  # no script errors, no CSP violations

    def due_morning() -> tuple:
        with time_machine.travel(DUE_MORNING, tick=False):
            planned = plan_all(now=DUE_MORNING)
            run = dispatches_process_due(now=DUE_MORNING)
            sent = Dispatch.objects.get(rule_id=rule_id)
            message_deliver(message_id=sent.message_id, now=DUE_MORNING)
        return Rule.objects.get(pk=rule_id), planned, run, sent

    rule, planned, run, sent = beside_playwright(due_morning)
    assert rule.enabled and rule.service_ids == [hygiene.pk] and rule.max_attempts == 1
    assert (planned, run.sent) == (1, 1)
    assert (sent.patient_id, sent.status, sent.channel) == (vera.pk, DispatchStatus.SENT,
                                                            "telegram")
    assert sent.message.conversation_id == conversation.pk
    calls = fake.sent("telegram")
    assert [c.api_method for c in calls] == ["sendMessage"]
    assert calls[0].json["chat_id"] in (5123456789, "5123456789")
    assert calls[0].json["text"] == TEXT.format(patient_first_name="Вера",
                                                clinic_name=clinic.name)

    def once_more() -> tuple:
        later = DUE_MORNING + timedelta(minutes=5)
        with time_machine.travel(later, tick=False):
            return plan_all(now=later), dispatches_process_due(now=later)

    planned_again, run_again = beside_playwright(once_more)
    assert (planned_again, run_again.claimed, run_again.sent) == (0, 0, 0)
    assert len(fake.sent("telegram")) == 1
