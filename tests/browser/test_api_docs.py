"""The interactive API docs in real Chromium: an owner makes a token, opens the docs (assets
served by us, nothing blocked by our CSP), authorises with the token and runs a request."""

import pytest

from tests.browser.test_login import browser_page  # noqa: F401 (a fixture)
from tests.clinic.factories import MembershipFactory
from tests.scheduling.factories import DoctorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def olga(transactional_db):
    """An owner whose clinic has a doctor (made before the browser: Playwright's sync API runs
    an event loop in this thread, where Django refuses database calls)."""
    membership = MembershipFactory(role="owner", user__username="olga")
    DoctorFactory(clinic=membership.clinic, name="Смирнова Елена")


def test_an_owner_makes_a_token_and_tries_the_api_in_the_docs(olga, live_server,
                                                              browser_page):  # noqa: F811
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Имя пользователя").fill("olga")
    page.get_by_label("Пароль").fill("correct horse battery")
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/inbox/")

    page.goto(f"{live_server.url}/settings/api/")
    # Selectors that do not depend on the translations, which come later.
    page.locator("form input[name=name]").fill("МИС")
    page.locator("form:has(input[name=name]) button[type=submit]").click()
    secret = page.locator("#new-token").inner_text()
    assert secret.startswith("cit_")

    page.locator("a[href='/api/docs/']").click()
    page.locator(".swagger-ui .information-container").wait_for()
    assert "Clinic Inbox API" in page.locator(".swagger-ui .title").inner_text()
    page.get_by_role("button", name="Authorize").click()
    scheme = page.locator(".modal-ux .auth-container", has_text="clinicToken")
    scheme.locator("input").fill(secret)
    scheme.locator("button.authorize").click()
    page.locator(".modal-ux button.btn-done").first.click()

    operation = page.locator("#operations-doctors-doctors_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    response = operation.locator(".live-responses-table tr.response .response-col_status").first
    response.wait_for()
    assert response.inner_text().strip() == "200"
    assert "Смирнова Елена" in operation.locator(".live-responses-table").inner_text()

    csp = [e for e in page.csp_errors if "Content Security Policy" in e]
    assert not csp, csp
