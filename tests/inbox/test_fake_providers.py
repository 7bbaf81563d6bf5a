"""The fake Telegram / WhatsApp server, exercised over real HTTP on loopback (no database)."""

import base64
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inbox.fake_providers import TINY_PNG, FakeProviders

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:fake-token"
BEARER = {"Authorization": "Bearer fake-access-token"}


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    with FakeProviders() as server:
        yield server


def call(fake: FakeProviders, path: str, body: Any = None, *, method: str | None = None,
         headers: dict[str, str] | None = None, raw: bytes | None = None,
         content_type: str = "application/json") -> tuple[int, Any]:
    """(status, parsed JSON or raw bytes) of one request; HTTP errors are returned, not raised."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(fake.base_url + path, data=data, method=method,
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, kind, payload = response.status, response.headers.get_content_type(), \
                response.read()
    except urllib.error.HTTPError as error:
        status, kind, payload = error.code, error.headers.get_content_type(), error.read()
    return status, json.loads(payload) if kind == "application/json" else payload


def tg(fake: FakeProviders, method: str, body: Any = None) -> tuple[int, Any]:
    return call(fake, f"/bot{TOKEN}/{method}", body)


def wa_text(to: str = "79031234567", text: str = "Здравствуйте") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": {"body": text}}


def test_it_answers_send_message_like_the_bot_api_and_records_it(fake):
    markup = {"inline_keyboard": [[{"text": "✅ Подтверждаю", "callback_data": "appt:1:ok"}]]}
    before = time.time()

    status, body = tg(fake, "sendMessage",
                      {"chat_id": 42, "text": "Привет", "reply_markup": markup})

    assert status == 200 and body["ok"] is True
    message = body["result"]
    assert message["message_id"] == 1000
    assert message["chat"] == {"id": 42, "type": "private"}
    assert message["from"]["is_bot"] is True and message["from"]["id"] == 123456
    assert message["text"] == "Привет" and message["reply_markup"] == markup
    assert message["date"] >= int(before)
    [recorded] = fake.requests
    assert (recorded.provider, recorded.method, recorded.api_method) == (
        "telegram", "POST", "sendMessage")
    assert recorded.path == f"/bot{TOKEN}/sendMessage"
    assert recorded.json == {"chat_id": 42, "text": "Привет", "reply_markup": markup}
    assert recorded.answered_status == 200 and recorded.at >= before
    assert recorded.headers["Content-Type"] == recorded.headers["content-type"]
    assert fake.sent("telegram") == [recorded] and fake.sent("whatsapp") == []


def test_message_ids_increase_per_chat(fake):
    ids = [tg(fake, "sendMessage", {"chat_id": chat, "text": "x"})[1]["result"]["message_id"]
           for chat in (1, 1, 2, 1, "2")]

    assert ids == [1000, 1001, 1000, 1002, 1001]


def test_it_validates_send_message_like_telegram(fake):
    assert tg(fake, "sendMessage", {"text": "x"}) == (400, {
        "ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"})
    assert tg(fake, "sendMessage", {"chat_id": 1, "text": " "})[1]["description"] == (
        "Bad Request: message text is empty")
    assert tg(fake, "sendMessage", {"chat_id": 1, "text": "я" * 4097})[1]["description"] == (
        "Bad Request: message is too long")
    assert tg(fake, "sendMessage", {"chat_id": 1, "text": "я" * 4096})[0] == 200
    assert [r.answered_status for r in fake.requests] == [400, 400, 400, 200]
    assert len(fake.sent("telegram")) == 1


def test_a_scripted_429_carries_retry_after_and_the_next_call_succeeds(fake):
    fake.fail_next("telegram", status=429, retry_after=7)

    assert tg(fake, "sendMessage", {"chat_id": 5, "text": "a"}) == (429, {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7}})
    status, body = tg(fake, "sendMessage", {"chat_id": 5, "text": "a"})
    assert status == 200 and body["result"]["message_id"] == 1000
    assert [r.answered_status for r in fake.requests] == [429, 200]
    assert len(fake.sent("telegram")) == 1


def test_a_scripted_403_says_the_bot_was_blocked_for_count_sends_only(fake):
    fake.fail_next("telegram", status=403, count=2)

    first, second = (tg(fake, "sendPhoto", {"chat_id": 5, "photo": "AgAD"}),
                     tg(fake, "sendMessage", {"chat_id": 5, "text": "a"}))
    assert first == second == (403, {"ok": False, "error_code": 403,
                                     "description": "Forbidden: bot was blocked by the user"})
    assert tg(fake, "answerCallbackQuery", {"callback_query_id": "9"}) == (
        200, {"ok": True, "result": True})  # not a send: the script does not apply
    assert tg(fake, "sendMessage", {"chat_id": 5, "text": "a"})[0] == 200


def test_scripted_telegram_defaults_and_descriptions(fake):
    fake.fail_next("telegram", status=400)
    fake.fail_next("telegram", status=502)
    fake.fail_next("telegram", status=400, description="Bad Request: custom")

    descriptions = [tg(fake, "sendMessage", {"chat_id": 5, "text": "a"})[1]["description"]
                    for _ in range(3)]

    assert descriptions == ["Bad Request: chat not found", "Internal Server Error",
                            "Bad Request: custom"]


def test_callbacks_markup_edits_webhooks_and_get_me(fake):
    assert tg(fake, "answerCallbackQuery", {})[0] == 400
    status, edited = tg(fake, "editMessageReplyMarkup", {
        "chat_id": 5, "message_id": 1000, "reply_markup": {"inline_keyboard": []}})
    assert status == 200 and edited["result"]["message_id"] == 1000
    assert tg(fake, "setWebhook", {"url": "https://clinic.example/hook", "secret_token": "s",
                                   "allowed_updates": ["message", "callback_query"]})[1] == {
        "ok": True, "result": True, "description": "Webhook was set"}
    info = tg(fake, "getWebhookInfo")[1]["result"]
    assert info["url"] == "https://clinic.example/hook" and info["pending_update_count"] == 0
    assert info["allowed_updates"] == ["message", "callback_query"]
    me = tg(fake, "getMe")[1]["result"]
    assert me["id"] == 123456 and me["is_bot"] is True
    assert tg(fake, "noSuchMethod") == (404, {"ok": False, "error_code": 404,
                                              "description": "Not Found"})


def test_get_file_then_download_it(fake):
    fake.add_file("AgACfile", TINY_PNG, mime="image/png")

    status, body = tg(fake, "getFile", {"file_id": "AgACfile"})

    assert status == 200
    assert body["result"]["file_id"] == "AgACfile"
    assert body["result"]["file_path"] == "photos/AgACfile.jpg"
    assert body["result"]["file_size"] == len(TINY_PNG) and body["result"]["file_unique_id"]
    assert call(fake, f"/file/bot{TOKEN}/photos/AgACfile.jpg") == (200, TINY_PNG)
    assert tg(fake, "getFile", {"file_id": "nope"}) == (400, {
        "ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"})
    assert call(fake, f"/file/bot{TOKEN}/photos/nope.jpg")[0] == 404


def test_an_uploaded_photo_is_answered_and_can_be_fetched_back(fake):
    boundary = "fakeboundary"
    raw = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n77\r\n"
           f"--{boundary}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nСнимок\r\n"
           f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.png\""
           "\r\nContent-Type: image/png\r\n\r\n").encode() + TINY_PNG + (
        f"\r\n--{boundary}--\r\n").encode()

    status, body = call(fake, f"/bot{TOKEN}/sendPhoto", raw=raw,
                        content_type=f"multipart/form-data; boundary={boundary}")

    assert status == 200
    message = body["result"]
    assert message["chat"]["id"] == 77 and message["caption"] == "Снимок"
    photo = message["photo"][-1]
    assert photo["file_size"] == len(TINY_PNG)
    assert fake.sent("telegram")[0].json == {
        "chat_id": "77", "caption": "Снимок",
        "photo": {"filename": "x.png", "content_type": "image/png", "size": len(TINY_PNG)}}
    file_path = tg(fake, "getFile", {"file_id": photo["file_id"]})[1]["result"]["file_path"]
    assert call(fake, f"/file/bot{TOKEN}/{file_path}") == (200, TINY_PNG)


def test_whatsapp_send_returns_a_wamid_and_is_recorded(fake):
    first = call(fake, "/v25.0/1055/messages", wa_text(), headers=BEARER)
    second = call(fake, "/v21.0/1055/messages", wa_text("+79031234567"), headers=BEARER)

    assert first[0] == second[0] == 200
    assert first[1]["messaging_product"] == "whatsapp"
    assert first[1]["contacts"] == [{"input": "79031234567", "wa_id": "79031234567"}]
    wamids = [first[1]["messages"][0]["id"], second[1]["messages"][0]["id"]]
    assert all(w.startswith("wamid.") for w in wamids) and wamids[0] != wamids[1]
    [sent, _] = fake.sent("whatsapp")
    assert (sent.provider, sent.api_method, sent.path) == (
        "whatsapp", "messages", "/v25.0/1055/messages")
    assert sent.json == wa_text() and sent.headers["authorization"] == BEARER["Authorization"]


def test_whatsapp_without_a_bearer_is_401_code_190(fake):
    status, body = call(fake, "/v25.0/1055/messages", wa_text())

    assert status == 401
    assert body["error"]["code"] == 190 and body["error"]["type"] == "OAuthException"
    assert "Invalid OAuth access token" in body["error"]["message"]
    assert fake.requests[0].answered_status == 401 and fake.sent("whatsapp") == []


def test_whatsapp_validates_the_message(fake):
    bad = [{**wa_text(), "messaging_product": "sms"}, {**wa_text(), "to": ""},
           {**wa_text(), "text": {"body": ""}}, {**wa_text(), "type": "image"}]

    answers = [call(fake, "/v25.0/1055/messages", body, headers=BEARER) for body in bad]

    assert {status for status, _ in answers} == {400}
    assert {body["error"]["code"] for _, body in answers} == {100}
    assert answers[0][1]["error"]["message"] == "Invalid parameter"
    template = {"messaging_product": "whatsapp", "to": "79031234567", "type": "template",
                "template": {"name": "reminder", "language": {"code": "ru"}}}
    status, body = call(fake, "/v25.0/1055/messages", template, headers=BEARER)
    assert status == 200 and body["messages"][0]["message_status"] == "accepted"


def test_a_scripted_131047_has_the_graph_error_shape(fake):
    fake.fail_next("whatsapp", status=400, code=131047)

    status, body = call(fake, "/v25.0/1055/messages", wa_text(), headers=BEARER)

    assert status == 400
    error = body["error"]
    assert error["code"] == 131047 and error["message"] == "Re-engagement message"
    assert error["type"] == "OAuthException" and "error_subcode" not in error
    assert error["error_data"] == {"messaging_product": "whatsapp", "details": (
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.")}
    assert error["fbtrace_id"].startswith("Fake")
    assert call(fake, "/v25.0/1055/messages", wa_text(), headers=BEARER)[0] == 200


def test_whatsapp_media_lookup_and_download(fake):
    fake.add_media("1013859600285441", TINY_PNG, mime="image/png")

    status, media = call(fake, "/v25.0/1013859600285441", headers=BEARER)

    assert status == 200
    assert media["url"] == f"{fake.base_url}/whatsapp-media/1013859600285441"
    assert media["mime_type"] == "image/png" and media["file_size"] == len(TINY_PNG)
    assert media["id"] == "1013859600285441" and len(media["sha256"]) == 64
    download = urllib.request.Request(media["url"], headers=BEARER)
    with urllib.request.urlopen(download, timeout=10) as response:
        assert response.headers["Content-Type"] == "image/png"
        assert response.read() == TINY_PNG
    assert call(fake, "/whatsapp-media/1013859600285441")[0] == 401
    status, missing = call(fake, "/v25.0/404404", headers=BEARER)
    assert status == 404 and missing["error"]["code"] == 100
    assert [r.api_method for r in fake.requests] == ["media", "media-download",
                                                     "media-download", "media"]
    assert fake.sent("whatsapp") == []


def test_the_http_control_endpoints_fail_delay_reset_and_list(fake):
    assert call(fake, "/_fake/fail", {"provider": "whatsapp", "status": 429, "code": 130429,
                                      "count": 1}) == (200, {"ok": True})
    status, body = call(fake, "/v25.0/1055/messages", wa_text(), headers=BEARER)
    assert status == 429 and body["error"]["message"] == "Rate limit hit"
    content = base64.b64encode(b"%PDF-1.4").decode()
    assert call(fake, "/_fake/media", {"media_id": "77", "content_b64": content,
                                       "mime": "application/pdf"})[0] == 200
    assert call(fake, "/v25.0/77", headers=BEARER)[1]["mime_type"] == "application/pdf"

    status, listed = call(fake, "/_fake/requests")

    assert status == 200
    assert [(r["provider"], r["api_method"], r["answered_status"]) for r in listed] == [
        ("control", "fail", 200), ("whatsapp", "messages", 429), ("control", "media", 200),
        ("whatsapp", "media", 200)]
    assert listed[0]["json"]["code"] == 130429
    assert call(fake, "/_fake/fail", {"provider": "viber", "status": 500})[0] == 400
    assert call(fake, "/_fake/reset", {})[0] == 200
    assert [r.api_method for r in fake.requests] == ["reset"]
    assert call(fake, "/v25.0/1055/messages", wa_text(), headers=BEARER)[0] == 200
    assert len(call(fake, "/_fake/sent?provider=whatsapp")[1]) == 1


def test_reset_forgets_requests_failures_and_delays(fake):
    tg(fake, "sendMessage", {"chat_id": 5, "text": "a"})
    fake.fail_next("telegram", status=500)
    fake.delay_next("telegram", 5)

    fake.reset()

    assert fake.requests == []
    started = time.monotonic()
    assert tg(fake, "sendMessage", {"chat_id": 5, "text": "a"})[0] == 200
    assert time.monotonic() - started < 4


def test_delay_next_makes_the_send_slow_but_successful(fake):
    fake.delay_next("whatsapp", 0.3)
    started = time.monotonic()

    status, _ = call(fake, "/v25.0/1055/messages", wa_text(), headers=BEARER)

    assert status == 200 and time.monotonic() - started >= 0.3
    assert len(fake.sent("whatsapp")) == 1


def test_unknown_paths_big_bodies_and_crashes_get_answers_not_a_dead_server(fake, monkeypatch):
    assert call(fake, "/nothing/here")[0] == 404
    assert call(fake, f"/bot{TOKEN}/sendMessage", raw=b"x" * (5 * 1024 * 1024 + 1))[0] == 413

    def crash(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(fake, "_telegram_send", crash)
    assert tg(fake, "sendMessage", {"chat_id": 5, "text": "a"})[0] == 500
    monkeypatch.undo()
    assert tg(fake, "sendMessage", {"chat_id": 5, "text": "a"})[0] == 200
    assert [(r.provider, r.answered_status) for r in fake.requests] == [
        ("unknown", 404), ("telegram", 413), ("telegram", 500), ("telegram", 200)]


def test_the_management_command_serves_until_terminated():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "manage.py", "run_fake_providers", "--port", "0"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), "the command printed nothing in 30 s"
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{base_url}/bot{TOKEN}/getMe", timeout=10) as response:
            assert json.loads(response.read())["result"]["is_bot"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
