"""Storing what patients send: once, in one transaction, before the webhook is answered."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest

from clinic.models import Patient
from clinic.phones import phone_normalize
from clinic.services import patient_create
from inbox.channels import adapter_for
from inbox.channels.base import (
    ButtonPress,
    ChannelError,
    Event,
    InboundEdit,
    InboundMessage,
    Sender,
    StatusUpdate,
)
from inbox.models import (
    Channel,
    ChannelKind,
    ContactIdentity,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    EarlyStatus,
    Message,
    MessageKind,
    MessageRevision,
)
from inbox.services.live import contact_changed, inbox_changed
from inbox.services.satisfaction import RATING, rating_record, rating_window
from inbox.services.timers import timer_start_for_patient
from inbox.signals import patient_message_stored

logger = logging.getLogger(__name__)

# Patient messages this close together are one burst: one hand-out, one automatic reply.
BURST = timedelta(seconds=60)
# Delivery statuses only move forward; "failed" can follow "sent" but never "delivered"/"read".
STATUS_RANK = {"queued": 0, "sending": 0, "sent": 1, "delivered": 2, "read": 3}


@dataclass
class StoreResult:
    stored: int = 0
    duplicates: int = 0
    statuses: int = 0


def _phone(raw: str) -> str:
    """A provider's phone ("79161234567", "+7 916…") as E.164, or "" when it is not valid."""
    if not raw:
        return ""
    try:
        return phone_normalize(raw if raw.startswith("+") else f"+{raw}")
    except ValidationError:
        return ""


def contact_link_by_phone(*, contact: ContactIdentity) -> None:
    """Link a contact whose phone is verified: one matching patient links, several suggest."""
    if not contact.phone or contact.patient_id:
        return
    matches = list(Patient.objects.filter(clinic_id=contact.clinic_id, phone=contact.phone)[:10])
    if len(matches) == 1:
        contact.patient = matches[0]
        contact.save(update_fields=["patient"])
        Conversation.objects.filter(contact=contact).update(patient=matches[0])
    elif matches:
        contact.suggested_patients.set(matches)


def _contact(channel: Channel, sender: Sender) -> ContactIdentity:
    # The conversation comes along in the same query: a returning sender needs both.
    contacts = ContactIdentity.objects.select_related("conversation")
    contact = contacts.filter(channel=channel, external_id=sender.external_id).first()
    if contact is None and sender.bsuid:
        contact = contacts.filter(channel=channel, bsuid=sender.bsuid).first()
    if contact is None:
        # A twin delivery creating the same contact at this moment makes this raise
        # IntegrityError; inbound_events_store then runs again and finds it.
        contact = ContactIdentity.objects.create(
            clinic_id=channel.clinic_id, channel=channel, external_id=sender.external_id,
            display_name=sender.display_name[:200], username=sender.username[:100],
            phone=_phone(sender.phone), bsuid=sender.bsuid)
        contact_link_by_phone(contact=contact)
        return contact
    changed = {}
    for name, value in (("display_name", sender.display_name[:200]),
                        ("username", sender.username[:100]), ("bsuid", sender.bsuid)):
        if value and getattr(contact, name) != value:
            changed[name] = value
    phone = "" if contact.phone else _phone(sender.phone)
    if phone:  # first seen by its BSUID alone, now with a number
        changed["phone"] = contact.phone = phone
    if changed:
        ContactIdentity.objects.filter(pk=contact.pk).update(**changed)
    if phone:
        contact_link_by_phone(contact=contact)
    return contact


def _conversation(contact: ContactIdentity) -> Conversation:
    try:
        return contact.conversation  # loaded with the contact by _contact()
    except Conversation.DoesNotExist:
        pass
    conversation, _ = Conversation.objects.get_or_create(
        contact=contact, defaults={"clinic_id": contact.clinic_id,
                                   "channel_id": contact.channel_id,
                                   "patient_id": contact.patient_id})
    return conversation


def message_preview(message: Message) -> str:
    """A one-line preview of a message for the conversation list."""
    text = " ".join(message.body.split())
    if not text and message.attachments:
        text = f"[{message.kind}]"
    return text[:200]


def _bump(conversation: Conversation, now: datetime, message: Message) -> bool:
    """A patient wrote: the conversation is open again (from pending or resolved) and its clocks
    move forward, never back. WhatsApp's 24-hour window runs from when the patient wrote, not
    from when a delayed re-delivery reached us. True when this reopened a resolved one."""
    written = min(message.provider_timestamp or now, now)
    reopened = conversation.status == ConversationStatus.RESOLVED
    changes = {"assignee": None} if reopened else {}  # handed out afresh, see below
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_preview=message_preview(message), unread_count=F("unread_count") + 1,
        last_message_at=Greatest(Coalesce("last_message_at", Value(now)), Value(now)),
        last_patient_message_at=Greatest(Coalesce("last_patient_message_at", Value(written)),
                                         Value(written)),
        status=ConversationStatus.OPEN, **changes)
    previous = conversation.last_patient_message_at
    just_waiting = previous is None or written - previous > BURST
    if reopened or (conversation.assignee_id is None and just_waiting):
        # Someone must answer: hand it out (or say when the clinic opens) after commit; the
        # one who last answered this patient gets it back when online. A burst of messages
        # needs that once; later capacity is handed out by the queue drain.
        from inbox.tasks import enqueue, patient_wrote_task

        transaction.on_commit(lambda: enqueue(patient_wrote_task, conversation.pk))
    return reopened


def _bump_quietly(conversation: Conversation, now: datetime, message: Message) -> None:
    """A patient message that asks for nothing (a rating): the list shows it and WhatsApp's
    window moves, but the status, the unread count and the assignee stay as they are."""
    written = min(message.provider_timestamp or now, now)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_preview=message_preview(message),
        last_message_at=Greatest(Coalesce("last_message_at", Value(now)), Value(now)),
        last_patient_message_at=Greatest(Coalesce("last_patient_message_at", Value(written)),
                                         Value(written)))


def _stored(channel: Channel, provider_message_id: str) -> Message | None:
    """The message already stored under this provider id, if any (a re-delivery)."""
    found = list(Message.objects.filter(channel=channel, provider_message_id=provider_message_id)
                 .only("id", "kind", "body", "attachments", "edited_at")[:1])
    return found[0] if found else None


def _store_message(channel: Channel, event: InboundMessage, now: datetime,
                   result: StoreResult) -> None:
    existing = _stored(channel, event.provider_message_id)
    if existing is not None:
        result.duplicates += 1
        if existing.edited_at:
            _original_after_edits(existing, event)
        return
    contact = _contact(channel, event.sender)
    if event.contact_is_senders_own and event.contact_phone:
        phone = _phone(event.contact_phone)
        if phone and phone != contact.phone:
            contact.phone = phone
            ContactIdentity.objects.filter(pk=contact.pk).update(phone=phone)
            contact_link_by_phone(contact=contact)
    conversation = _conversation(contact)
    rating = rating_window(conversation=conversation, text=event.text, kind=event.kind,
                           attachments=bool(event.attachments), now=now)
    payload = {**event.payload, RATING: rating[1]} if rating else event.payload
    message = Message(
        conversation=conversation, channel=channel, direction=Direction.IN, kind=event.kind,
        body=event.text, attachments=[a.as_dict() for a in event.attachments],
        payload=payload, provider_message_id=event.provider_message_id,
        provider_timestamp=event.sent_at, status=DeliveryStatus.RECEIVED, created_at=now)
    message.save(force_insert=True)
    if channel.kind == ChannelKind.WEBCHAT:  # the visitor's other tabs show it too
        contact_changed(contact.pk)
    if rating is not None:  # the answer to the rating question: the dialogue stays resolved
        rating_record(window=rating[0], value=rating[1], message=message, now=now)
        _bump_quietly(conversation, now, message)
        result.stored += 1
        return
    if _answered_by_an_app(message, now):
        _bump_quietly(conversation, now, message)
        result.stored += 1
        return
    reopened = _bump(conversation, now, message)
    timer_start_for_patient(conversation=conversation, message=message,
                            new_dialogue=reopened, now=now)
    result.stored += 1
    if message.attachments:
        _fetch_media_after_commit(message.pk)


def _answered_by_an_app(message: Message, now: datetime) -> bool:
    """Whether an app built on the inbox (a reminder's confirmation) has fully answered this
    message, so that it needs no one (see `patient_message_stored`)."""
    handled = False
    for receiver, response in patient_message_stored.send_robust(sender=Message,
                                                                 message=message, now=now):
        if isinstance(response, Exception):
            logger.error("%s failed on message %s", receiver, message.pk, exc_info=response)
        elif response:
            handled = True
    return handled


def conversation_for_whatsapp_number(*, channel: Channel, patient: Patient) -> Conversation:
    """The patient's conversation on a WhatsApp channel, started from their phone number when
    they never wrote (a business may write first with an approved template)."""
    wa_id = patient.phone.lstrip("+")
    contact, _ = ContactIdentity.objects.get_or_create(
        channel=channel, external_id=wa_id,
        defaults={"clinic_id": channel.clinic_id, "patient": patient, "phone": patient.phone,
                  "display_name": patient.full_name[:200]})
    conversation, _ = Conversation.objects.get_or_create(
        contact=contact, defaults={"clinic_id": channel.clinic_id, "channel": channel,
                                   "patient_id": contact.patient_id,
                                   "status": ConversationStatus.RESOLVED})
    return conversation


def _fetch_media_after_commit(message_id: int) -> None:
    from inbox.tasks import enqueue, media_fetch_task

    transaction.on_commit(lambda: enqueue(media_fetch_task, message_id))


def _original_after_edits(existing: Message, event: InboundMessage) -> None:
    """The original arrived after its edits: keep its text as the first revision, and its
    files, which an edit of the caption does not carry."""
    if (existing.body != event.text
            and not existing.revisions.filter(valid_from=event.sent_at).exists()):
        first_edit = existing.revisions.order_by("valid_from").first()
        MessageRevision.objects.create(
            message=existing, body=event.text, valid_from=event.sent_at,
            replaced_at=first_edit.valid_from if first_edit else existing.edited_at)
    if event.attachments and not existing.attachments:
        existing.kind = event.kind
        existing.attachments = [a.as_dict() for a in event.attachments]
        existing.save(update_fields=["kind", "attachments"])
        _fetch_media_after_commit(existing.pk)


def _store_edit(channel: Channel, event: InboundEdit, now: datetime, result: StoreResult) -> None:
    message = (Message.objects.select_for_update()
               .filter(channel=channel, provider_message_id=event.provider_message_id).first())
    if message is None:  # the edit overtook its original
        conversation = _conversation(_contact(channel, event.sender))
        message = Message(
            conversation=conversation, channel=channel, direction=Direction.IN,
            kind=MessageKind.TEXT, body=event.text, provider_message_id=event.provider_message_id,
            provider_timestamp=event.sent_at, edited_at=event.edited_at,
            status=DeliveryStatus.RECEIVED, created_at=now)
        message.save(force_insert=True)
        _bump(conversation, now, message)
        result.stored += 1
        return
    if message.edited_at and event.edited_at <= message.edited_at:
        # The same edit again, or an older one arriving late: history only, the newer text
        # stays.
        if (event.edited_at < message.edited_at
                and not message.revisions.filter(valid_from=event.edited_at).exists()):
            MessageRevision.objects.create(message=message, body=event.text,
                                           valid_from=event.edited_at,
                                           replaced_at=message.edited_at)
        result.duplicates += 1
        return
    if message.body != event.text:  # Telegram also sends edits that change nothing visible
        MessageRevision.objects.create(
            message=message, body=message.body,
            valid_from=message.edited_at or message.provider_timestamp,
            replaced_at=event.edited_at)
        message.body = event.text
    message.edited_at = event.edited_at
    message.save(update_fields=["body", "edited_at"])
    result.stored += 1


def _store_button(channel: Channel, event: ButtonPress, now: datetime,
                  result: StoreResult) -> None:
    if _stored(channel, event.provider_message_id) is not None:
        result.duplicates += 1
        return
    conversation = _conversation(_contact(channel, event.sender))
    message = Message(
        conversation=conversation, channel=channel, direction=Direction.IN,
        kind=MessageKind.BUTTON, body=event.title or event.data,
        payload={"data": event.data, "callback_id": event.callback_id,
                 "replied_to": event.replied_to,
                 "verified": _button_was_offered(conversation, event)},
        provider_message_id=event.provider_message_id,
        provider_timestamp=event.sent_at or now, status=DeliveryStatus.RECEIVED, created_at=now)
    message.save(force_insert=True)
    if _answered_by_an_app(message, now):
        _bump_quietly(conversation, now, message)
    else:
        _bump(conversation, now, message)
    result.stored += 1
    if event.callback_id:
        from inbox.tasks import button_answer_task, enqueue

        transaction.on_commit(lambda: enqueue(button_answer_task, message.pk))


def _button_was_offered(conversation: Conversation, event: ButtonPress) -> bool:
    """Whether our message in this very conversation offered this button. The client sends
    the data and can forge it: whatever acts on a press acts only on a verified one."""
    ours = list(Message.objects.filter(
        conversation=conversation, direction=Direction.OUT,
        provider_message_id=event.replied_to).only("payload")[:1]) if event.replied_to else []
    return bool(ours) and event.data in {str(i) for i, _ in ours[0].payload.get("buttons", [])}


def button_answer(*, message_id: int, now: datetime) -> None:
    """Answer a Telegram button press once, so the patient's spinner stops."""
    if not Message.objects.filter(pk=message_id, handled_at__isnull=True).update(handled_at=now):
        return
    message = Message.objects.select_related("channel").get(pk=message_id)
    try:
        adapter_for(message.channel.kind).answer_button(message.channel,
                                                        message.payload["callback_id"])
    except ChannelError as error:  # the query expires within seconds: a retry would be late
        logger.warning("button press %s not answered: %s", message_id, error.reason)


def webchat_messages_seen(*, messages: list[Message]) -> None:
    """The widget fetched these: the clinic's replies among them count as delivered."""
    ids = [m.pk for m in messages if m.direction == Direction.OUT]
    if ids:
        Message.objects.filter(pk__in=ids, status=DeliveryStatus.SENT).update(
            status=DeliveryStatus.DELIVERED)


def status_apply(*, message: Message, status: str, error_code: str = "",
                 error_text: str = "") -> bool:
    """Move an outbound message's delivery status forward; never backwards. True if changed."""
    current = message.status
    if current == DeliveryStatus.FAILED:
        return False
    if status == DeliveryStatus.FAILED:
        if STATUS_RANK.get(current, 0) >= STATUS_RANK["delivered"]:
            return False
        message.error_code, message.error_text = error_code, error_text[:500]
    elif status not in STATUS_RANK or STATUS_RANK[status] <= STATUS_RANK.get(current, 0):
        return False
    message.status = status
    message.save(update_fields=["status", "error_code", "error_text"])
    return True


def _store_status(channel: Channel, event: StatusUpdate, result: StoreResult) -> None:
    message = (Message.objects.select_for_update()
               .filter(channel=channel, provider_message_id=event.provider_message_id,
                       direction=Direction.OUT).first())
    result.statuses += 1
    if message is None:
        EarlyStatus.objects.create(channel=channel, provider_message_id=event.provider_message_id,
                                   status=event.status, error_code=event.error_code,
                                   error_text=event.error_text[:500], at=event.at)
        return
    status_apply(message=message, status=event.status, error_code=event.error_code,
                 error_text=event.error_text)


def inbound_events_store(*, channel: Channel, events: list[Event], now: datetime) -> StoreResult:
    """Store a webhook's events in one transaction, idempotently on the provider's ids.

    Re-deliveries are found by lookup. Two deliveries of the same event at the same moment
    both miss it; the unique constraints let one commit and make the other raise, and that
    one runs again from the start, now finding everything stored. (No savepoints: this is the
    hot path, and the race is rare.)
    """
    try:
        result = _store_all(channel, events, now)
    except IntegrityError:
        logger.info("webhook for channel %s raced a twin delivery; storing again", channel.pk)
        result = _store_all(channel, events, now)
    inbox_changed(channel.clinic_id)
    return result


def _store_all(channel: Channel, events: list[Event], now: datetime) -> StoreResult:
    result = StoreResult()
    with transaction.atomic():
        for event in events:
            if isinstance(event, InboundMessage):
                _store_message(channel, event, now, result)
            elif isinstance(event, InboundEdit):
                _store_edit(channel, event, now, result)
            elif isinstance(event, ButtonPress):
                _store_button(channel, event, now, result)
            elif isinstance(event, StatusUpdate):
                _store_status(channel, event, result)
    return result


def contact_patient_link(*, contact: ContactIdentity, patient: Patient) -> None:
    """An administrator confirms who this contact is (a suggestion, or any patient of the
    clinic); the contact's conversation follows, and so does a consent the contact gave in the
    website chat's form (once, into the patient's consent ledger)."""
    from inbox.services.widget import website_consent_record  # widget -> outbound -> here

    if patient.clinic_id != contact.clinic_id:
        raise ValueError("a contact can only be linked to a patient of its own clinic")
    with transaction.atomic():
        inbox_changed(contact.clinic_id)
        contact.patient = patient
        contact.save(update_fields=["patient"])
        contact.suggested_patients.clear()
        Conversation.objects.filter(contact=contact).update(patient=patient)
        website_consent_record(contact=contact, patient=patient)


def contact_patient_create(*, contact: ContactIdentity) -> Patient:
    """Create the patient card from what the channel knows of the contact, and link it."""
    first, _, last = contact.display_name.partition(" ")
    with transaction.atomic():
        patient = patient_create(clinic=contact.clinic, first_name=first[:100],
                                 last_name=last[:100], phone=contact.phone)
        contact_patient_link(contact=contact, patient=patient)
    return patient


def contact_patient_unlink(*, contact: ContactIdentity) -> None:
    """The link was wrong: the contact and its conversation belong to nobody again."""
    with transaction.atomic():
        inbox_changed(contact.clinic_id)
        contact.patient = None
        contact.save(update_fields=["patient"])
        Conversation.objects.filter(contact=contact).update(patient=None)
