"""A person in real headless Chromium: sign in as the demo administrator, switch language, leave."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser_page(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ru-RU")
        page.set_default_timeout(10_000)
        page.csp_errors = []
        page.on("console", lambda msg: msg.type == "error" and page.csp_errors.append(msg.text))
        yield page
        browser.close()


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--patients", "20", "--force")


def test_the_demo_administrator_signs_in_switches_language_and_logs_out(
        demo, live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login/")
    page.get_by_label("Имя пользователя").fill("anna")
    page.get_by_label("Пароль").fill("demo-clinic")
    page.get_by_role("button", name="Войти").click()

    nav = page.get_by_role("navigation", name="Основная навигация")
    nav.get_by_role("link", name="Входящие").wait_for()
    assert nav.get_by_role("link", name="Календарь").is_visible()
    # An administrator is not shown the manager's and owner's sections.
    assert nav.get_by_role("link", name="Настройки").count() == 0
    assert page.url == f"{live_server.url}/inbox/"
    assert page.evaluate("typeof htmx") == "object"  # served from static/, no CDN

    page.get_by_role("button", name="EN").click()
    nav = page.get_by_role("navigation", name="Main navigation")
    nav.get_by_role("link", name="Inbox").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.url.startswith(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/inbox/")
    assert page.url.startswith(f"{live_server.url}/login/")

    csp = [e for e in page.csp_errors if "Content Security Policy" in e]
    assert not csp, csp
