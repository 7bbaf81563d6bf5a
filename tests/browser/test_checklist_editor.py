"""The checklist editor in real Chromium: the owner comes from Settings, makes an item
critical and lowers the emoji limit, saves revision 1.3; a manager re-scores an older
scorecard with it and finds the old one in the history."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from qa.models import Scorecard
from tests.browser import beside_playwright
from tests.browser.test_login import CHROMIUM_ARGS
from tests.browser.test_quality import _login
from tests.qa.factories import Chat, conversation_for, scored

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], f"{name}.png"),
                        full_page=True, caret="initial")


def test_the_owner_saves_a_revision_and_a_manager_rescores_with_it(
        chromium_path, live_server, clinic, owner, manager, administrator, patient):
    from playwright.sync_api import sync_playwright

    chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator,
                timezone.now() - timedelta(hours=1))
    chat.patient("Здравствуйте, сколько стоит чистка?")
    chat.admin("5000 руб.")
    old = scored(chat, "not_about_visit")
    assert old.revision.number == "1.2" and old.score > 0

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)

        boss = _login(browser, live_server.url, owner.username)
        boss.goto(f"{live_server.url}/settings/")
        boss.locator("nav.tabs a[href='/quality/checklist/']").click()
        boss.wait_for_url("**/quality/checklist/")
        row = boss.locator("#item-no_bare_price")
        row.locator("input[name='no_bare_price-critical']").check()
        boss.locator("input[name='emoji-emoji_limit']").fill("1")
        _shot(boss, "checklist-editor")
        boss.locator("[data-testid=checklist-save]").click()
        boss.wait_for_url("**/quality/checklist/")
        assert "1.3" in boss.locator(".messages").inner_text()
        revisions = boss.locator("[data-testid=revisions] tbody tr")
        assert revisions.count() == 2 and "1.3" in revisions.first.inner_text()
        assert boss.locator("input[name='no_bare_price-critical']").is_checked()

        manager_page = _login(browser, live_server.url, manager.username)
        manager_page.goto(f"{live_server.url}/quality/{old.pk}/")
        manager_page.locator("[data-testid=rescore]").click()
        manager_page.wait_for_url(lambda url: f"/quality/{old.pk}/" not in url)
        assert manager_page.locator("[data-testid=score]").inner_text() == "0,0"
        assert manager_page.locator("[data-testid=rescore]").count() == 0
        _shot(manager_page, "checklist-rescored")
        manager_page.locator(f".qa-history a[href='/quality/{old.pk}/']").click()
        manager_page.wait_for_url(f"**/quality/{old.pk}/")
        assert manager_page.locator(".qa-scorecard-head .warning").count() == 1

        for page in (boss, manager_page):
            csp = [e for e in page.console_errors if "Content Security Policy" in e[1]]
            assert not csp, (page.url, page.console_errors)
        browser.close()

    def stored() -> list[tuple[str, bool]]:
        return [(s.revision.number, s.is_current)
                for s in Scorecard.objects.order_by("id").select_related("revision")]

    assert beside_playwright(stored) == [("1.2", False), ("1.3", True)]
