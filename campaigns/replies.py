"""What a patient's text reply to a reminder or a confirmation request means.

Deliberately conservative. A reply is CONFIRM or CANCEL only when it is short and says nothing
else: every word must be a yes (or a no), a polite word, or a word about the visit itself, and
it must not ask anything. "Да, а можно на час позже?" or "буду, подскажите адрес" go to a
human as OTHER. A wrong silent confirm (the patient does not come, the slot is lost) or a wrong
silent cancel (the slot is given away) costs far more than an administrator reading "ok".
A request for another time is RESCHEDULE wherever it appears, and it goes to a human too.
STOP is read only when the whole message is an opt-out ("СТОП", "не пишите мне больше").

Pure Python, no Django: the text is folded (NFKC, lower case, "ё" -> "е"), emoji are read by
their base form (skin tones dropped), then words are matched against a small phrase lexicon,
longest phrase first.
"""

import re
import unicodedata
from collections.abc import Iterator
from enum import StrEnum

import emoji


class Intent(StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    STOP = "stop"
    OTHER = "other"


class _Role(StrEnum):
    """What one word, phrase or emoji of a reply does."""

    CONFIRM = "confirm"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    STOP = "stop"
    OPT_OUT = "opt-out"  # harmless beside a stop word only: "мне", "больше", "рассылки"
    VISIT = "visit"  # harmless beside a yes or a no: "запись", "прийти", "я"
    POLITE = "polite"  # harmless anywhere: "спасибо", "здравствуйте"
    UNKNOWN = "unknown"


# "I will come": a yes alone, a no after "не" ("не приду", "не смогу").
_COMING = (
    "буду", "будем", "приду", "придем", "придет", "подойду", "подойдем", "приеду", "приедем",
    "смогу", "сможем",
)
_LEXICON: dict[_Role, tuple[str, ...]] = {
    _Role.CONFIRM: (
        "да", "ага", "угу", "+", "✓", "ок", "окей", "оки", "ok", "okay", "okey",
        "yes", "yeah", "yep", "sure", "confirm", "confirmed", "подтверждаю", "подтверждаем",
        "подтверждено", "хорошо", "отлично", "конечно", "обязательно", "непременно", "точно",
        "согласен", "согласна", "все в силе", "в силе", *_COMING,
    ),
    _Role.CANCEL: (
        "нет", "неа", "no", "nope", "cancel", "✗", "✘", "отмена", "отменить", "отмените",
        "отменяю", "отменяем", "отменяйте", "отмени", "отказываюсь",
        "не получится", "не могу", "не сможет", *(f"не {verb}" for verb in _COMING),
    ),
    _Role.RESCHEDULE: (
        "другое время", "другой день", "другую дату", "другое число", "другой раз",
        "another time",
    ),
    _Role.STOP: (
        "стоп", "stop", "stopall", "unsubscribe", "quit", "end", "хватит", "прекратите",
        "не пишите", "не присылайте", "не отправляйте", "не беспокойте", "не надо писать",
        "не надо присылать", "не хочу получать", "уберите", "удалите", "исключите",
        "отключите", "отменить рассылку", "отмените рассылку", "отмените рассылки",
    ),
    _Role.OPT_OUT: (
        "меня", "мне", "мой", "номер", "из", "от", "больше", "все", "всех", "вашей", "ваши",
        "ваших", "писать", "присылать", "слать", "спамить", "спам", "смс", "sms", "me",
    ),
    _Role.VISIT: (
        "я", "мы", "на", "запись", "записи", "прием", "приеме", "приема", "визит", "визите",
        "мою", "мой прием", "свою", "прийти", "придти", "подойти", "приехать", "быть",
        "попасть",
    ),
    _Role.POLITE: (
        "спасибо", "спс", "благодарю", "большое", "огромное", "пожалуйста", "пжл", "пж",
        "плз", "please", "thanks", "thank you", "thx", "здравствуйте", "добрый день",
        "доброе утро", "добрый вечер", "привет", "вам", "извините", "к сожалению", "увы",
        "до встречи", "до свидания", "хорошего дня",
    ),
}
# Words whose stem is enough: "перенесите", "переносим", "отпишите", "рассылку".
_STEMS: tuple[tuple[str, _Role], ...] = (
    ("перенес", _Role.RESCHEDULE), ("перенос", _Role.RESCHEDULE),
    ("перезапис", _Role.RESCHEDULE), ("reschedul", _Role.RESCHEDULE),
    ("отпис", _Role.STOP), ("отпиш", _Role.STOP),
    ("рассылк", _Role.OPT_OUT), ("сообщени", _Role.OPT_OUT), ("уведомлени", _Role.OPT_OUT),
    ("напоминани", _Role.OPT_OUT),
)
# Codes that count only as the whole reply: "1 зуб" and "с мужем" are not answers.
_ALONE = {"1": _Role.CONFIRM, "c": _Role.CONFIRM, "с": _Role.CONFIRM, "2": _Role.CANCEL}

_EMOJI = {
    **dict.fromkeys("👍✅👌✔☑🆗", _Role.CONFIRM),
    **dict.fromkeys("👎❌❎✖", _Role.CANCEL),
}
# Courtesy and mood, not an answer; any other emoji makes the reply OTHER.
_NEUTRAL_EMOJI = frozenset(
    "🙏😊🙂☺😉😀😃😄😁😌🤗😇❤♥💙💚💛🧡💜🌷🌸💐🌹✨😍🥰😘👋🤝🦷💪☀🌞😔😢😞🙁☹😥🥲"
)
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")
_TOKEN = re.compile(r"[^\W_]+|[+✓✗✘]")
_RUN = re.compile(r"(.)\1+")

_PHRASES: dict[tuple[str, ...], _Role] = {
    tuple(phrase.split()): role for role, phrases in _LEXICON.items() for phrase in phrases
}
_LONGEST = max(map(len, _PHRASES))
_WORDS = frozenset(word for phrase in _PHRASES for word in phrase)


def reply_intent(text: str) -> Intent:
    """The intent of a patient's reply; OTHER whenever it is not plainly one thing."""
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    text, emoji_roles = _read_emoji(text)
    tokens = [_unstretch(token) for token in _TOKEN.findall(text)]
    if len(tokens) == 1 and tokens[0] in _ALONE:
        roles = {_ALONE[tokens[0]], *emoji_roles}
    else:
        roles = {*_word_roles(tokens), *emoji_roles}

    if _Role.RESCHEDULE in roles:
        return Intent.RESCHEDULE
    if "?" in text or not roles:
        return Intent.OTHER
    if _Role.STOP in roles:
        return Intent.STOP if roles <= {_Role.STOP, _Role.OPT_OUT, _Role.POLITE} else Intent.OTHER
    for answer in (_Role.CONFIRM, _Role.CANCEL):
        if answer in roles and roles <= {answer, _Role.VISIT, _Role.POLITE}:
            return Intent(answer)
    return Intent.OTHER


def _read_emoji(text: str) -> tuple[str, list[_Role]]:
    """The text with emoji taken out (a keycap digit stays as the digit), and their roles."""
    roles, parts, end = [], [], 0
    for found in emoji.emoji_list(text):
        parts.append(text[end : found["match_start"]])
        end = found["match_end"]
        base = _MODIFIERS.sub("", found["emoji"])
        if base.endswith("\u20e3"):  # "1️⃣"
            parts.append(f" {base[0]} ")
            continue
        parts.append(" ")
        if base not in _NEUTRAL_EMOJI:
            roles.append(_EMOJI.get(base, _Role.UNKNOWN))
    parts.append(text[end:])
    return "".join(parts), roles


def _unstretch(token: str) -> str:
    """ "дааа" -> "да", "нееет" -> "нет", but only into a word we know."""
    if token in _WORDS:
        return token
    short = _RUN.sub(r"\1", token)
    return short if len(short) > 1 and short in _WORDS else token


def _word_roles(tokens: list[str]) -> Iterator[_Role]:
    """Roles of the words, longest phrase first; an unmatched "не" spoils itself and the next."""
    i = 0
    while i < len(tokens):
        for n in range(min(_LONGEST, len(tokens) - i), 0, -1):
            role = _PHRASES.get(tuple(tokens[i : i + n]))
            if role is not None:
                yield role
                i += n
                break
        else:
            if tokens[i] == "не":  # "не уверен", "не отменяйте", "не переносите"
                yield _Role.UNKNOWN
                i += 2
                continue
            yield next((role for stem, role in _STEMS if tokens[i].startswith(stem)), _Role.UNKNOWN)
            i += 1
