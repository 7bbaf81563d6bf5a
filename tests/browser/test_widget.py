"""The website chat widget in real Chromium: a visitor on the demo site and on a clinic's own
site (another origin, a strict Content-Security-Policy) talks to an administrator in the inbox."""

import base64
import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from clinic import clock
from clinic.models import Availability, Clinic, Membership
from inbox.models import Channel, ContactIdentity, Conversation, Message
from inbox.services.widget import answer_status
from tests.browser import beside_playwright
from tests.browser.test_login import CHROMIUM_ARGS
from tests.conftest import MOSCOW, ROUND_THE_CLOCK

User = get_user_model()
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDGET = Path(settings.BASE_DIR) / "static" / "widget.js"
CONSENT = "Согласен на обработку персональных данных по политике клиники."
INVITE = "Подсказать цену или записать на приём?"
GREETING = "Здравствуйте! Чем помочь?"
# The invitation waits 3 idle seconds here (the settings page allows 5 and more).
WIDGET_SETTINGS = {
    "greeting": GREETING, "form_enabled": True, "form_fields": ["name", "phone"],
    "form_required": ["name"], "consent_text": CONSENT, "color": "#0f766e",
    "position": "right", "invites": [{"pattern": "*", "idle_seconds": 3, "text": INVITE}]}
# A 1x1 PNG, as the administrator's photo of the price list.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                       "hgGAWjR9awAAAABJRU5ErkJggg==")


# --- A clinic's own website: another origin, a strict CSP, and CSS that tries to reach in. ----
HOSTILE_CSS = """* { color: #f0f !important; font-size: 40px !important; }
button, textarea, section, input { display: none !important; } div { border: 5px solid red; }"""


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 — the http.server API
        if self.path == "/site.css":
            body, kind = HOSTILE_CSS, "text/css"
        else:
            body, kind = self.server.page(self.path), "text/html; charset=utf-8"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", self.server.csp)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def clinic_site(*, widget_origin: str, key: str, lang: str = "ru") -> Iterator[str]:
    """Serve a clinic's site on 127.0.0.1 (another origin than live_server's localhost) whose
    pages embed the widget from `widget_origin`; yields the site's origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    # No 'unsafe-inline', no 'unsafe-eval', and Trusted Types: innerHTML would throw.
    server.csp = (f"default-src 'none'; script-src {widget_origin}; "
                  f"connect-src {widget_origin}; img-src {widget_origin}; style-src 'self'; "
                  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
                  "require-trusted-types-for 'script'")
    server.page = lambda path: (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>Clinic</title><link rel="stylesheet" href="/site.css"></head><body>'
        f"<h1>{path}</h1><p>Prices and doctors.</p>"
        f'<script async src="{widget_origin}/static/widget.js" data-channel="{key}"></script>'
        "</body></html>")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _watch_csp(page) -> list[str]:
    """Every CSP violation the page reports, from the console and from the DOM event."""
    seen: list[str] = []
    page.on("console", lambda msg: ("Content Security Policy" in msg.text
                                    or "Trusted Type" in msg.text) and seen.append(msg.text))
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.add_init_script("""window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));""")
    return seen


def _violations(page, seen: list[str]) -> list[str]:
    return seen + page.evaluate("window.__violations")


def _widget(page):
    """The widget's host element; its shadow root is open, so locators reach into it."""
    return page.locator("[data-clinic-inbox]")


def _visitor(browser, **options):
    context = browser.new_context(locale="ru-RU", **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _login(browser, base_url: str, username: str, password: str):
    page = _visitor(browser)
    page.goto(f"{base_url}/login/")
    page.get_by_label("Имя пользователя").fill(username)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/inbox/")
    return page


def _webchat(clinic: Clinic, origins: list[str], **widget: object) -> Channel:
    return Channel.objects.create(clinic=clinic, kind="webchat", name="Сайт",
                                  allowed_origins=origins, widget={**WIDGET_SETTINGS, **widget})


def test_the_widget_is_small_and_never_parses_html():
    assert len(gzip.compress(WIDGET.read_bytes(), 9)) < 30 * 1024
    source = WIDGET.read_text()
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "Function(",
                   "document.write", "cssText", 'setAttribute("style"', "style:"):
        assert unsafe not in source, unsafe


@pytest.fixture
def demo(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", "--patients", "5", "--force")
    clinic = Clinic.objects.get(name="Стоматология «Улыбка»")
    clinic.weekly_hours = ROUND_THE_CLOCK
    clinic.save(update_fields=["weekly_hours"])
    Membership.objects.filter(clinic=clinic, user__username="anna").update(
        availability=Availability.ONLINE)
    return _webchat(clinic, [live_server.url])


def test_a_visitor_is_invited_writes_and_reads_the_administrators_reply(
        chromium_path, live_server, demo):
    from playwright.sync_api import sync_playwright

    key = demo.key
    api = f"{live_server.url}/hooks/webchat/{key}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        admin = _login(browser, live_server.url, "anna", "demo-clinic")
        page = _visitor(browser)
        page.clock.install()  # the idle seconds pass when the test says so
        csp = _watch_csp(page)
        page.goto(f"{live_server.url}/widget/demo/prices/?channel={key}")
        widget = _widget(page)
        launcher = widget.get_by_role("button", name="Чат с клиникой")
        launcher.wait_for()

        # Three seconds without scrolling or clicking: the invitation. Closed, it does not come
        # back on the next page of the visit.
        invite = widget.get_by_role("button", name=INVITE)
        page.clock.run_for(2_000)
        assert not invite.is_visible()
        page.clock.run_for(1_500)
        invite.wait_for()
        widget.get_by_role("button", name="Закрыть приглашение").click()
        assert not invite.is_visible()
        page.get_by_role("link", name="Врачи").click()
        page.wait_for_url("**/widget/demo/doctors/**")
        launcher.wait_for()
        page.clock.run_for(10_000)
        assert not invite.is_visible()

        # The greeting, the pre-chat form (consent asked for), then the question.
        launcher.click()
        widget.get_by_text(GREETING).wait_for()
        assert widget.get_by_text("Мы на связи и скоро ответим.").is_visible()
        name = widget.get_by_role("textbox", name="Имя", exact=True)
        assert name.evaluate("e => e === e.getRootNode().activeElement")  # focus moved in
        name.fill("Мария Петрова")
        widget.get_by_role("textbox", name="Телефон", exact=True).fill("+7 916 555-12-34")
        start = widget.get_by_role("button", name="Начать чат")
        start.click()
        widget.get_by_text("Отметьте согласие на обработку персональных данных.").wait_for()
        widget.get_by_role("checkbox", name=CONSENT).check()
        start.click()
        box = widget.get_by_role("textbox", name="Сообщение")
        box.fill("Сколько стоит чистка?")
        box.press("Enter")
        widget.locator(".msg.visitor[data-id]", has_text="Сколько стоит чистка?").wait_for()

        # The administrator's inbox shows it, under the name the visitor gave.
        row = admin.locator("[data-row]", has_text="Мария Петрова")
        row.wait_for(timeout=2_000)  # the inbox asks for its version every second
        row.click()
        admin.locator(".thread-head", has_text="+79165551234").wait_for()
        admin.locator("#thread").get_by_text("Сколько стоит чистка?").wait_for()
        composer = admin.locator("#composer-text")
        composer.fill("Чистка стоит 4500 ₽. Записать вас?")
        composer.press("Control+Enter")
        reply = widget.locator(".msg.clinic", has_text="Чистка стоит 4500 ₽")
        reply.wait_for(timeout=2_000)
        assert "Анна" in reply.inner_text()

        # Closed, the widget counts what comes in. A photo the administrator attaches shows
        # as an image.
        box.press("Escape")
        assert not widget.get_by_role("dialog").is_visible()
        assert launcher.evaluate("e => e === e.getRootNode().activeElement")
        admin.locator("form.composer input[type=file][name=file]").set_input_files(
            files=[{"name": "prices.png", "mimeType": "image/png", "buffer": PNG}])
        admin.locator("form.composer button[type=submit].primary").click()
        unread = widget.get_by_role("button", name="Чат с клиникой. 1 новое сообщение")
        unread.wait_for(timeout=2_000)
        assert widget.locator(".badge").inner_text() == "1"
        unread.click()
        image = widget.get_by_role("img", name="prices.png")
        image.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth === 1",
                               arg=image.element_handle())
        assert not widget.locator(".badge").is_visible()
        photo = image.get_attribute("src")

        # The panel stays open on reload, with the conversation.
        page.reload()
        widget.locator(".msg.clinic", has_text="Чистка стоит 4500 ₽").wait_for()
        assert widget.locator(".msg.visitor", has_text="Сколько стоит чистка?").count() == 1
        assert widget.get_by_role("textbox", name="Сообщение").is_visible()  # form not again
        assert not widget.locator(".badge").is_visible()
        page.keyboard.press("Escape")
        assert not widget.get_by_role("dialog").is_visible()
        token = page.evaluate(f"localStorage.getItem('clinic-inbox:{key}:token')")
        assert _violations(page, csp) == []

        # A second visitor reads nothing of the first one's, whatever they change.
        conversation_id = beside_playwright(
            lambda: Conversation.objects.get(contact__display_name="Мария Петрова").pk)
        stranger = _visitor(browser)
        stranger.goto(f"{live_server.url}/widget/demo/?channel={key}")
        _widget(stranger).get_by_role("button", name="Чат с клиникой").click()
        assert "чистка" not in _widget(stranger).inner_text().lower()
        probes = stranger.evaluate("""async ([api, token, photo]) => {
          const get = async (path, t) => {
            const r = await fetch(new URL(path, api), {headers: t ? {'X-Visitor-Token': t} : {}});
            return [r.status, await r.text()];
          };
          const mine = await fetch(api + 'session/', {method: 'POST'}).then(r => r.json());
          const last = token.slice(-1) === 'A' ? 'B' : 'A';
          return [await get('messages/?after=0', mine.token),
                  await get('messages/?after=-1000000&wait=0', mine.token),
                  await get('messages/?after=0', token.slice(0, -1) + last),
                  await get('messages/?after=0', token.toUpperCase()),
                  await get('messages/?after=0', ''), await get(photo, mine.token)];
        }""", [api, token, photo])
        assert [status for status, _ in probes] == [200, 200, 401, 401, 401, 403]
        assert all("чистка" not in body.lower() for _, body in probes)
        stranger.goto(live_server.url + reverse("inbox:thread", args=[conversation_id]))
        assert "/login/" in stranger.url
        browser.close()

    contact = ContactIdentity.objects.get(display_name="Мария Петрова")
    assert contact.phone == "+79165551234" and contact.consent_text == CONSENT
    assert list(Message.objects.filter(conversation__contact=contact)
                .values_list("direction", flat=True).order_by("pk")) == ["in", "out", "out"]


def test_the_widget_works_on_a_clinic_site_under_a_strict_csp(
        chromium_path, live_server, clinic):
    """Another origin, English, a phone-sized screen, the keyboard only; nobody online."""
    clinic.weekly_hours = ROUND_THE_CLOCK
    clinic.save(update_fields=["weekly_hours"])
    channel = _webchat(clinic, [], form_enabled=False, invites=[])
    with (clinic_site(widget_origin=live_server.url, key=channel.key, lang="en") as site,
          clinic_site(widget_origin=live_server.url, key=channel.key) as stranger_site):
        channel.allowed_origins = [site]
        channel.save(update_fields=["allowed_origins"])
        _a_visitor_on_the_clinic_site(chromium_path, live_server, clinic, channel, site,
                                      stranger_site)
    texts = list(Message.objects.filter(channel=channel).values_list("body", flat=True)
                 .order_by("pk"))
    assert texts == ["Hello from the site\nsecond line", "Please answer me here: @maria_tg"]
    assert ContactIdentity.objects.get(channel=channel).consent_text == CONSENT


def _a_visitor_on_the_clinic_site(chromium_path, live_server, clinic, channel, site,
                                  stranger_site) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = _visitor(browser, viewport={"width": 390, "height": 760}, has_touch=True,
                        reduced_motion="reduce")
        csp = _watch_csp(page)
        page.goto(f"{site}/prices")
        widget = _widget(page)
        launcher = widget.get_by_role("button", name="Chat with the clinic")
        launcher.wait_for()  # the site's `button { display: none !important }` does not reach

        page.keyboard.press("Tab")
        assert launcher.evaluate("e => e === e.getRootNode().activeElement")
        page.keyboard.press("Enter")
        dialog = widget.get_by_role("dialog", name="Chat with the clinic")
        assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 760}
        box = widget.get_by_role("textbox", name="Message")
        assert box.evaluate("e => e === e.getRootNode().activeElement")
        assert box.evaluate("e => getComputedStyle(e).fontSize") == "16px"
        status = beside_playwright(lambda: answer_status(clinic=clinic, now=clock.now()))
        assert status.online is False and status.answer_text
        widget.get_by_text("Leave a phone number or a messenger username").wait_for()

        page.keyboard.type("Hello from the site")
        page.keyboard.press("Shift+Enter")
        page.keyboard.type("second line")
        assert box.input_value() == "Hello from the site\nsecond line"
        page.keyboard.press("Enter")
        widget.locator(".msg.visitor[data-id]", has_text="second line").wait_for()
        assert box.input_value() == ""
        contact = widget.get_by_role("textbox", name="Phone, Telegram or WhatsApp")
        contact.fill("@maria_tg")
        widget.get_by_role("checkbox", name=CONSENT).check()
        widget.get_by_role("button", name="Save").click()
        widget.get_by_text("Thank you! We will answer you there.").wait_for()
        widget.locator(".msg.visitor[data-id]", has_text="@maria_tg").wait_for()
        page.keyboard.press("Escape")
        assert not dialog.is_visible()
        assert launcher.evaluate("e => e === e.getRootNode().activeElement")
        assert _violations(page, csp) == []

        # A site that is not among the channel's origins gets no widget.
        refused = httpx.get(f"{live_server.url}/hooks/webchat/{channel.key}/config/?lang=ru",
                            headers={"Origin": stranger_site})
        assert refused.status_code == 403
        other = _visitor(browser)
        with other.expect_event("requestfailed", lambda r: "/config/" in r.url):
            other.goto(f"{stranger_site}/")  # the browser refuses the answer (no CORS)
        assert _widget(other).count() == 0
        browser.close()


def test_out_of_hours_the_widget_says_when_the_clinic_answers_and_asks_for_a_phone(
        chromium_path, live_server, clinic, administrator):
    from playwright.sync_api import sync_playwright

    today = clock.now().astimezone(MOSCOW).weekday()
    clinic.weekly_hours = [[["10:00", "18:00"]] if day == (today + 2) % 7 else []
                           for day in range(7)]
    clinic.evening_duty_weekdays = []
    clinic.save(update_fields=["weekly_hours", "evening_duty_weekdays"])
    channel = _webchat(clinic, [live_server.url], form_enabled=False, invites=[])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = _visitor(browser)
        page.goto(f"{live_server.url}/widget/demo/?channel={channel.key}")
        widget = _widget(page)
        widget.get_by_role("button", name="Чат с клиникой").click()
        status = beside_playwright(lambda: answer_status(clinic=clinic, now=clock.now()))
        assert status.open is False and "10:00" in status.answer_text
        assert status.answer_at.astimezone(MOSCOW).date() == (
            clock.now().astimezone(MOSCOW) + timedelta(days=2)).date()
        widget.get_by_text(status.answer_text).wait_for()
        widget.get_by_role("textbox", name="Телефон, Telegram или WhatsApp").fill(
            "8 916 555-00-11")
        widget.get_by_role("checkbox", name=CONSENT).check()
        widget.get_by_role("button", name="Сохранить").click()
        widget.get_by_text("Спасибо! Ответим вам туда.").wait_for()

        # Open, but every administrator online is at the cap: the expected wait.
        def busy() -> str:
            Clinic.objects.filter(pk=clinic.pk).update(weekly_hours=ROUND_THE_CLOCK,
                                                       max_live_dialogues=1)
            Membership.objects.filter(user=administrator).update(
                availability=Availability.ONLINE)
            other = _webchat(clinic, [], greeting="")
            contact = ContactIdentity.objects.create(clinic=clinic, channel=other,
                                                     external_id="visitor:other")
            Conversation.objects.create(clinic=clinic, channel=other, contact=contact,
                                        assignee=administrator)
            fresh = Clinic.objects.get(pk=clinic.pk)
            return answer_status(clinic=fresh, now=clock.now())
        status = beside_playwright(busy)
        assert status.expected_wait_minutes and status.answer_text
        page.reload()
        widget.get_by_text(status.answer_text).wait_for()
        browser.close()

    assert ContactIdentity.objects.get(channel=channel).phone == "+79165550011"
