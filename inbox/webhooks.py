"""Provider webhooks: authenticate, parse, store in one transaction, then answer.

No provider call happens here; follow-up work is queued after commit.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from clinic import clock
from inbox.channels import adapter_for
from inbox.channels.base import PayloadError
from inbox.channels.whatsapp import WhatsAppAdapter
from inbox.models import Channel, ChannelKind
from inbox.services.inbound import inbound_events_store

logger = logging.getLogger(__name__)


def _error(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": reason}, status=status)


def _active_channel(key: str, kind: str) -> Channel | None:
    try:
        return Channel.objects.get(key=key, kind=kind, is_active=True)
    except Channel.DoesNotExist:
        return None


def _receive(request: HttpRequest, key: str, kind: str) -> HttpResponse:
    channel = _active_channel(key, kind)
    if channel is None:
        return _error(404, "unknown channel")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > settings.WEBHOOK_MAX_BYTES:
        logger.warning("%s webhook %s: body too large (%s bytes)", kind, key, declared)
        return _error(413, "body too large")
    body = request.body
    if len(body) > settings.WEBHOOK_MAX_BYTES:  # sent chunked, without a length
        return _error(413, "body too large")
    adapter = adapter_for(kind)
    if not adapter.verify(channel, request.headers, body):
        logger.warning("%s webhook %s: bad secret or signature from %s", kind, key,
                       request.META.get("REMOTE_ADDR"))
        return _error(403, "forbidden")
    if request.content_type != "application/json":
        logger.warning("%s webhook %s: content type %s", kind, key, request.content_type)
        return _error(415, "expected application/json")
    try:
        events = adapter.parse(channel, body)
    except PayloadError as error:
        logger.warning("%s webhook %s: rejected payload: %s", kind, key, error)
        return _error(400, str(error))
    result = inbound_events_store(channel=channel, events=events, now=clock.now())
    return JsonResponse({"ok": True, "stored": result.stored, "duplicates": result.duplicates,
                         "statuses": result.statuses})


@csrf_exempt
@require_POST
def telegram(request: HttpRequest, key: str) -> HttpResponse:
    return _receive(request, key, ChannelKind.TELEGRAM)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp(request: HttpRequest, key: str) -> HttpResponse:
    if request.method == "POST":
        return _receive(request, key, ChannelKind.WHATSAPP)
    channel = _active_channel(key, ChannelKind.WHATSAPP)
    challenge = None
    if channel is not None:
        challenge = WhatsAppAdapter().verify_handshake(channel, request.GET)
    if challenge is None:
        return HttpResponse("forbidden", status=403, content_type="text/plain")
    return HttpResponse(challenge, content_type="text/plain")

