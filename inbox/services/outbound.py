"""Sending to patients through an outbox: written first, delivered by Celery, retried, recorded.

The one window no provider API lets us close is between the provider accepting a message and
our recording its id: a worker killed there leaves the row "sending", and the sweep sends it
again after OUTBOX_STALE_SECONDS. Everything before the provider call is safe to repeat.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from inbox.channels import adapter_for
from inbox.channels.base import ChannelError, Media, Outbound
from inbox.channels.telegram import MAX_TEXT as TELEGRAM_MAX_TEXT
from inbox.models import (
    ChannelKind,
    Conversation,
    DeliveryStatus,
    Direction,
    EarlyStatus,
    Message,
    MessageKind,
)
from inbox.services.inbound import message_preview, status_apply
from inbox.services.live import contact_changed, inbox_changed
from inbox.services.media import SAFE_NAME
from inbox.services.timers import clinic_replied

logger = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)
EARLY_STATUS_KEPT = timedelta(days=2)
CAPTION_MAX = 1024  # Telegram's and WhatsApp's limit for a file's caption



class SendRefused(ValueError):
    """The message cannot be sent as asked; the reason is for the administrator."""


def whatsapp_window_open(*, conversation: Conversation, now: datetime) -> bool:
    last = conversation.last_patient_message_at
    return last is not None and now - last < WHATSAPP_WINDOW


def _template(conversation: Conversation, name: str, params: list[str]) -> dict:
    for template in conversation.channel.whatsapp_templates:
        if template.get("name") == name:
            return {"name": name, "language": template.get("language", "ru"),
                    "params": [str(p) for p in params]}
    raise SendRefused(_("“%(name)s” is not an approved template of this channel.")
                      % {"name": name})


def _file_store(conversation: Conversation, file: UploadedFile) -> dict:
    mime = (file.content_type or "").split(";")[0].lower()
    if mime not in settings.OUTBOUND_FILE_TYPES:
        raise SendRefused(_("Files of type %(mime)s cannot be sent.") % {"mime": mime or "?"})
    if file.size > settings.OUTBOUND_FILE_MAX_BYTES:
        raise SendRefused(_("The file is larger than %(mb)s MB.")
                          % {"mb": settings.OUTBOUND_FILE_MAX_BYTES // 2**20})
    name = SAFE_NAME.sub("_", file.name or "file")[-80:]
    path = default_storage.save(f"outbox/{conversation.clinic_id}/{uuid.uuid4().hex}-{name}", file)
    kind = MessageKind.IMAGE if mime in ("image/jpeg", "image/png") else MessageKind.DOCUMENT
    return {"kind": kind, "file": path, "mime": mime, "name": file.name or name,
            "size": file.size}


def message_send(*, conversation: Conversation, author: object | None, text: str = "",
                 buttons: list[tuple[str, str]] | None = None, template: str = "",
                 template_params: list[str] | None = None, file: UploadedFile | None = None,
                 kind: str = MessageKind.TEXT, automatic: str = "",
                 now: datetime) -> Message:
    """Write the message as queued and hand it to the delivery task once the row is committed."""
    text = text.strip()
    channel = conversation.channel
    payload: dict = {"automatic": automatic} if automatic else {}
    if buttons:
        payload["buttons"] = [[str(i), str(t)] for i, t in buttons]
    if template:
        if channel.kind != ChannelKind.WHATSAPP:
            raise SendRefused(_("Templates are only for WhatsApp."))
        payload["template"] = _template(conversation, template, template_params or [])
    elif not text and file is None:
        raise SendRefused(_("The message is empty."))
    elif (channel.kind == ChannelKind.WHATSAPP
          and not whatsapp_window_open(conversation=conversation, now=now)):
        raise SendRefused(_("More than 24 hours have passed since the patient's last message: "
                            "WhatsApp allows only an approved template now."))
    if channel.kind == ChannelKind.TELEGRAM and len(text) > TELEGRAM_MAX_TEXT:
        raise SendRefused(_("Telegram messages are limited to %(n)s characters.")
                          % {"n": TELEGRAM_MAX_TEXT})
    attachments = []
    if file is not None and len(text) > CAPTION_MAX:
        raise SendRefused(_("A caption of a file is limited to %(n)s characters.")
                          % {"n": CAPTION_MAX})
    if file is not None:  # the website chat's visitor fetches it through the widget API
        attachments = [_file_store(conversation, file)]
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation, channel=channel, direction=Direction.OUT,
            kind=attachments[0]["kind"] if attachments else kind, body=text,
            attachments=attachments, payload=payload, author=author,
            status=DeliveryStatus.QUEUED, created_at=now)
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=Greatest(Coalesce("last_message_at", Value(now)), Value(now)),
            last_message_preview=message_preview(message), unread_count=0)
        if channel.kind == ChannelKind.WEBCHAT:  # the visitor's waiting widget wakes up
            contact_changed(conversation.contact_id)
        if not automatic:  # an automatic greeting or a reminder does not answer the patient
            clinic_replied(conversation=conversation, message=message, now=now)
        _deliver_after_commit(message.pk)
        inbox_changed(conversation.clinic_id)
    return message


def _deliver_after_commit(message_id: int, countdown: float | None = None) -> None:
    from inbox.tasks import enqueue, message_deliver_task

    transaction.on_commit(lambda: enqueue(message_deliver_task, message_id, countdown=countdown))


def _backoff(attempts: int) -> float:
    return min(settings.OUTBOX_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0),
               settings.OUTBOX_MAX_BACKOFF_SECONDS)


def _outbound(message: Message) -> Outbound:
    contact = message.conversation.contact
    to = contact.external_id
    if to.startswith("bsuid:"):
        to = contact.bsuid
    template = message.payload.get("template")
    buttons = tuple((i, t) for i, t in message.payload.get("buttons", []))
    file, file_kind = None, ""
    if message.attachments:
        item = message.attachments[0]
        with default_storage.open(item["file"]) as stored:
            file = Media(stored.read(), item["mime"], item["name"])
        file_kind = item["kind"]
    return Outbound(to=to, text=message.body, buttons=buttons, template=template, file=file,
                    file_kind=file_kind)


@dataclass(frozen=True)
class DeliveryResult:
    sent: bool = False
    retry_in: float | None = None


def message_deliver(*, message_id: int, now: datetime) -> DeliveryResult:
    """Claim a queued message, send it once, record the outcome. Safe to run twice.

    The claim time is the claim's token: a worker that outlived its claim (the sweep gave the
    message to another) can no longer record anything.
    """
    claimed = (Message.objects
               .filter(pk=message_id, direction=Direction.OUT, status=DeliveryStatus.QUEUED)
               .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
               .update(status=DeliveryStatus.SENDING, claimed_at=now,
                       attempts=F("attempts") + 1))
    if not claimed:
        return DeliveryResult()
    message = Message.objects.select_related("channel", "conversation__contact").get(
        pk=message_id)
    try:
        return _deliver_claimed(message, now)
    finally:
        inbox_changed(message.channel.clinic_id)  # the tick moved, whichever way


def _deliver_claimed(message: Message, now: datetime) -> DeliveryResult:
    message_id = message.pk
    mine = Message.objects.filter(pk=message_id, status=DeliveryStatus.SENDING, claimed_at=now)
    try:
        outbound = _outbound(message)
    except Exception:  # noqa: BLE001 — e.g. the attached file is gone; nothing was sent
        logger.exception("message %s cannot be prepared", message_id)
        mine.update(status=DeliveryStatus.FAILED, error_code="prepare", claimed_at=None,
                    error_text=_("The message could not be prepared for sending"))
        return DeliveryResult()
    try:
        provider_id = adapter_for(message.channel.kind).send(message.channel, outbound)
    except ChannelError as error:
        if error.permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            reason = error.reason if error.permanent else _(
                "Gave up after %(n)s attempts: %(reason)s") % {"n": message.attempts,
                                                              "reason": error.reason}
            mine.update(status=DeliveryStatus.FAILED, error_code=error.code,
                        error_text=reason[:500], claimed_at=None)
            logger.warning("message %s failed: %s", message_id, reason)
            return DeliveryResult()
        delay = error.retry_after or _backoff(message.attempts)
        mine.update(status=DeliveryStatus.QUEUED, claimed_at=None, error_code=error.code,
                    error_text=error.reason[:500], next_attempt_at=now + timedelta(seconds=delay))
        logger.info("message %s: %s; retry in %.0f s", message_id, error.reason, delay)
        return DeliveryResult(retry_in=delay)
    except Exception:  # noqa: BLE001 — an answer we do not understand: it may have gone out
        logger.exception("message %s: unexpected error from the provider", message_id)
        mine.update(status=DeliveryStatus.FAILED, error_code="unknown", claimed_at=None,
                    error_text=_("Unexpected answer from the provider; the message may or may "
                                 "not have been delivered"))
        return DeliveryResult()
    if not mine.update(status=DeliveryStatus.SENT, provider_message_id=provider_id, sent_at=now,
                       claimed_at=None, error_code="", error_text="", next_attempt_at=None):
        logger.error("message %s was sent after its claim expired (provider id %s)",
                     message_id, provider_id)
        return DeliveryResult()
    early_statuses_apply(channel_id=message.channel_id, provider_message_id=provider_id)
    return DeliveryResult(sent=True)


def early_statuses_apply(*, channel_id: int, provider_message_id: str | None = None) -> int:
    """Apply statuses that arrived before their message's send was recorded."""
    applied = 0
    early = EarlyStatus.objects.filter(channel_id=channel_id)
    if provider_message_id:
        early = early.filter(provider_message_id=provider_message_id)
    for status in early.order_by("at", "id"):
        with transaction.atomic():
            message = (Message.objects.select_for_update()
                       .filter(channel_id=channel_id, direction=Direction.OUT,
                               provider_message_id=status.provider_message_id).first())
            if message is None:
                continue
            status_apply(message=message, status=status.status, error_code=status.error_code,
                         error_text=status.error_text)
            status.delete()
            applied += 1
    return applied


def outbox_sweep(*, now: datetime) -> int:
    """Re-queue what a lost task, a dead worker or a broker outage left behind."""
    stale = now - timedelta(seconds=settings.OUTBOX_STALE_SECONDS)
    abandoned = Message.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=stale)
    abandoned.filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS).update(
        status=DeliveryStatus.FAILED, claimed_at=None, error_code="abandoned",
        error_text=_("Delivery was interrupted too many times"))
    abandoned.update(status=DeliveryStatus.QUEUED, claimed_at=None)
    grace = now - timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS)
    due = list(Message.objects.filter(status=DeliveryStatus.QUEUED, direction=Direction.OUT)
               .filter(Q(next_attempt_at__lte=grace)
                       | Q(next_attempt_at__isnull=True, created_at__lte=grace))
               .values_list("pk", flat=True)[:500])
    from inbox.tasks import enqueue, message_deliver_task

    for message_id in due:
        enqueue(message_deliver_task, message_id)
    # Statuses of messages we never sent (e.g. from the WhatsApp app itself) are let go.
    EarlyStatus.objects.filter(at__lt=now - EARLY_STATUS_KEPT).delete()
    for channel_id in (EarlyStatus.objects.values_list("channel_id", flat=True).distinct()):
        early_statuses_apply(channel_id=channel_id)
    return len(due)


def note_add(*, conversation: Conversation, author: object, text: str, now: datetime) -> Message:
    """An internal note: shown to the staff in the thread, never sent to the patient."""
    text = text.strip()
    if not text:
        raise SendRefused(_("The note is empty."))
    # A note has no delivery: "sent" only keeps it out of the outbox.
    inbox_changed(conversation.clinic_id)
    return Message.objects.create(
        conversation=conversation, channel=conversation.channel, direction=Direction.OUT,
        kind=MessageKind.NOTE, body=text, author=author, status=DeliveryStatus.SENT,
        created_at=now)


def conversation_mark_read(*, conversation: Conversation) -> None:
    if conversation.unread_count:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
        conversation.unread_count = 0
        inbox_changed(conversation.clinic_id)


def message_retry(*, message: Message, now: datetime) -> bool:
    """Send a failed message again, on a person's request (after unblocking, a new token…)."""
    retried = Message.objects.filter(pk=message.pk, direction=Direction.OUT,
                                     status=DeliveryStatus.FAILED).exclude(
        kind=MessageKind.NOTE).update(status=DeliveryStatus.QUEUED, attempts=0,
                                      next_attempt_at=None, error_code="", error_text="")
    if retried:
        _deliver_after_commit(message.pk)
        inbox_changed(message.channel.clinic_id)
    return bool(retried)
