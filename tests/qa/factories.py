"""Dialogues to score: the inbox's conversation factories, and a dialogue by the standard."""

from datetime import timedelta

from qa.models import Scorecard
from qa.services.scoring import scorecard_build
from tests.inbox.factories import Chat, ConversationFactory, MessageFactory, conversation_for

__all__ = ["Chat", "ConversationFactory", "MessageFactory", "conversation_for", "good_dialogue",
           "scored"]


def good_dialogue(chat: Chat) -> None:
    """A dialogue by the clinic's standard: greeting, name, answer, range, offer, question."""
    chat.patient("Здравствуйте! Сколько стоит профессиональная чистка зубов?")
    chat.admin("Здравствуйте, Мария! Меня зовут Анна, я администратор клиники. Профессиональная "
               "гигиена стоит от 4500 до 6000 ₽, точнее скажет врач на осмотре. Что вас "
               "беспокоит: налёт, чувствительность?", minutes=2)
    chat.patient("Налёт от кофе")
    chat.admin("Поняла вас, Мария. Можем записать вас на четверг в 10:00 или в 15:00. "
               "Какое время вам удобнее?")
    chat.patient("В 15:00")
    chat.admin("Записала вас на четверг, 15:00. До встречи! Будут ли ещё вопросы?")


def scored(chat: Chat, outcome: str = "next_step", next_step: str = "",
           minutes: float = 1) -> Scorecard:
    """Resolve the chat's dialogue and run the scoring task's service, as the worker would."""
    window = chat.resolve(outcome, next_step, minutes=minutes)
    scorecard = scorecard_build(window_id=window.pk, now=chat.at + timedelta(seconds=5))
    assert scorecard is not None
    return scorecard
