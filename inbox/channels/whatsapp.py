"""WhatsApp Cloud API: signed webhooks in (batched), Graph API sends out. Plain HTTP with httpx."""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from inbox.channels.base import (
    Attachment,
    ButtonPress,
    ChannelError,
    Event,
    InboundMessage,
    Media,
    Outbound,
    PayloadError,
    Sender,
    StatusUpdate,
    download,
    http_client,
    network_error,
    too_large,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"

# Graph error codes that retrying cannot fix, with what the administrator is told.
PERMANENT_ERRORS = {
    131047: _("Outside WhatsApp's 24-hour window — a template is needed"),
    470: _("Outside WhatsApp's 24-hour window — a template is needed"),
    131026: _("WhatsApp cannot deliver to this number"),
    131048: _("WhatsApp's spam limit: the number sent too many messages that were blocked"),
    131049: _("WhatsApp limits marketing messages to this patient; try later"),
    131051: _("This message type is not supported by WhatsApp"),
    132000: _("The template's parameters do not match the approved template"),
    132001: _("The template does not exist or is not approved"),
    100: _("WhatsApp refused the message as invalid"),
    190: _("The WhatsApp access token is invalid or expired"),
    10: _("The WhatsApp app lacks permission to send"),
}
# Throughput limits and outages: retry with backoff.
TEMPORARY_ERRORS = {4, 80007, 130429, 131000, 131016, 131056, 133004}


def _time(unix: Any) -> datetime:
    return datetime.fromtimestamp(int(unix), UTC)


def _attachment(kind: str, item: dict[str, Any]) -> Attachment:
    return Attachment(kind, item["id"], item.get("mime_type", ""), item.get("file_size"),
                      item.get("filename", ""))


class WhatsAppAdapter:
    kind = "whatsapp"

    def verify(self, channel: Any, headers: Any, body: bytes) -> bool:
        given = headers.get(SIGNATURE_HEADER, "")
        if not channel.app_secret or not given.startswith("sha256="):
            return False
        expected = hmac.new(channel.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.removeprefix("sha256=").lower().encode(),
                                   expected.encode())

    def verify_handshake(self, channel: Any, params: Any) -> str | None:
        """The challenge to echo when Meta's subscription request carries our verify token."""
        token = params.get("hub.verify_token", "")
        if (params.get("hub.mode") == "subscribe" and channel.verify_token
                and hmac.compare_digest(token.encode(), channel.verify_token.encode())):
            return params.get("hub.challenge", "")
        return None

    def parse(self, channel: Any, body: bytes) -> list[Event]:
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise PayloadError("body is not JSON") from error
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            raise PayloadError("not a WhatsApp Business Account webhook")
        events: list[Event] = []
        try:
            for entry in payload["entry"]:
                for change in entry.get("changes", []):
                    if change.get("field") != "messages":
                        continue  # account updates, template status, …
                    value = change["value"]
                    number_id = value["metadata"]["phone_number_id"]
                    if channel.phone_number_id and number_id != channel.phone_number_id:
                        continue  # another number of the same app
                    events += self._value(value)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise PayloadError(f"malformed WhatsApp webhook: {error!r}") from error
        return events

    def _value(self, value: dict[str, Any]) -> list[Event]:
        profiles = {}
        for contact in value.get("contacts", []):
            key = contact.get("wa_id") or contact.get("user_id")
            profiles[key] = contact
        events: list[Event] = []
        for message in value.get("messages", []):
            event = self._message(message, profiles)
            if event is not None:
                events.append(event)
        for status in value.get("statuses", []):
            error = (status.get("errors") or [{}])[0]
            details = (error.get("error_data") or {}).get("details", "")
            events.append(StatusUpdate(
                provider_message_id=status["id"], status=status["status"],
                at=_time(status["timestamp"]), error_code=str(error.get("code", "")),
                error_text=str(PERMANENT_ERRORS.get(error.get("code"), ""))
                or " — ".join(p for p in (error.get("title", ""), details) if p)))
        return events

    def _message(self, message: dict[str, Any], profiles: dict[str, Any]) -> Event | None:
        wa_id = message.get("from", "")
        profile = profiles.get(wa_id) or profiles.get(message.get("from_user_id")) or {}
        bsuid = profile.get("user_id") or message.get("from_user_id", "")
        if not wa_id and not bsuid:
            raise ValueError("message without a sender")
        sender = Sender(external_id=wa_id or f"bsuid:{bsuid}",
                        display_name=(profile.get("profile") or {}).get("name", ""),
                        phone=wa_id, bsuid=bsuid)
        kind, sent_at, wamid = message["type"], _time(message["timestamp"]), message["id"]
        common = {"sender": sender, "provider_message_id": wamid, "sent_at": sent_at}
        context = (message.get("context") or {}).get("id", "")
        if kind == "text":
            return InboundMessage(text=message["text"]["body"], **common)
        if kind in ("image", "document", "audio", "voice", "video", "sticker"):
            item = message[kind]
            stored = {"voice": "audio", "video": "document", "sticker": "image"}.get(kind, kind)
            return InboundMessage(kind=stored, text=item.get("caption", ""),
                                  attachments=(_attachment(stored, item),), **common)
        if kind == "button":  # a template's quick reply
            button = message["button"]
            return ButtonPress(data=button.get("payload", ""), title=button.get("text", ""),
                               replied_to=context, **common)
        if kind == "interactive":
            interactive = message["interactive"]
            reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
            return ButtonPress(data=reply.get("id", ""), title=reply.get("title", ""),
                               replied_to=context, **common)
        if kind == "contacts":
            shared = message["contacts"][0]
            phones = shared.get("phones") or [{}]
            name = (shared.get("name") or {}).get("formatted_name", "")
            phone = phones[0].get("phone", "")
            return InboundMessage(kind="contact", text=f"{name} {phone}".strip(),
                                  contact_phone=phone,
                                  contact_is_senders_own=bool(wa_id)
                                  and phones[0].get("wa_id") == wa_id, **common)
        if kind == "location":
            location = message["location"]
            return InboundMessage(
                text=f"📍 {location['latitude']:.5f}, {location['longitude']:.5f}", **common)
        if kind == "reaction":
            return None
        return InboundMessage(text=f"[{kind}]", **common)

    # --- sending ---------------------------------------------------------------------------

    def send(self, channel: Any, outbound: Outbound) -> str:
        payload: dict[str, Any] = {"messaging_product": "whatsapp",
                                   "recipient_type": "individual", "to": outbound.to}
        if outbound.template:
            template = outbound.template
            payload["type"] = "template"
            payload["template"] = {
                "name": template["name"], "language": {"code": template.get("language", "ru")}}
            if template.get("params"):
                payload["template"]["components"] = [{"type": "body", "parameters": [
                    {"type": "text", "text": str(p)} for p in template["params"]]}]
        elif outbound.file is not None:
            kind = "image" if outbound.file_kind == "image" else "document"
            media: dict[str, Any] = {"id": self._upload(channel, outbound)}
            if outbound.text:
                media["caption"] = outbound.text[:1024]
            if kind == "document":
                media["filename"] = outbound.file.name or "document"
            payload["type"] = kind
            payload[kind] = media
        elif outbound.buttons:
            payload["type"] = "interactive"
            payload["interactive"] = {
                "type": "button", "body": {"text": outbound.text[:1024]},
                "action": {"buttons": [{"type": "reply", "reply": {"id": i, "title": t[:20]}}
                                       for i, t in outbound.buttons[:3]]}}
        else:
            payload["type"] = "text"
            payload["text"] = {"body": outbound.text, "preview_url": False}
        data = self._graph(channel, "POST", f"{channel.phone_number_id}/messages", json=payload)
        try:
            return str(data["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as error:
            # Accepted or not, we cannot tell: failing beats risking a second copy.
            raise ChannelError(_("WhatsApp answered without a message id"), permanent=True,
                               code="no_id") from error

    def _graph(self, channel: Any, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One Graph API call with the channel's token; a non-200 answer raises ChannelError."""
        url = f"{settings.WHATSAPP_API_BASE}/{settings.WHATSAPP_API_VERSION}/{path}"
        try:
            with http_client() as client:
                response = client.request(
                    method, url, headers={"Authorization": f"Bearer {channel.access_token}"},
                    **kwargs)
        except httpx.HTTPError as error:
            raise network_error("WhatsApp", error) from error
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200 or not isinstance(data, dict):
            raise self._error(response.status_code, (data or {}).get("error") or {})
        return data

    def _upload(self, channel: Any, outbound: Outbound) -> str:
        """Upload the file to WhatsApp; the message then refers to its media id."""
        file = outbound.file
        data = self._graph(channel, "POST", f"{channel.phone_number_id}/media",
                           data={"messaging_product": "whatsapp", "type": file.mime},
                           files={"file": (file.name or "file", file.content, file.mime)})
        if not data.get("id"):
            raise ChannelError(_("WhatsApp answered without a media id"), permanent=False,
                               code="no_id")
        return str(data["id"])

    def _error(self, status: int, error: dict[str, Any]) -> ChannelError:
        code = error.get("code")
        details = (error.get("error_data") or {}).get("details") or error.get("message") or ""
        if code in PERMANENT_ERRORS:
            return ChannelError(str(PERMANENT_ERRORS[code]), permanent=True, code=str(code))
        if code in TEMPORARY_ERRORS or status >= 500 or status == 429:
            retry_after = 6.0 if code == 131056 else None  # one message per 6 s to a user
            return ChannelError(_("WhatsApp is busy: %(d)s") % {"d": details or status},
                                permanent=False,
                                code=str(code or status), retry_after=retry_after)
        return ChannelError(_("WhatsApp refused the message: %(d)s") % {"d": details or status},
                            permanent=True, code=str(code or status))

    def answer_button(self, channel: Any, callback_id: str) -> None:
        """WhatsApp button replies need no acknowledgement."""

    def fetch_media(self, channel: Any, provider_ref: str, max_bytes: int) -> Media:
        """Look the media id up (a short-lived URL), then download it with the same token."""
        info = self._graph(channel, "GET", provider_ref)
        if int(info.get("file_size") or 0) > max_bytes:
            raise ChannelError(too_large(max_bytes), permanent=True, code="too_large")
        with http_client() as client:
            content = download(client, info["url"], max_bytes=max_bytes, provider="WhatsApp",
                               headers={"Authorization": f"Bearer {channel.access_token}"})
        return Media(content, info.get("mime_type", ""))
