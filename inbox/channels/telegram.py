"""Telegram Bot API: webhook updates in, sendMessage out. Plain HTTP with httpx."""

import hmac
import json
import mimetypes
from datetime import UTC, datetime
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from inbox.channels.base import (
    Attachment,
    ButtonPress,
    ChannelError,
    Event,
    InboundEdit,
    InboundMessage,
    Media,
    Outbound,
    PayloadError,
    Sender,
    download,
    http_client,
    network_error,
    too_large,
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096
MAX_CAPTION = 1024


def _time(unix: Any) -> datetime:
    return datetime.fromtimestamp(int(unix), UTC)


def _sender(user: dict[str, Any], chat: dict[str, Any]) -> Sender:
    name = " ".join(p for p in (user.get("first_name", ""), user.get("last_name", "")) if p)
    return Sender(external_id=str(chat["id"]), display_name=name,
                  username=user.get("username", ""))


def _content(message: dict[str, Any]) -> dict[str, Any]:
    """kind, text and attachments of a message; unknown content becomes a readable marker."""
    text = message.get("text") or message.get("caption") or ""
    if "photo" in message:
        largest = message["photo"][-1]
        return {"kind": "image", "text": text, "attachments": (Attachment(
            "image", largest["file_id"], "image/jpeg", largest.get("file_size")),)}
    for key, kind in (("document", "document"), ("video", "document"), ("voice", "audio"),
                      ("audio", "audio"), ("video_note", "document")):
        if key in message:
            item = message[key]
            return {"kind": kind, "text": text, "attachments": (Attachment(
                kind, item["file_id"], item.get("mime_type", ""), item.get("file_size"),
                item.get("file_name", "")),)}
    if "sticker" in message:
        return {"kind": "text", "text": message["sticker"].get("emoji", "") or "[sticker]"}
    if "location" in message:
        location = message["location"]
        return {"kind": "text",
                "text": f"📍 {location['latitude']:.5f}, {location['longitude']:.5f}"}
    return {"kind": "text", "text": text}


class TelegramAdapter:
    kind = "telegram"

    def verify(self, channel: Any, headers: Any, body: bytes) -> bool:
        given = headers.get(SECRET_HEADER, "")
        return bool(channel.webhook_secret) and hmac.compare_digest(
            given.encode(), channel.webhook_secret.encode())

    def parse(self, channel: Any, body: bytes) -> list[Event]:
        try:
            update = json.loads(body)
        except ValueError as error:
            raise PayloadError("body is not JSON") from error
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise PayloadError("not a Telegram update: no update_id")
        try:
            if "message" in update:
                return self._message(update["message"])
            if "edited_message" in update:
                return self._edit(update["edited_message"])
            if "callback_query" in update:
                return self._button(update["callback_query"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise PayloadError(f"malformed Telegram update: {error!r}") from error
        return []  # a known kind we do not handle (channel posts, polls, …)

    def _message(self, message: dict[str, Any]) -> list[Event]:
        chat = message["chat"]
        if chat.get("type") != "private":
            return []
        sender = _sender(message["from"], chat)
        provider_id = f"{chat['id']}:{int(message['message_id'])}"
        if "contact" in message:
            contact = message["contact"]
            own = contact.get("user_id") is not None and contact["user_id"] == message["from"]["id"]
            name = " ".join(p for p in (contact.get("first_name", ""),
                                        contact.get("last_name", "")) if p)
            return [InboundMessage(
                sender=sender, provider_message_id=provider_id, sent_at=_time(message["date"]),
                kind="contact", text=f"{name} {contact['phone_number']}".strip(),
                contact_phone=contact["phone_number"], contact_is_senders_own=own)]
        return [InboundMessage(sender=sender, provider_message_id=provider_id,
                               sent_at=_time(message["date"]), **_content(message))]

    def _edit(self, message: dict[str, Any]) -> list[Event]:
        chat = message["chat"]
        if chat.get("type") != "private":
            return []
        return [InboundEdit(
            sender=_sender(message["from"], chat),
            provider_message_id=f"{chat['id']}:{int(message['message_id'])}",
            text=message.get("text") or message.get("caption") or "",
            sent_at=_time(message["date"]),
            edited_at=_time(message.get("edit_date", message["date"])))]

    def _button(self, query: dict[str, Any]) -> list[Event]:
        ours = query.get("message") or {}
        chat = ours.get("chat") or {"id": query["from"]["id"]}
        replied_to = f"{chat['id']}:{ours['message_id']}" if "message_id" in ours else ""
        title = ""
        for row in (ours.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("callback_data") == query.get("data"):
                    title = button.get("text", "")
        return [ButtonPress(
            sender=_sender(query["from"], chat), provider_message_id=f"cbq:{query['id']}",
            data=str(query.get("data", ""))[:64], title=title,
            callback_id=str(query["id"]), replied_to=replied_to)]

    # --- sending ---------------------------------------------------------------------------

    def _call(self, channel: Any, method: str, payload: dict[str, Any],
              files: dict[str, tuple[str, bytes, str]] | None = None) -> Any:
        url = f"{settings.TELEGRAM_API_BASE}/bot{channel.bot_token}/{method}"
        try:
            with http_client() as client:
                if files:  # multipart: the other fields as form values, markup as JSON
                    data = {k: v if isinstance(v, str | int) else json.dumps(v)
                            for k, v in payload.items()}
                    response = client.post(url, data=data, files=files)
                else:
                    response = client.post(url, json=payload)
        except httpx.HTTPError as error:
            raise network_error("Telegram", error) from error
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code == 200 and data.get("ok"):
            return data["result"]
        raise self._error(response.status_code, data)

    def _error(self, status: int, data: dict[str, Any]) -> ChannelError:
        description = str(data.get("description") or f"HTTP {status}")
        code = str(data.get("error_code") or status)
        lowered = description.lower()
        if status == 429:
            retry_after = (data.get("parameters") or {}).get("retry_after", 1)
            return ChannelError(_("Telegram rate limit: retry after %(s)s s") % {"s": retry_after},
                                permanent=False, code=code, retry_after=float(retry_after))
        if status >= 500:
            return ChannelError(_("Telegram error: %(d)s") % {"d": description}, permanent=False,
                                code=code)
        if "blocked by the user" in lowered:
            reason = _("The patient blocked the bot")
        elif "can't initiate" in lowered or "bot can't initiate" in lowered:
            reason = _("The patient has not written to the bot yet; a bot cannot write first")
        elif "chat not found" in lowered:
            reason = _("Telegram chat not found")
        elif "user is deactivated" in lowered:
            reason = _("The patient's Telegram account is deleted")
        elif status in (401, 404):
            reason = _("The bot token is invalid")
        else:
            reason = _("Telegram refused the message: %(d)s") % {"d": description}
        return ChannelError(reason, permanent=True, code=code)

    def send(self, channel: Any, outbound: Outbound) -> str:
        if len(outbound.text) > MAX_TEXT:
            raise ChannelError(_("Telegram messages are limited to %(n)s characters.")
                               % {"n": MAX_TEXT},
                               permanent=True, code="too_long")
        payload: dict[str, Any] = {"chat_id": int(outbound.to)}
        if outbound.buttons:
            payload["reply_markup"] = {"inline_keyboard": [
                [{"text": title, "callback_data": button_id}]
                for button_id, title in outbound.buttons]}
        if outbound.file is not None:
            field = "photo" if outbound.file_kind == "image" else "document"
            if outbound.text:
                payload["caption"] = outbound.text[:MAX_CAPTION]
            result = self._call(
                channel, "sendPhoto" if field == "photo" else "sendDocument", payload,
                files={field: (outbound.file.name or field, outbound.file.content,
                               outbound.file.mime)})
        else:
            payload["text"] = outbound.text
            result = self._call(channel, "sendMessage", payload)
        return f"{result['chat']['id']}:{result['message_id']}"

    def answer_button(self, channel: Any, callback_id: str) -> None:
        self._call(channel, "answerCallbackQuery", {"callback_query_id": callback_id})

    def register_webhook(self, channel: Any, url: str) -> None:
        self._call(channel, "setWebhook", {
            "url": url, "secret_token": channel.webhook_secret,
            "allowed_updates": ["message", "edited_message", "callback_query"]})

    def fetch_media(self, channel: Any, provider_ref: str, max_bytes: int) -> Media:
        info = self._call(channel, "getFile", {"file_id": provider_ref})
        if (info.get("file_size") or 0) > max_bytes:
            raise ChannelError(too_large(max_bytes), permanent=True, code="too_large")
        path = info["file_path"]
        with http_client() as client:
            content = download(client, f"{settings.TELEGRAM_API_BASE}/file/bot"
                               f"{channel.bot_token}/{path}", max_bytes=max_bytes,
                               provider="Telegram")
        return Media(content, mimetypes.guess_type(path)[0] or "", path.rsplit("/", 1)[-1])
