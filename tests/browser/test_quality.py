"""Quality in real Chromium: a manager finds the evidence of a failed item and overrides it;
the administrator reads the comment on "My quality" and disputes it; the manager answers."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from qa.models import ItemOverride, Scorecard
from tests.browser import beside_playwright
from tests.browser.test_login import CHROMIUM_ARGS
from tests.qa.factories import Chat, conversation_for, scored

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests.clinic.factories.UserFactory


def _login(browser, base_url: str, username: str):
    """A fresh browser context (its own session) signed in as `username`."""
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(
        (page.url, msg.text, msg.location)))
    page.goto(f"{base_url}/login/")
    page.get_by_label("Имя пользователя").fill(username)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/inbox/")
    return page


def _shot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS"):
        # caret="initial": hiding the caret puts style="" on inputs, which htmx's settle then
        # copies under our CSP (a test artefact, not the page's).
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], f"{name}.png"),
                        full_page=True, caret="initial")


def test_a_manager_overrides_a_failed_item_and_answers_the_administrators_dispute(
        chromium_path, live_server, clinic, manager, administrator, patient):
    from playwright.sync_api import sync_playwright

    chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator,
                timezone.now() - timedelta(hours=1))
    chat.patient("Здравствуйте, сколько стоит чистка? <b>срочно</b>")
    bare = chat.admin("5000 руб.")
    scorecard = scored(chat, "not_about_visit")
    item = scorecard.items.get(code="no_bare_price")
    assert item.result == "fail" and bare.pk in item.evidence
    url = f"{live_server.url}/quality/{scorecard.pk}/"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)

        # The manager opens the scorecard and clicks the failed item: its message lights up.
        boss = _login(browser, live_server.url, manager.username)
        boss.goto(url)
        assert "<b>срочно</b>" in boss.locator(".bubble.in .body").inner_text()  # escaped
        evidence = boss.locator(f"#m{bare.pk}")
        assert "evidence-highlight" not in evidence.get_attribute("class")
        row = boss.locator("#item-no_bare_price")
        row.locator("[data-evidence]").click()
        boss.wait_for_function("el => el.classList.contains('evidence-highlight')",
                               arg=evidence.element_handle())
        assert "selected" in row.get_attribute("class")
        _shot(boss, "quality-evidence")

        # One step: result, reason from the clinic's list, comment; the score changes.
        score = boss.locator("[data-testid=score]")
        before = score.inner_text()
        row.locator("summary").click()
        row.locator("input[name=result][value=pass]").check()
        row.locator("select[name=reason]").select_option("Контекст диалога")
        row.locator("textarea[name=comment]").fill("Цена из прайса, дальше спросили про снимок")
        row.locator("button[type=submit]").click()
        # htmx swaps the items panel and settles its attributes: wait for the new verdict.
        boss.locator("#item-no_bare_price.result-pass.selected").wait_for()
        after = boss.locator("[data-testid=score]").inner_text()
        assert after != before
        row = boss.locator("#item-no_bare_price")
        assert "Цена из прайса" in row.inner_text() and "Контекст диалога" in row.inner_text()
        # The item looked at stays selected after the panel is swapped.
        assert "selected" in row.get_attribute("class")
        _shot(boss, "quality-override")

        # The administrator reads the comment on "My quality" and disputes it.
        admin = _login(browser, live_server.url, administrator.username)
        admin.locator("[data-testid=nav-my-quality]").click()
        admin.wait_for_url("**/quality/me/")
        comment = admin.locator("[data-testid=manager-comment]")
        assert "Цена из прайса, дальше спросили про снимок" in comment.inner_text()
        _shot(admin, "quality-mine")
        admin.locator(f"[data-scorecard='{scorecard.pk}'] a.qa-mine-title").click()
        admin.wait_for_url(f"**/quality/{scorecard.pk}/")
        assert admin.locator(".qa-override-form").count() == 0  # not theirs to override
        admin.locator("#ack-comment").fill("Пациентка просила только цену")
        admin.locator("[data-testid=dispute]").click()
        admin.locator("[data-testid=ack-comment]").wait_for()
        assert "Пациентка просила только цену" in admin.locator(
            "[data-testid=ack-comment]").inner_text()
        assert admin.locator("[data-testid=dispute]").count() == 0

        # The manager sees the dispute and answers it.
        boss.goto(url)
        assert "Пациентка просила только цену" in boss.locator("#qa-feedback").inner_text()
        boss.locator("#dispute-answer").fill("Согласна, засчитываю. Но спросите имя.")
        boss.locator("[data-testid=answer]").click()
        boss.locator("[data-testid=dispute-answer]").wait_for()
        assert "Согласна, засчитываю" in boss.locator("[data-testid=dispute-answer]").inner_text()
        _shot(boss, "quality-answer")

        # The administrator sees the answer on "My quality".
        admin.goto(f"{live_server.url}/quality/me/")
        assert "Согласна, засчитываю" in admin.locator("[data-testid=dispute-answer]").inner_text()

        for page in (boss, admin):
            csp = [e for e in page.console_errors if "Content Security Policy" in e[1]]
            assert not csp, (page.url, page.console_errors)
        browser.close()

    def stored() -> tuple:
        card = Scorecard.objects.get(pk=scorecard.pk)
        override = ItemOverride.objects.get(item__scorecard=card)
        return card, override

    card, override = beside_playwright(stored)
    assert card.score > scorecard.score and str(card.score).replace(".", ",") in after
    assert (override.manager_id, override.result, override.reason) == (
        manager.pk, "pass", "Контекст диалога")
    assert (card.ack_state, card.ack_comment) == ("disputed", "Пациентка просила только цену")
    assert card.dispute_answer == "Согласна, засчитываю. Но спросите имя."
