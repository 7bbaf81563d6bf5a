"""The website chat's JSON API for the widget: sessions, sending, and fetching after a cursor.

Visitors authenticate with the token the server issued (header X-Visitor-Token). Browsers may
call it only from the channel's allowed origins (CORS); every call is rate-limited per visitor
and per address.
"""

import json
import logging
import math
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import is_ratelimited

from clinic import clock
from inbox.channels.base import InboundMessage, Sender
from inbox.channels.webchat import visitor_external_id, visitor_token_new
from inbox.models import Channel, ChannelKind, ContactIdentity, Direction, Message, MessageKind
from inbox.services.inbound import inbound_events_store, webchat_messages_seen

logger = logging.getLogger(__name__)
TOKEN_HEADER = "X-Visitor-Token"
RECENT_AGAIN = timedelta(seconds=30)
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT = 4000


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
    return ContactIdentity.objects.filter(channel=channel,
                                          external_id=visitor_external_id(token)).first()


def _public(message: Message) -> dict[str, Any]:
    author = message.author.first_name if message.author_id and message.author else ""
    return {"id": message.pk, "from": "visitor" if message.direction == Direction.IN else "clinic",
            "text": message.body, "author": author, "at": message.created_at.isoformat()}


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
    return _json({"message": _public(message)}, 201)


def _fetch(request: HttpRequest, channel: Channel, visitor: ContactIdentity) -> HttpResponse:
    try:
        after = int(request.GET.get("after", 0))
        wait = float(request.GET.get("wait", 0))
    except ValueError:
        return _json({"error": "after and wait must be numbers"}, 400)
    if not math.isfinite(wait):
        return _json({"error": "wait must be a number of seconds"}, 400)
    deadline = time.monotonic() + min(max(wait, 0), settings.WEBCHAT_LONGPOLL_SECONDS)
    visible = (Message.objects.filter(conversation__contact=visitor)
               .exclude(kind__in=[MessageKind.NOTE, MessageKind.SYSTEM])
               .select_related("author").order_by("pk"))
    while not visible.filter(pk__gt=after).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    # Ids are handed out before commit, so a reply can become visible below the cursor:
    # recent messages come again, and the widget drops the ids it has.
    recent = clock.now() - RECENT_AGAIN
    found = list(visible.filter(Q(pk__gt=after) | Q(created_at__gte=recent))[:100])
    webchat_messages_seen(messages=found)
    return _json({"messages": [_public(m) for m in found],
                  "cursor": max([after, *(m.pk for m in found)])})


def _cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = f"Content-Type, {TOKEN_HEADER}"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


@csrf_exempt
def api(request: HttpRequest, key: str, action: str) -> HttpResponse:
    if action not in ("session", "messages"):
        return _json({"error": "unknown action"}, 404)
    channel = Channel.objects.filter(key=key, kind=ChannelKind.WEBCHAT, is_active=True).first()
    if channel is None:
        return _json({"error": "unknown channel"}, 404)
    origin = request.headers.get("Origin")
    if origin is not None and origin not in channel.allowed_origins:
        return _json({"error": "origin not allowed"}, 403)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    if _limited(request, "ip", settings.WEBCHAT_IP_RATE, client_address):
        return _cors(_json({"error": "too many requests"}, 429), origin)
    if action == "session":
        return _cors(_session(request, channel), origin)
    visitor = _visitor(request, channel)
    if visitor is None:
        return _cors(_json({"error": "unknown or missing visitor token"}, 401), origin)
    if request.method == "POST":
        if _limited(request, "send", settings.WEBCHAT_SEND_RATE,
                    lambda group, request: visitor.external_id):
            return _cors(_json({"error": "too many messages, wait a minute"}, 429), origin)
        return _cors(_send(request, channel, visitor), origin)
    if request.method == "GET":
        return _cors(_fetch(request, channel, visitor), origin)
    return _cors(_json({"error": "method not allowed"}, 405), origin)
