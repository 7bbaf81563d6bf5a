"""The website chat's JSON API for the widget (`/hooks/webchat/<channel key>/<action>/`).

Visitors authenticate with the token the server issued (header X-Visitor-Token). Browsers may
call it only from the channel's allowed origins or from this site itself (the demo page), with
CORS; every call is rate-limited per address, sends per visitor, new sessions per address.
Errors are `{"error": "<text>"}`; the profile's also name the `field`.

Contract (issue 10; additions to the first version are marked *):
- `session`  POST → 201 {"token", "returning": false}; with a valid token → 200 {"token",
  "returning": true}.
- `config`*  GET, no token; `?lang=ru|en` (default: the site's language, ru) →
  {"greeting", "form": {"enabled", "fields": ["name", "phone"], "required": [...],
  "consent_text"}, "invites": [{"pattern", "idle_seconds", "text"}],
  "appearance": {"color": "#rrggbb", "position": "right"|"left"},
  "status": {"online", "open", "answer_at": ISO datetime|null, "answer_text": ""|sentence,
  "expected_wait_minutes": int|null}}. `answer_text` is "" when someone answers now.
- `profile`* POST (token), `?lang=` as above, JSON {"name", "phone", "consent": bool} →
  200 {"profile": {"name", "phone" (E.164), "consent": bool}}; 400 {"error", "field":
  "name"|"phone"|"consent"} when invalid (a required field empty, a bad phone, no consent while
  the channel shows a consent text). Empty name/phone keep what was saved.
- `messages` GET (token) `?after=<id>&wait=<seconds>` long-poll → {"messages": [{"id",
  "from": "visitor"|"clinic", "text", "author", "at", "attachments"*: [{"kind", "name",
  "url"}]}], "cursor"}; messages of the last 30 s come again (drop the ids you have).
  POST (token) {"text", "client_id"} → 201 {"message": {...}}.
- `file`*    GET `?f=<signed>`: the `url` of an attachment, absolute, valid for
  WEBCHAT_FILE_URL_SECONDS and only for the visitor it was given to (usable in <img src>;
  when the request carries an X-Visitor-Token it must be that visitor's) → the file; 403 for a
  bad, expired or foreign link.
"""

import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import is_ratelimited

from clinic import clock
from inbox.channels.base import InboundMessage, Sender
from inbox.channels.webchat import visitor_external_id, visitor_token_new
from inbox.models import Channel, ChannelKind, ContactIdentity, Direction, Message, MessageKind
from inbox.services.inbound import inbound_events_store, webchat_messages_seen
from inbox.services.live import contact_version
from inbox.services.widget import (
    ProfileInvalid,
    answer_status,
    webchat_profile_save,
    widget_settings,
)

logger = logging.getLogger(__name__)
TOKEN_HEADER = "X-Visitor-Token"
RECENT_AGAIN = timedelta(seconds=30)
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT = 4000
HIDDEN = (MessageKind.NOTE, MessageKind.SYSTEM)
# The long-poll reads the visitor's version from the cache this often; the database only when
# it moved (or every FALLBACK seconds while the cache cannot be read), and once at the end.
POLL_SECONDS = 0.2
FALLBACK_SECONDS = 1.0
FILE_SALT = "inbox.webchat.file"
INLINE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def client_address(group: str, request: HttpRequest) -> str:
    """The visitor's address: behind N trusted proxies, the Nth address from the right of
    X-Forwarded-For (what the nearest proxy saw), else the socket's."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")
                 if a.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _limited(request: HttpRequest, group: str, rate: str, key: str | Callable) -> bool:
    try:
        return is_ratelimited(request, group=f"webchat-{group}", key=key, rate=rate,
                              increment=True)
    except Exception:  # noqa: BLE001 — a cache outage must not take the widget down: fail open
        logger.warning("rate limit check failed; allowing the request", exc_info=True)
        return False


def _visitor(request: HttpRequest, channel: Channel) -> ContactIdentity | None:
    token = request.headers.get(TOKEN_HEADER, "")
    if not token:
        return None
    visitor = ContactIdentity.objects.filter(channel=channel,
                                             external_id=visitor_external_id(token)).first()
    if visitor is not None:
        visitor.channel = channel
    return visitor


def _language(request: HttpRequest) -> str:
    """The visitor's language for texts we write: ?lang=, else the site's default."""
    lang = request.GET.get("lang", "")
    return lang if lang in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _file_url(request: HttpRequest, visitor: ContactIdentity, message: Message,
              index: int) -> str:
    """An absolute link to one attachment (the widget runs on the clinic's site), signed for
    this visitor."""
    token = signing.dumps({"c": visitor.pk, "m": message.pk, "i": index}, salt=FILE_SALT,
                          compress=True)
    path = reverse("hook-webchat", args=[visitor.channel.key, "file"])
    return request.build_absolute_uri(f"{path}?{urlencode({'f': token})}")


def _public(message: Message, request: HttpRequest, visitor: ContactIdentity) -> dict[str, Any]:
    """A message of the visitor's own conversation as the widget sees it."""
    author = message.author.first_name if message.author_id and message.author else ""
    attachments = [{"kind": item.get("kind", "document"), "name": item.get("name") or "",
                    "url": _file_url(request, visitor, message, index)}
                   for index, item in enumerate(message.attachments or []) if item.get("file")]
    return {"id": message.pk, "from": "visitor" if message.direction == Direction.IN else "clinic",
            "text": message.body, "author": author, "at": message.created_at.isoformat(),
            "attachments": attachments}


def _session(request: HttpRequest, channel: Channel) -> HttpResponse:
    if request.method != "POST":
        return _json({"error": "POST only"}, 405)
    visitor = _visitor(request, channel)
    if visitor is not None:  # a returning visitor keeps their conversation
        return _json({"token": request.headers[TOKEN_HEADER], "returning": True})
    if _limited(request, "session", settings.WEBCHAT_SESSION_RATE, client_address):
        return _json({"error": "too many new sessions from this address"}, 429)
    token = visitor_token_new()
    ContactIdentity.objects.create(clinic_id=channel.clinic_id, channel=channel,
                                   external_id=visitor_external_id(token))
    return _json({"token": token, "returning": False}, 201)


def _config(request: HttpRequest, channel: Channel) -> HttpResponse:
    if request.method != "GET":
        return _json({"error": "GET only"}, 405)
    widget = widget_settings(channel=channel)
    with translation.override(_language(request)):
        status = answer_status(clinic=channel.clinic, now=clock.now())
    return _json({
        "greeting": widget.greeting,
        "form": {"enabled": widget.form_enabled, "fields": list(widget.form_fields),
                 "required": list(widget.form_required), "consent_text": widget.consent_text},
        "invites": [asdict(invite) for invite in widget.invites],
        "appearance": {"color": widget.color, "position": widget.position},
        "status": {"online": status.online, "open": status.open,
                   "answer_at": status.answer_at.isoformat() if status.answer_at else None,
                   "answer_text": status.answer_text,
                   "expected_wait_minutes": status.expected_wait_minutes},
    })


def _profile(request: HttpRequest, visitor: ContactIdentity) -> HttpResponse:
    if request.method != "POST":
        return _json({"error": "POST only"}, 405)
    try:
        data = json.loads(request.body)
        name, phone = data.get("name") or "", data.get("phone") or ""
        consent = data.get("consent", False)
    except (ValueError, AttributeError):
        return _json({"error": "expected a JSON object"}, 400)
    if not (isinstance(name, str) and isinstance(phone, str) and isinstance(consent, bool)):
        return _json({"error": "name and phone are strings, consent is true or false"}, 400)
    with translation.override(_language(request)):
        try:
            visitor = webchat_profile_save(contact=visitor, name=name, phone=phone,
                                           consent=consent, now=clock.now())
        except ProfileInvalid as invalid:
            return _json({"error": invalid.message, "field": invalid.field}, 400)
    return _json({"profile": {"name": visitor.display_name, "phone": visitor.phone,
                              "consent": visitor.consent_at is not None}})


def _send(request: HttpRequest, channel: Channel, visitor: ContactIdentity) -> HttpResponse:
    try:
        data = json.loads(request.body)
        text = str(data.get("text", "")).strip()
        client_id = str(data.get("client_id", ""))
    except (ValueError, AttributeError):
        return _json({"error": "expected a JSON object"}, 400)
    if not text or len(text) > MAX_TEXT:
        return _json({"error": f"text must be 1 to {MAX_TEXT} characters"}, 400)
    if client_id and not CLIENT_ID.match(client_id):
        return _json({"error": "client_id must be 1-64 letters, digits, - or _"}, 400)
    now = clock.now()
    # The widget retries with the same client_id: stored once.
    provider_id = f"{visitor.pk}:{client_id or now.timestamp()}"
    inbound_events_store(channel=channel, now=now, events=[InboundMessage(
        sender=Sender(external_id=visitor.external_id), provider_message_id=provider_id,
        sent_at=now, text=text)])
    message = Message.objects.get(channel=channel, provider_message_id=provider_id)
    return _json({"message": _public(message, request, visitor)}, 201)


def _wait(visitor: ContactIdentity, news: QuerySet[Message], deadline: float) -> None:
    """Until there is news or the deadline: the visitor's version is read from the cache every
    POLL_SECONDS, and a move ends the wait. It is read before the first look at the database,
    so nothing committed in between is missed. While the cache cannot be read, the database is
    asked every FALLBACK_SECONDS instead."""
    seen = contact_version(visitor.pk)
    if news.exists():
        return
    _release_connection()
    asked = time.monotonic()
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(POLL_SECONDS, left))
        version = contact_version(visitor.pk)
        if version is not None and seen is not None:
            if version != seen:
                return
            continue
        if time.monotonic() - asked >= FALLBACK_SECONDS:
            found = news.exists()
            _release_connection()
            if found:
                return
            asked = time.monotonic()
        seen = version


def _release_connection() -> None:
    """A waiting widget must not hold one of the database's connections for its 20 seconds
    (200 open widgets would take them all): it watches the cache, and the final read opens a
    connection again."""
    if not connection.in_atomic_block:
        connection.close()


def _fetch(request: HttpRequest, channel: Channel, visitor: ContactIdentity) -> HttpResponse:
    try:
        after = int(request.GET.get("after", 0))
        wait = float(request.GET.get("wait", 0))
    except ValueError:
        return _json({"error": "after and wait must be numbers"}, 400)
    if not math.isfinite(wait):
        return _json({"error": "wait must be a number of seconds"}, 400)
    deadline = time.monotonic() + min(max(wait, 0), settings.WEBCHAT_LONGPOLL_SECONDS)
    visible = (Message.objects.filter(conversation__contact=visitor).exclude(kind__in=HIDDEN)
               .select_related("author").order_by("pk"))
    if deadline > time.monotonic():
        _wait(visitor, visible.filter(pk__gt=after), deadline)
    # Ids are handed out before commit, so a reply can become visible below the cursor:
    # recent messages come again, and the widget drops the ids it has.
    recent = clock.now() - RECENT_AGAIN
    found = list(visible.filter(Q(pk__gt=after) | Q(created_at__gte=recent))[:100])
    webchat_messages_seen(messages=found)
    return _json({"messages": [_public(m, request, visitor) for m in found],
                  "cursor": max([after, *(m.pk for m in found)])})


def _file(request: HttpRequest, channel: Channel) -> HttpResponse:
    if request.method != "GET":
        return _json({"error": "GET only"}, 405)
    try:
        ref = signing.loads(request.GET.get("f", ""), salt=FILE_SALT,
                            max_age=settings.WEBCHAT_FILE_URL_SECONDS)
        contact_id, message_id, index = int(ref["c"]), int(ref["m"]), int(ref["i"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return _json({"error": "this link is not valid or has expired"}, 403)
    if request.headers.get(TOKEN_HEADER):
        visitor = _visitor(request, channel)
        if visitor is None or visitor.pk != contact_id:
            return _json({"error": "this file belongs to another visitor"}, 403)
    message = (Message.objects.filter(pk=message_id, channel=channel,
                                      conversation__contact_id=contact_id)
               .exclude(kind__in=HIDDEN).first())
    items = message.attachments if message is not None else []
    item = items[index] if 0 <= index < len(items) else {}
    if not item.get("file") or not default_storage.exists(item["file"]):
        return _json({"error": "no such file"}, 404)
    mime = item.get("mime") or "application/octet-stream"
    inline = mime in INLINE_TYPES
    response = FileResponse(default_storage.open(item["file"]), as_attachment=not inline,
                            filename=item.get("name") or "file",
                            content_type=mime if inline else "application/octet-stream")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = f"Content-Type, {TOKEN_HEADER}"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def _origin_allowed(request: HttpRequest, channel: Channel, origin: str) -> bool:
    """The channel's websites, and this site itself (the demo page, an owner's preview)."""
    return origin in channel.allowed_origins or origin == f"{request.scheme}://{request.get_host()}"


ACTIONS = ("session", "config", "profile", "messages", "file")


@csrf_exempt
def api(request: HttpRequest, key: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        return _json({"error": "unknown action"}, 404)
    channel = (Channel.objects.select_related("clinic")
               .filter(key=key, kind=ChannelKind.WEBCHAT, is_active=True).first())
    if channel is None:
        return _json({"error": "unknown channel"}, 404)
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_allowed(request, channel, origin):
        return _json({"error": "origin not allowed"}, 403)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    if _limited(request, "ip", settings.WEBCHAT_IP_RATE, client_address):
        return _cors(_json({"error": "too many requests"}, 429), origin)
    if action == "session":
        return _cors(_session(request, channel), origin)
    if action == "config":
        return _cors(_config(request, channel), origin)
    if action == "file":
        return _cors(_file(request, channel), origin)
    visitor = _visitor(request, channel)
    if visitor is None:
        return _cors(_json({"error": "unknown or missing visitor token"}, 401), origin)
    if action == "profile":
        return _cors(_profile(request, visitor), origin)
    if request.method == "POST":
        if _limited(request, "send", settings.WEBCHAT_SEND_RATE,
                    lambda group, request: visitor.external_id):
            return _cors(_json({"error": "too many messages, wait a minute"}, 429), origin)
        return _cors(_send(request, channel, visitor), origin)
    if request.method == "GET":
        return _cors(_fetch(request, channel, visitor), origin)
    return _cors(_json({"error": "method not allowed"}, 405), origin)
