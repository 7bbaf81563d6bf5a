"""A fake Telegram Bot API + WhatsApp Cloud API (Graph) server on loopback, for tests and demos.

It answers on the real paths (`/bot<token>/<method>`, `/file/bot<token>/<path>`,
`/vNN.N/<phone_number_id>/messages`, `/vNN.N/<media_id>`), records every request it receives
and can be scripted to fail or stall the next send calls. Stdlib only, importable without Django.

    with FakeProviders() as fake:            # port 0: a free port
        settings.TELEGRAM_API_BASE = fake.base_url
        fake.fail_next("telegram", status=429, retry_after=3)
        ...
        assert fake.sent("telegram")[0].json["text"] == "Hello"

As a separate process (`python manage.py run_fake_providers` or
`python -m inbox.fake_providers`) the same controls are served over HTTP under `/_fake/`:
`POST /_fake/fail`, `POST /_fake/delay`, `POST /_fake/reset`, `POST /_fake/file`,
`POST /_fake/media` (content as base64 in `content_b64`), `GET /_fake/requests[?provider=…]`
and `GET /_fake/sent?provider=…`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import os
import re
import secrets
import signal
import struct
import sys
import threading
import time
import traceback
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

__all__ = ["TINY_PNG", "FakeProviders", "RecordedRequest", "run_until_signal"]

MAX_BODY = 5 * 1024 * 1024
TELEGRAM_MAX_TEXT = 4096
TELEGRAM_MAX_CAPTION = 1024
TELEGRAM_MAX_DOWNLOAD = 20 * 1024 * 1024
WHATSAPP_MAX_TEXT = 4096
PROVIDERS = ("telegram", "whatsapp")
TELEGRAM_SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
TELEGRAM_METHODS = {name.lower(): name for name in (
    *TELEGRAM_SENDS, "answerCallbackQuery", "editMessageReplyMarkup", "getFile", "setWebhook",
    "deleteWebhook", "getWebhookInfo", "getMe", "sendChatAction")}
WHATSAPP_TYPES = frozenset({"text", "image", "document", "audio", "video", "sticker",
                            "interactive", "template", "location", "contacts", "reaction"})
VERBOSE_ENV = "FAKE_PROVIDERS_VERBOSE"

_TELEGRAM_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
_TELEGRAM_FILE_PATH = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<file_path>.+)$")
_GRAPH_PATH = re.compile(r"^/v\d+(?:\.\d+)?/(?P<node>[^/]+)(?:/(?P<edge>[^/]+))?/?$")
_MEDIA_DOWNLOAD_PATH = re.compile(r"^/whatsapp-media/(?P<media_id>[^/]+)$")

_TELEGRAM_DEFAULTS = {400: "Bad Request: chat not found", 401: "Unauthorized",
                      403: "Forbidden: bot was blocked by the user", 404: "Not Found"}
_GRAPH_DEFAULT_CODES = {400: 100, 401: 190, 403: 10, 404: 100, 429: 130429}
_GRAPH_MESSAGES = {
    2: "Service temporarily unavailable",
    4: "Application request limit reached",
    10: "Permission denied",
    100: "Invalid parameter",
    190: "Invalid OAuth access token - Cannot parse access token",
    80007: "Rate limit issues",
    130429: "Rate limit hit",
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    131048: "Spam rate limit hit",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
}
_GRAPH_DETAILS = {131047: "Message failed to send because more than 24 hours have passed since "
                          "the customer last replied to this number."}


def _tiny_png() -> bytes:
    """A valid 1×1 white PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


TINY_PNG = _tiny_png()


class Headers(dict[str, str]):
    """Request headers with lower-cased keys and case-insensitive lookup."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((key.lower(), value) for key, value in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received and what it answered."""

    provider: str  # "telegram" | "whatsapp" | "control" | "unknown"
    method: str
    path: str  # without the query string
    api_method: str  # "sendMessage"…; "messages" / "media" / "media-download" for WhatsApp
    headers: dict[str, str]  # lower-cased keys, case-insensitive lookup
    json: dict[str, Any] | None  # JSON body, or form fields (files summarised), else None
    answered_status: int
    at: float


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass
class _Failure:
    status: int
    code: int | None
    description: str | None
    retry_after: int | None


@dataclass
class _Stored:
    content: bytes
    mime: str
    path: str = ""
    unique_id: str = ""


@dataclass
class _Incoming:
    """A parsed request, handed from the HTTP handler to the fake."""

    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    raw: bytes
    body: dict[str, Any] | None
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # name, mime, bytes
    bad_json: bool = False


class _ProviderError(Exception):
    """Answer with this reply instead of the normal result."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _json_reply(status: int, payload: Any) -> _Reply:
    return _Reply(status, json.dumps(payload, ensure_ascii=False).encode())


def _telegram_error(status: int, description: str, retry_after: int | None = None) -> _Reply:
    payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        payload["parameters"] = {"retry_after": retry_after}
    return _json_reply(status, payload)


def _graph_error(status: int, code: int, message: str | None = None,
                 details: str | None = None) -> _Reply:
    default = _GRAPH_MESSAGES.get(code) or (
        "Service temporarily unavailable" if status >= 500 else "Unknown error")
    message = message or default
    return _json_reply(status, {"error": {
        "message": message, "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp",
                       "details": details or _GRAPH_DETAILS.get(code) or message},
        "fbtrace_id": f"Fake{secrets.token_hex(8)}"}})


def _failure_reply(provider: str, failure: _Failure) -> _Reply:
    status = failure.status
    if provider == "telegram":
        if status == 429:
            retry_after = failure.retry_after or 1
            description = failure.description or f"Too Many Requests: retry after {retry_after}"
            return _telegram_error(status, description, retry_after)
        default = "Internal Server Error" if status >= 500 else _TELEGRAM_DEFAULTS.get(
            status, f"Error {status}")
        return _telegram_error(status, failure.description or default)
    code = failure.code or _GRAPH_DEFAULT_CODES.get(status) or (2 if status >= 500 else 100)
    return _graph_error(status, code, failure.description, failure.description)


def _parse_body(content_type: str, raw: bytes) -> tuple[dict[str, Any] | None, dict, bool]:
    """(fields, files, bad_json) of a JSON, urlencoded or multipart body, best effort."""
    if not raw:
        return None, {}, False
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)), {}, False
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, raw)
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None, {}, True
    return (parsed if isinstance(parsed, dict) else {"_": parsed}), {}, False


def _parse_multipart(content_type: str, raw: bytes) -> tuple[dict[str, Any], dict, bool]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, Any] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = payload.decode("utf-8", "replace")
            continue
        mime = part.get_content_type()
        files[name] = (filename, mime, payload)
        fields[name] = {"filename": filename, "content_type": mime, "size": len(payload)}
    return fields, files, False


def _chat_id(value: Any) -> int | str:
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeProviders:
    """The fake server: start it, point the adapters at `base_url`, inspect `requests`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 verbose: bool | None = None) -> None:
        self.host = host
        self.port = port
        self.verbose = bool(os.environ.get(VERBOSE_ENV)) if verbose is None else verbose
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._failures: dict[str, deque[list]] = {p: deque() for p in PROVIDERS}
        self._delays: dict[str, deque[list]] = {p: deque() for p in PROVIDERS}
        self._message_ids: dict[int | str, itertools.count] = {}
        self._ids = itertools.count(1)
        self._files: dict[str, _Stored] = {}
        self._media: dict[str, _Stored] = {}
        self._webhooks: dict[str, dict[str, Any]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeProviders:
        """Bind and serve in a daemon thread; returns self. Starting twice is a no-op."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        server.handle_error = self._handle_server_error  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={
            "poll_interval": 0.1}, name="fake-providers", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`; only valid once started."""
        if self._server is None:
            raise RuntimeError("FakeProviders is not started")
        host, port = self._server.server_address[:2]
        if host in ("0.0.0.0", ""):  # noqa: S104 - only to print a reachable address
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    # -- scripting and inspection ----------------------------------------------------------

    def sent(self, provider: str) -> list[RecordedRequest]:
        """The successful send calls (Telegram send*, WhatsApp messages) to `provider`."""
        with self._lock:
            return [r for r in self.requests if r.provider == provider
                    and 200 <= r.answered_status < 300 and self._is_send(r.provider, r)]

    def fail_next(self, provider: str, *, status: int, count: int = 1, code: int | None = None,
                  description: str | None = None, retry_after: int | None = None) -> None:
        """Answer the next `count` send calls to `provider` with this error.

        `code` is the Graph error code (WhatsApp only; Telegram's error_code is `status`);
        `retry_after` is Telegram's `parameters.retry_after` on a 429.
        """
        self._check_provider(provider)
        if not 400 <= int(status) <= 599:
            raise ValueError(f"status must be 4xx or 5xx, not {status}")
        failure = _Failure(int(status), None if code is None else int(code), description,
                           None if retry_after is None else int(retry_after))
        if count < 1:
            return
        with self._lock:
            self._failures[provider].append([failure, int(count)])

    def delay_next(self, provider: str, seconds: float, count: int = 1) -> None:
        """Make the next `count` send calls to `provider` wait `seconds` before answering."""
        self._check_provider(provider)
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        if count < 1:
            return
        with self._lock:
            self._delays[provider].append([float(seconds), int(count)])

    def reset(self) -> None:
        """Forget requests, scripted failures and delays (files, media and ids are kept)."""
        with self._lock:
            self.requests.clear()
            for queue in (*self._failures.values(), *self._delays.values()):
                queue.clear()

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None,
                 mime: str = "image/jpeg") -> None:
        """Register a Telegram file for getFile and `/file/bot<token>/<file_path>`."""
        path = file_path or f"photos/{file_id}.jpg"
        with self._lock:
            self._files[file_id] = _Stored(content, mime, path, f"AQAD{len(self._files) + 1}")

    def add_media(self, media_id: str, content: bytes, mime: str = "image/jpeg") -> None:
        """Register WhatsApp media for `GET /vNN/<media_id>` and its download URL."""
        with self._lock:
            self._media[media_id] = _Stored(content, mime)

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _check_provider(provider: str) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {PROVIDERS}, not {provider!r}")

    @staticmethod
    def _is_send(provider: str, request: RecordedRequest) -> bool:
        if provider == "telegram":
            return request.api_method in TELEGRAM_SENDS
        if provider == "whatsapp":
            body = request.json or {}
            return (request.api_method == "messages" and request.method == "POST"
                    and "status" not in body)
        return False

    def _take(self, queue: deque[list]) -> Any:
        with self._lock:
            if not queue:
                return None
            entry = queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                queue.popleft()
            return entry[0]

    def _before_send(self, provider: str) -> None:
        """Apply a scripted delay, then a scripted failure, to a send call."""
        seconds = self._take(self._delays[provider])
        if seconds:
            time.sleep(seconds)
        failure = self._take(self._failures[provider])
        if failure is not None:
            raise _ProviderError(_failure_reply(provider, failure))

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _handle_server_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            traceback.print_exc()

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def _route(self, path: str) -> tuple[str, str, Callable[[_Incoming, re.Match], _Reply]]:
        """(provider, api_method, handler) for a path."""
        if path.startswith("/_fake/"):
            return "control", path.removeprefix("/_fake/").strip("/"), self._control
        if match := _TELEGRAM_PATH.match(path):
            method = match["method"]
            return "telegram", TELEGRAM_METHODS.get(method.lower(), method), self._telegram
        if _TELEGRAM_FILE_PATH.match(path):
            return "telegram", "file-download", self._telegram_download
        if _MEDIA_DOWNLOAD_PATH.match(path):
            return "whatsapp", "media-download", self._whatsapp
        if match := _GRAPH_PATH.match(path):
            edge = match["edge"]
            api_method = {None: "media", "messages": "messages", "media": "media-upload"}.get(
                edge, edge or "")
            return "whatsapp", api_method, self._whatsapp
        return "unknown", "", self._unknown

    def _handle(self, request: _Incoming) -> tuple[str, str, _Reply]:
        """Answer one request; never raises."""
        provider, api_method = "unknown", ""
        try:
            provider, api_method, handler = self._route(request.path)
            reply = handler(request, api_method)
        except _ProviderError as error:
            reply = error.reply
        except Exception as error:  # a bug in the fake must not kill the server
            traceback.print_exc(file=sys.stderr)
            reply = _json_reply(500, {"ok": False, "error_code": 500,
                                      "description": f"Fake provider crashed: {error!r}"})
        return provider, api_method, reply

    # -- Telegram ----------------------------------------------------------------------------

    def _telegram(self, request: _Incoming, method: str) -> _Reply:
        token = _TELEGRAM_PATH.match(request.path)["token"]  # type: ignore[index]
        if request.bad_json:
            return _telegram_error(400, "Bad Request: can't parse JSON")
        params: dict[str, Any] = {**request.query, **(request.body or {})}
        bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 100000001
        if method in TELEGRAM_SENDS:
            self._before_send("telegram")
            return self._telegram_send(method, params, request.files, bot_id)
        answer = {
            "answerCallbackQuery": self._telegram_answer_callback,
            "editMessageReplyMarkup": lambda p: self._telegram_edit_markup(p, bot_id),
            "getFile": self._telegram_get_file,
            "setWebhook": lambda p: self._telegram_set_webhook(p, token),
            "deleteWebhook": lambda p: self._telegram_set_webhook({"url": ""}, token),
            "getWebhookInfo": lambda p: self._telegram_webhook_info(token),
            "getMe": lambda p: {"ok": True, "result": {
                "id": bot_id, "is_bot": True, "first_name": "Fake clinic bot",
                "username": "fake_clinic_bot", "can_join_groups": False,
                "can_read_all_group_messages": False, "supports_inline_queries": False}},
            "sendChatAction": lambda p: {"ok": True, "result": True},
        }.get(method)
        if answer is None:
            return _telegram_error(404, "Not Found")
        return _json_reply(200, answer(params))

    def _telegram_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("chat_id") in (None, ""):
            raise _ProviderError(_telegram_error(400, "Bad Request: chat_id is empty"))
        chat_id = _chat_id(params["chat_id"])
        if isinstance(chat_id, int) and chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        else:
            kind = "private" if isinstance(chat_id, int) else "channel"
        return {"id": chat_id, "type": kind}

    def _telegram_send(self, method: str, params: dict[str, Any],
                       files: dict[str, tuple[str, str, bytes]], bot_id: int) -> _Reply:
        chat = self._telegram_chat(params)
        message: dict[str, Any] = {
            "date": int(time.time()), "chat": chat,
            "from": {"id": bot_id, "is_bot": True, "first_name": "Fake clinic bot",
                     "username": "fake_clinic_bot"}}
        if method == "sendMessage":
            text = str(params.get("text") or "")
            if not text.strip():
                return _telegram_error(400, "Bad Request: message text is empty")
            if len(text) > TELEGRAM_MAX_TEXT:
                return _telegram_error(400, "Bad Request: message is too long")
            message["text"] = text
        else:
            field_name = "photo" if method == "sendPhoto" else "document"
            stored_id, stored = self._telegram_attachment(params, files, field_name)
            if stored_id is None:
                return _telegram_error(400, f"Bad Request: there is no {field_name} in the "
                                            "request")
            caption = str(params.get("caption") or "")
            if len(caption) > TELEGRAM_MAX_CAPTION:
                return _telegram_error(400, "Bad Request: message caption is too long")
            if caption:
                message["caption"] = caption
            size = len(stored.content) if stored else 1024
            unique = stored.unique_id if stored else f"AQAD{stored_id}"
            if field_name == "photo":
                message["photo"] = [{"file_id": stored_id, "file_unique_id": unique,
                                     "width": 1, "height": 1, "file_size": size}]
            else:
                name = files[field_name][0] if field_name in files else "document"
                message["document"] = {"file_name": name, "file_id": stored_id,
                                       "file_unique_id": unique, "file_size": size,
                                       "mime_type": stored.mime if stored else
                                       "application/octet-stream"}
        markup = _maybe_json(params.get("reply_markup"))
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        with self._lock:
            counter = self._message_ids.setdefault(chat["id"], itertools.count(1000))
            message = {"message_id": next(counter), **message}
        return _json_reply(200, {"ok": True, "result": message})

    def _telegram_attachment(self, params: dict[str, Any],
                             files: dict[str, tuple[str, str, bytes]],
                             field_name: str) -> tuple[str | None, _Stored | None]:
        """(file_id, stored file) of the photo/document sent: an upload, a file_id or a URL."""
        if field_name in files:
            filename, mime, content = files[field_name]
            file_id = f"fake-{field_name}-{self._next_id()}"
            folder = "photos" if field_name == "photo" else "documents"
            self.add_file(file_id, content, f"{folder}/{file_id}-{filename}", mime)
            return file_id, self._files[file_id]
        value = params.get(field_name)
        if not value or not isinstance(value, str):
            return None, None
        if value in self._files:
            return value, self._files[value]
        return f"fake-{field_name}-{self._next_id()}", None

    def _telegram_answer_callback(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("callback_query_id"):
            raise _ProviderError(_telegram_error(
                400, 'Bad Request: parameter "callback_query_id" is required'))
        if len(str(params.get("text") or "")) > 200:
            raise _ProviderError(_telegram_error(400, "Bad Request: MESSAGE_TOO_LONG"))
        return {"ok": True, "result": True}

    def _telegram_edit_markup(self, params: dict[str, Any], bot_id: int) -> dict[str, Any]:
        if params.get("inline_message_id"):
            return {"ok": True, "result": True}
        chat = self._telegram_chat(params)
        if not params.get("message_id"):
            raise _ProviderError(_telegram_error(
                400, "Bad Request: message identifier is not specified"))
        now = int(time.time())
        message: dict[str, Any] = {
            "message_id": int(params["message_id"]), "date": now, "edit_date": now,
            "chat": chat, "from": {"id": bot_id, "is_bot": True,
                                   "first_name": "Fake clinic bot"}}
        markup = _maybe_json(params.get("reply_markup"))
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        return {"ok": True, "result": message}

    def _telegram_get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        stored = self._files.get(file_id)
        if stored is None:
            raise _ProviderError(_telegram_error(400, "Bad Request: invalid file_id"))
        if len(stored.content) > TELEGRAM_MAX_DOWNLOAD:
            raise _ProviderError(_telegram_error(400, "Bad Request: file is too big"))
        return {"ok": True, "result": {
            "file_id": file_id, "file_unique_id": stored.unique_id,
            "file_size": len(stored.content), "file_path": stored.path}}

    def _telegram_set_webhook(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        url = str(params.get("url") or "")
        with self._lock:
            self._webhooks[token] = {**params, "url": url}
        return {"ok": True, "result": True,
                "description": "Webhook was set" if url else "Webhook was deleted"}

    def _telegram_webhook_info(self, token: str) -> dict[str, Any]:
        hook = self._webhooks.get(token, {})
        info: dict[str, Any] = {"url": hook.get("url", ""), "has_custom_certificate": False,
                                "pending_update_count": 0}
        if info["url"]:
            info["max_connections"] = int(hook.get("max_connections") or 40)
            info["ip_address"] = "127.0.0.1"
            allowed = _maybe_json(hook.get("allowed_updates"))
            if isinstance(allowed, list):
                info["allowed_updates"] = allowed
        return {"ok": True, "result": info}

    def _telegram_download(self, request: _Incoming, api_method: str) -> _Reply:
        file_path = _TELEGRAM_FILE_PATH.match(request.path)["file_path"]  # type: ignore[index]
        with self._lock:
            stored = next((f for f in self._files.values() if f.path == file_path), None)
        if stored is None or request.method != "GET":
            return _telegram_error(404, "Not Found")
        return _Reply(200, stored.content, stored.mime)

    # -- WhatsApp ----------------------------------------------------------------------------

    def _whatsapp(self, request: _Incoming, api_method: str) -> _Reply:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth.removeprefix("Bearer ").strip():
            return _graph_error(401, 190)
        if api_method == "media-download":
            media_id = _MEDIA_DOWNLOAD_PATH.match(request.path)["media_id"]  # type: ignore[index]
            stored = self._media.get(media_id)
            if stored is None or request.method != "GET":
                return _graph_error(404, 100, "Media not found")
            return _Reply(200, stored.content, stored.mime)
        node = _GRAPH_PATH.match(request.path)["node"]  # type: ignore[index]
        if api_method == "messages" and request.method == "POST":
            return self._whatsapp_messages(request)
        if api_method == "media-upload" and request.method == "POST":
            return self._whatsapp_upload(request)
        if api_method == "media" and request.method in ("GET", "DELETE"):
            return self._whatsapp_media(node, request.method)
        return _graph_error(400, 100, "Unsupported request - method type: "
                            f"{request.method.lower()}")

    def _whatsapp_messages(self, request: _Incoming) -> _Reply:
        body = request.body or {}
        if body.get("status") == "read" and body.get("message_id"):  # mark as read, not a send
            return _json_reply(200, {"success": True})
        self._before_send("whatsapp")
        if request.bad_json or body.get("messaging_product") != "whatsapp":
            return _graph_error(400, 100, details="messaging_product must be 'whatsapp'")
        to = str(body.get("to") or "")
        if not to:
            return _graph_error(400, 100, details="The parameter to is required.")
        kind = body.get("type", "text")
        content = body.get(kind)
        if kind not in WHATSAPP_TYPES or not isinstance(content, dict) or not content:
            return _graph_error(400, 100, details=f"Param {kind} is required")
        if kind == "text":
            text = str(content.get("body") or "")
            if not text.strip():
                return _graph_error(400, 100, details="Param text['body'] is required")
            if len(text) > WHATSAPP_MAX_TEXT:
                return _graph_error(400, 100, details="Param text['body'] is too long")
        if kind in ("image", "document", "audio", "video", "sticker") and not (
                content.get("id") or content.get("link")):
            return _graph_error(400, 100, details=f"Param {kind}['id'] or {kind}['link'] "
                                                  "is required")
        if kind == "template" and not content.get("name"):
            return _graph_error(400, 100, details="Param template['name'] is required")
        if kind == "interactive" and not content.get("type"):
            return _graph_error(400, 100, details="Param interactive['type'] is required")
        wamid = f"wamid.HBgL{self._next_id():08d}{secrets.token_hex(8).upper()}"
        sent: dict[str, Any] = {"id": wamid}
        if kind == "template":
            sent["message_status"] = "accepted"
        wa_id = re.sub(r"\D", "", to) or to
        return _json_reply(200, {"messaging_product": "whatsapp",
                                 "contacts": [{"input": to, "wa_id": wa_id}],
                                 "messages": [sent]})

    def _whatsapp_upload(self, request: _Incoming) -> _Reply:
        if "file" not in request.files:
            return _graph_error(400, 100, details="Param file is required")
        _, mime, content = request.files["file"]
        media_id = f"{self._next_id() + 10**15}"
        self.add_media(media_id, content, str((request.body or {}).get("type") or mime))
        return _json_reply(200, {"id": media_id})

    def _whatsapp_media(self, media_id: str, method: str) -> _Reply:
        stored = self._media.get(media_id)
        if stored is None:
            return _graph_error(404, 100, f"Unsupported get request. Object with ID "
                                f"'{media_id}' does not exist")
        if method == "DELETE":
            with self._lock:
                self._media.pop(media_id, None)
            return _json_reply(200, {"success": True})
        return _json_reply(200, {
            "messaging_product": "whatsapp", "url": f"{self.base_url}/whatsapp-media/{media_id}",
            "mime_type": stored.mime, "sha256": hashlib.sha256(stored.content).hexdigest(),
            "file_size": len(stored.content), "id": media_id})

    # -- control and the rest ----------------------------------------------------------------

    def _control(self, request: _Incoming, action: str) -> _Reply:
        body = request.body or {}
        try:
            if request.method == "GET" and action in ("requests", "sent"):
                provider = request.query.get("provider")
                if action == "sent":
                    items = self.sent(provider or "")
                else:
                    with self._lock:
                        items = [r for r in self.requests
                                 if provider is None or r.provider == provider]
                return _json_reply(200, [asdict(r) for r in items])
            if request.method != "POST":
                return _json_reply(405, {"error": "method not allowed"})
            if action == "fail":
                self.fail_next(str(body.get("provider")), status=int(body["status"]),
                               count=int(body.get("count", 1)), code=body.get("code"),
                               description=body.get("description"),
                               retry_after=body.get("retry_after"))
            elif action == "delay":
                self.delay_next(str(body.get("provider")), float(body["seconds"]),
                                int(body.get("count", 1)))
            elif action == "reset":
                self.reset()
            elif action == "file":
                self.add_file(str(body["file_id"]), base64.b64decode(body["content_b64"]),
                              body.get("file_path"), body.get("mime", "image/jpeg"))
            elif action == "media":
                self.add_media(str(body["media_id"]), base64.b64decode(body["content_b64"]),
                               body.get("mime", "image/jpeg"))
            else:
                return _json_reply(404, {"error": f"unknown control {action!r}"})
        except (KeyError, TypeError, ValueError) as error:
            return _json_reply(400, {"error": f"bad control request: {error!r}"})
        return _json_reply(200, {"ok": True})

    def _unknown(self, request: _Incoming, api_method: str) -> _Reply:
        return _json_reply(404, {"error": "not found", "path": request.path})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeProviders/1.0"
    timeout = 60

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    @property
    def fake(self) -> FakeProviders:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        if self.fake.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        at = time.time()
        url = urlsplit(self.path)
        headers = Headers(self.headers.items())
        incoming = _Incoming(self.command, url.path, dict(parse_qsl(url.query)), headers, b"",
                             None)
        raw = self._read_body()
        if raw is None:
            provider, api_method, _ = self.fake._route(url.path)
            reply = (_telegram_error(413, "Request Entity Too Large") if provider == "telegram"
                     else _graph_error(413, 100, "Request entity too large")
                     if provider == "whatsapp" else _json_reply(413, {"error": "too large"}))
            self._finish(incoming, provider, api_method, reply, at)
            self._drain()
            return
        incoming.raw = raw
        incoming.body, incoming.files, incoming.bad_json = _parse_body(
            headers.get("content-type", ""), raw)
        provider, api_method, reply = self.fake._handle(incoming)
        self._finish(incoming, provider, api_method, reply, at)

    def _read_body(self) -> bytes | None:
        """The request body, or None when it is over MAX_BODY."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._pending = length
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _drain(self) -> None:
        """Read (and drop) an oversized body after answering, so the client sees our 413."""
        self.close_connection = True
        remaining = getattr(self, "_pending", 0)
        self.connection.settimeout(1)
        try:
            while remaining > 0 and (chunk := self.rfile.read(min(remaining, 65536))):
                remaining -= len(chunk)
        except OSError:
            pass

    def _finish(self, incoming: _Incoming, provider: str, api_method: str, reply: _Reply,
                at: float) -> None:
        self.fake._record(RecordedRequest(
            provider=provider, method=incoming.method, path=incoming.path,
            api_method=api_method, headers=incoming.headers, json=incoming.body,
            answered_status=reply.status, at=at))
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except OSError:  # the client went away
            self.close_connection = True


def run_until_signal(fake: FakeProviders, *, out: TextIO | None = None) -> None:
    """Start `fake`, print its base URL as the first line, serve until SIGINT/SIGTERM."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    fake.start()
    try:
        stream = out or sys.stdout
        stream.write(f"{fake.base_url}\n")
        stream.write("Fake Telegram Bot API + WhatsApp Cloud API; point TELEGRAM_API_BASE / "
                     "WHATSAPP_API_BASE here. Ctrl+C to stop.\n")
        stream.flush()
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    run_until_signal(FakeProviders(args.host, args.port, verbose=args.verbose or None))


if __name__ == "__main__":
    main()
