"""Patient satisfaction: after a resolve, one question; a reply of 1 to 5 is the rating.

The rules:
- The clinic asks (`Clinic.ask_satisfaction`, off by default) after a resolve whose result is not
  "no reply needed" and in which a member of staff wrote to the patient. The question is the
  clinic's text, sent on the conversation's channel as an automatic message: it neither meets
  nor starts a response timer, and quality reads it as "auto", never as the administrator's.
- At most once per dialogue window: a manual reopen and a new resolve of the same window do not
  ask again. It is not asked when the patient has written again (or someone reopened the
  conversation) before it could go out: the dialogue goes on.
- Channel rules decide, never the resolve: WhatsApp only within 24 hours of the patient's last
  message; a patient who opted out of all messages, a switched-off channel, or a channel the
  patient never wrote on gets nothing. The reason is kept on the window (`satisfaction_skipped`)
  and logged; a question that cannot be sent never fails the resolve.
- A patient message to the still resolved conversation, within RATING_WAIT of the question,
  that is only a digit from 1 to 5 (with spaces, punctuation, emoji, "спасибо" and the like;
  see `rating_parse`) is the rating: stored as usual and shown in the thread, but it does not
  reopen the conversation, start a timer, hand the conversation out or count as unread. Only
  the first answer counts; anything else flows as a new request, as before.
- The question and the rating stay outside the dialogue windows (they come after the rated
  window's last message, and the next window starts after them), so scoring never reads the
  rating as a patient message that waits for an answer.
"""

import logging
import re
from datetime import datetime, timedelta

import emoji
from django.db import transaction
from django.db.models import Q, QuerySet

from clinic.models import DEFAULT_SATISFACTION_QUESTION
from inbox.models import (
    ChannelKind,
    Conversation,
    ConversationStatus,
    DialogueOutcome,
    DialogueWindow,
    Message,
    MessageKind,
    SatisfactionSkip,
    WindowStatus,
)
from inbox.signals import satisfaction_recorded

logger = logging.getLogger(__name__)

SATISFACTION_QUESTION = "satisfaction"  # payload["automatic"] of the question
RATING = "satisfaction"  # payload key of a patient message that is a rating, with its value
RATING_WAIT = timedelta(days=3)
RATING_TEXT_MAX = 60

# Words that may stand beside the digit of a rating. Anything else ("5 минут", "в 5",
# "1 вопрос") makes the message an ordinary one: taking a request for a rating would hide it.
_FILLERS = frozenset("""
    спасибо спасибочки спасиб спс благодарю большое огромное вам оценка моя ставлю балл балла
    баллов звезда звезды звезд звездочек из за ответ помощь консультацию отлично хорошо супер
    все
""".split())
_KEYCAP = re.compile("([0-9])\ufe0f?\u20e3")  # 5️⃣
_OUT_OF_FIVE = re.compile(r"(?<!\d)([1-5])\s*(?:/|из)\s*5(?!\d)")  # "5/5", "4 из 5"
_TOKEN = re.compile(r"\w+")
_STARS = ("⭐", "🌟")
# A question or an amount is never a rating ("5?", "5%", "5 ₽").
_NOT_A_RATING = frozenset("?%№₽$€")


def rating_parse(text: str) -> int | None:
    """The rating a patient's answer gives, or None when it is not only a rating.

    "5", "5!", " 4 ", "5 спасибо", "Спасибо, 5)", "⭐5", "5️⃣", "4 из 5" and "⭐⭐⭐⭐" are
    ratings; "5 минут", "в 5", "1 вопрос", "5?", "15", "4-5" and "5:30" are not."""
    if not text or len(text) > RATING_TEXT_MAX or _NOT_A_RATING & set(text):
        return None
    text = _KEYCAP.sub(r" \1 ", text)
    stars = sum(text.count(star) for star in _STARS)
    text = emoji.replace_emoji(text, " ").lower().replace("ё", "е")
    text = _OUT_OF_FIVE.sub(r" \1 ", text)
    numbers, words = [], []
    for token in _TOKEN.findall(text):
        (numbers if any(c.isdigit() for c in token) else words).append(token)
    if any(word not in _FILLERS for word in words):
        return None
    if not numbers:
        return stars if 1 <= stars <= 5 else None
    if len(numbers) == 1 and numbers[0] in ("1", "2", "3", "4", "5"):
        return int(numbers[0])
    return None


def _question(window: DialogueWindow) -> str:
    return window.clinic.satisfaction_question.strip() or DEFAULT_SATISFACTION_QUESTION


def _skip_reason(conversation: Conversation, now: datetime) -> str:
    from inbox.services.outbound import whatsapp_window_open

    if not conversation.channel.is_active:
        return SatisfactionSkip.CHANNEL_INACTIVE
    if conversation.patient is not None and conversation.patient.opted_out_all:
        return SatisfactionSkip.OPTED_OUT
    if conversation.last_patient_message_at is None:  # a Telegram bot cannot write first
        return SatisfactionSkip.NEVER_WROTE
    if (conversation.channel.kind == ChannelKind.WHATSAPP
            and not whatsapp_window_open(conversation=conversation, now=now)):
        return SatisfactionSkip.WHATSAPP_WINDOW
    return ""


def _skip(window: DialogueWindow, reason: str, detail: str = "") -> None:
    DialogueWindow.objects.filter(pk=window.pk).update(satisfaction_skipped=reason)
    logger.info("rating question for dialogue %s not sent: %s%s", window.pk, reason,
                f" ({detail})" if detail else "")


def satisfaction_ask(*, window_id: int, now: datetime) -> Message | None:
    """After a resolve has committed: ask the patient to rate the dialogue, when the clinic
    wants it and the rules allow (see the module's docstring). The question goes through the
    outbox like any message. Returns it, or None when nothing was sent."""
    from inbox.services.outbound import SendRefused, message_send

    with transaction.atomic():
        window = (DialogueWindow.objects.select_for_update(of=("self",))
                  .select_related("clinic").filter(pk=window_id).first())
        if (window is None or not window.clinic.ask_satisfaction
                or window.status != WindowStatus.RESOLVED
                or window.satisfaction_asked_at is not None
                or window.outcome == DialogueOutcome.NO_REPLY_NEEDED
                or not window.clinic_replied):
            return None
        # Locked, so a patient message cannot reopen the conversation while the question goes.
        conversation = (Conversation.objects.select_for_update(of=("self",))
                        .select_related("channel", "patient")
                        .filter(pk=window.conversation_id,
                                status=ConversationStatus.RESOLVED).first())
        latest = (DialogueWindow.objects.filter(conversation_id=window.conversation_id)
                  .order_by("-pk").values_list("pk", flat=True).first())
        if conversation is None or latest != window.pk:
            return None  # the patient wrote again, or someone reopened it: the dialogue goes on
        reason = _skip_reason(conversation, now)
        if reason:
            _skip(window, reason)
            return None
        try:
            message = message_send(conversation=conversation, author=None,
                                   text=_question(window), automatic=SATISFACTION_QUESTION,
                                   now=now)
        except SendRefused as refused:
            _skip(window, SatisfactionSkip.REFUSED, str(refused))
            return None
        DialogueWindow.objects.filter(pk=window.pk).update(satisfaction_asked_at=now,
                                                          satisfaction_skipped="")
    return message


def satisfaction_ask_after_commit(window_id: int, now: datetime) -> None:
    """Called inside the resolve's transaction: ask once it has committed. A failure is logged
    and never reaches the resolve."""
    transaction.on_commit(lambda: satisfaction_ask(window_id=window_id, now=now), robust=True)


def satisfaction_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """The conversation's rating questions and the patients' ratings: they belong to no
    dialogue window. (Exclude them by id: NOT over a JSON key would drop every message that
    lacks the key, since SQL compares NULL to nothing.)"""
    return Message.objects.filter(
        Q(payload__automatic=SATISFACTION_QUESTION) | Q(payload__has_key=RATING),
        conversation=conversation)


def rating_window(*, conversation: Conversation, text: str, kind: str, attachments: bool,
                  now: datetime) -> tuple[DialogueWindow, int] | None:
    """The dialogue a patient's new message rates, locked, and the rating; None when the
    message is an ordinary one. Costs no query unless the conversation is resolved and the
    text reads as a rating."""
    if (conversation.status != ConversationStatus.RESOLVED or kind != MessageKind.TEXT
            or attachments):
        return None
    value = rating_parse(text)
    if value is None:
        return None
    window = (DialogueWindow.objects.select_for_update()
              .filter(conversation=conversation).order_by("-pk").first())
    if (window is None or window.status != WindowStatus.RESOLVED
            or window.satisfaction is not None or window.satisfaction_asked_at is None
            or now - window.satisfaction_asked_at > RATING_WAIT):
        return None
    return window, value


def rating_record(*, window: DialogueWindow, value: int, message: Message,
                  now: datetime) -> None:
    """Store the rating on the window (the message itself is stored already, marked as a
    rating); quality is told after commit."""
    DialogueWindow.objects.filter(pk=window.pk).update(
        satisfaction=value, satisfaction_at=now, satisfaction_message=message)
    window_id = window.pk
    transaction.on_commit(lambda: satisfaction_recorded.send_robust(
        sender=DialogueWindow, window_id=window_id))
