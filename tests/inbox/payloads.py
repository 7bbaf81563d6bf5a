"""Webhook bodies shaped like the providers' real ones (Bot API Update, Graph webhook)."""

import hashlib
import hmac
import json
from typing import Any

CHAT_ID = 5_123_456_789  # over 32 bits, as real user ids can be


def tg_user(user_id: int = CHAT_ID) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Мария", "last_name": "Иванова",
            "username": "maria_iv", "language_code": "ru"}


def tg_chat(chat_id: int = CHAT_ID) -> dict[str, Any]:
    return {"id": chat_id, "first_name": "Мария", "last_name": "Иванова", "username": "maria_iv",
            "type": "private"}


def tg_message(update_id: int = 10001, message_id: int = 42, text: str = "Здравствуйте!",
               chat_id: int = CHAT_ID, date: int = 1_795_000_000, **extra: Any) -> dict:
    message = {"message_id": message_id, "from": tg_user(chat_id), "chat": tg_chat(chat_id),
               "date": date}
    if text is not None:
        message["text"] = text
    message.update(extra)
    return {"update_id": update_id, "message": message}


def tg_photo(update_id: int = 10002, message_id: int = 43) -> dict:
    sizes = [
        {"file_id": "AgAD-small", "file_unique_id": "u1", "file_size": 1200, "width": 90,
         "height": 67},
        {"file_id": "AgAD-medium", "file_unique_id": "u2", "file_size": 15000, "width": 320,
         "height": 240},
        {"file_id": "AgAD-large", "file_unique_id": "u3", "file_size": 98000, "width": 1280,
         "height": 960},
    ]
    update = tg_message(update_id, message_id, text=None, photo=sizes,
                        caption="Вот снимок зуба")
    return update


def tg_edit(update_id: int, message_id: int, text: str, edit_date: int,
            date: int = 1_795_000_000) -> dict:
    message = tg_message(update_id, message_id, text, date=date)["message"]
    message["edit_date"] = edit_date
    return {"update_id": update_id, "edited_message": message}


def tg_contact(update_id: int = 10003, phone: str = "79161234567",
               user_id: int | None = CHAT_ID) -> dict:
    contact = {"phone_number": phone, "first_name": "Мария", "last_name": "Иванова"}
    if user_id is not None:
        contact["user_id"] = user_id
    return tg_message(update_id, 44, text=None, contact=contact)


def tg_callback(update_id: int = 10004, data: str = "appt:58213:confirm") -> dict:
    return {"update_id": update_id, "callback_query": {
        "id": "4382bfdwdsb323b2d9", "from": tg_user(), "chat_instance": "-7771",
        "data": data,
        "message": {"message_id": 77, "from": {"id": 1, "is_bot": True, "first_name": "Bot"},
                    "chat": tg_chat(), "date": 1_795_000_100,
                    "text": "Напоминаем о визите завтра в 15:30",
                    "reply_markup": {"inline_keyboard": [[
                        {"text": "✅ Подтверждаю", "callback_data": "appt:58213:confirm"},
                        {"text": "Отменить", "callback_data": "appt:58213:cancel"}]]}}}}


WA_PHONE_ID = "106540352242922"


def wa_envelope(*values: dict) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398",
        "changes": [{"field": "messages", "value": value} for value in values]}]}


def wa_value(messages: list | None = None, statuses: list | None = None,
             contacts: list | None = None) -> dict:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "74951234567", "phone_number_id": WA_PHONE_ID}}
    if contacts is not None:
        value["contacts"] = contacts
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return value


def wa_contact(wa_id: str = "79161234567", name: str = "Мария",
               user_id: str = "US.13491208655302741918") -> dict:
    return {"profile": {"name": name}, "wa_id": wa_id, "user_id": user_id}


def wa_text(wamid: str = "wamid.HBgLNzkxNjEyMzQ1NjcVAgASGBQzQUE",
            text: str = "Сколько стоит чистка?", wa_id: str = "79161234567",
            timestamp: str = "1795000000") -> dict:
    return {"from": wa_id, "id": wamid, "timestamp": timestamp, "type": "text",
            "text": {"body": text}}


def wa_status(wamid: str, status: str, timestamp: str = "1795000100",
              code: int | None = None) -> dict:
    item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": timestamp,
                            "recipient_id": "79161234567"}
    if status in ("sent", "delivered"):
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular",
                           "category": "utility"}
    if code is not None:
        item["errors"] = [{"code": code, "title": "Re-engagement message",
                           "message": "Re-engagement message",
                           "error_data": {"details": "Message failed to send because more than "
                                                     "24 hours have passed since the customer "
                                                     "last replied to this number."}}]
    return item


def body(payload: dict) -> bytes:
    # Meta escapes non-ASCII as \\uXXXX; the signature covers exactly these bytes.
    return json.dumps(payload).encode()


def wa_signature(raw: bytes, secret: str = "whatsapp-app-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
