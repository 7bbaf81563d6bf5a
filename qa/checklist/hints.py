"""The checklist's rules applied to a draft before it is sent: hints, never blocks."""

from dataclasses import dataclass, field

from qa.checklist.dialogue import Rules
from qa.checklist.items import (
    clinic_words,
    gettext_noop,
    greets,
    introduces,
    is_bare_price,
    stop_word,
)
from qa.checklist.names import forms, mentions, mentions_pair
from qa.checklist.spelling import mistakes, suggestions
from qa.checklist.text import emoji_count, ends_with_question, has_price, words


@dataclass(frozen=True)
class Hint:
    code: str  # the checklist item it serves
    why: str  # an English template, translated by the product
    params: dict[str, object] = field(default_factory=dict)
    start: int | None = None  # the span of the draft it is about (a misspelled word)
    end: int | None = None
    suggestions: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return self.why.format(**self.params)


@dataclass(frozen=True)
class DraftContext:
    rules: Rules
    first_reply: bool = False  # no administrator message in this dialogue yet
    after_complaint: bool = False  # the patient's last messages express dissatisfaction
    patient_first_name: str | None = None
    patient_patronymic: str | None = None
    patient_last_name: str | None = None
    admin_name: str | None = None


def _as_written(word: str, suggestion: str) -> str:
    return suggestion.capitalize() if word[:1].isupper() else suggestion


def draft_hints(text: str, context: DraftContext) -> list[Hint]:
    if not text.strip():
        return []
    rules = context.rules
    hints: list[Hint] = []
    ws = words(text)
    if not ends_with_question(text):
        hints.append(Hint("ends_with_question", gettext_noop("End with a question.")))
    if is_bare_price((text,)):
        hints.append(Hint("no_bare_price", gettext_noop(
            "A bare price: add what it includes, an offer and a question.")))
    found = stop_word(text, rules.stop_words)
    if found:
        hints.append(Hint("stop_words", gettext_noop("Stop-word “{word}”."), {"word": found}))
    elif len(ws) == 1 and not has_price(text):  # a bare price has its own hint
        hints.append(Hint("stop_words", gettext_noop("A one-word reply: say a little more.")))
    count = emoji_count(text)
    if count > rules.emoji_limit:
        hints.append(Hint("emoji", gettext_noop("{count} emoji: at most {limit} per message."),
                          {"count": count, "limit": rules.emoji_limit}))
    elif count and context.after_complaint:
        hints.append(Hint("emoji", gettext_noop("No emoji in a reply to a complaint.")))
    if context.first_reply:
        if not greets(ws):
            hints.append(Hint("greeting", gettext_noop("Greet the patient.")))
        if not introduces(ws, context.admin_name):
            hints.append(Hint("greeting", gettext_noop("Introduce yourself.")))
        if context.patient_first_name and not _named(ws, context):
            hints.append(Hint("name_used", gettext_noop("Address the patient by name: {name}."),
                              {"name": _full_name(context)}))
    extra = clinic_words(rules.dictionary, (context.patient_first_name,
                         context.patient_last_name, context.admin_name), context.patient_patronymic)
    for word in mistakes(text, extra):
        hints.append(Hint("literacy", gettext_noop("Check the spelling of “{word}”."),
                          {"word": word.text}, word.start, word.start + len(word.text),
                          tuple(_as_written(word.text, s) for s in suggestions(word.low))))
    return hints


def _named(ws, context: DraftContext) -> bool:
    first = forms(context.patient_first_name)
    if context.rules.name_style == "name_patronymic" and context.patient_patronymic:
        return mentions_pair(ws, first, forms(context.patient_patronymic, "Patr"))
    return mentions(ws, first)


def _full_name(context: DraftContext) -> str:
    if context.rules.name_style == "name_patronymic" and context.patient_patronymic:
        return f"{context.patient_first_name} {context.patient_patronymic}"
    return context.patient_first_name or ""
