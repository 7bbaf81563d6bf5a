"""Reading Russian chat text: words with their lemmas, sentences, emoji, prices, questions.

Analyzers load once per process; word analyses are cached. "ё" is folded to "е" only for
look-ups, never in what is shown.
"""

import logging
import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache, lru_cache

import emoji
import pymorphy3
import razdel

CACHE_WORDS = 200_000


@cache
def morph() -> pymorphy3.MorphAnalyzer:
    logging.getLogger("pymorphy3").setLevel(logging.WARNING)
    return pymorphy3.MorphAnalyzer()


def fold(text: str) -> str:
    return text.lower().replace("ё", "е")


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # as written
    low: str  # lower case, "ё" folded
    start: int  # offset in the analysed text
    lemmas: frozenset[str]


@lru_cache(maxsize=CACHE_WORDS)
def lemmas(low: str) -> frozenset[str]:
    """Every normal form pymorphy3 offers for a word (not only the likeliest), plus the word."""
    if not _CYRILLIC.search(low):
        return frozenset((low,))
    return frozenset({low, *(fold(p.normal_form) for p in morph().parse(low))})


@lru_cache(maxsize=CACHE_WORDS)
def tags(low: str) -> tuple[tuple[str, str], ...]:
    """(normal form, grammemes) for every parse: used for names and patronymics."""
    return tuple((fold(p.normal_form), str(p.tag)) for p in morph().parse(low))


_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=8192)
def words(text: str) -> tuple[Word, ...]:
    """The words of a text (tokens with a letter), in order, hyphenated words kept whole."""
    out = []
    for token in razdel.tokenize(text):
        if _LETTER.search(token.text):
            low = fold(token.text)
            out.append(Word(token.text, low, token.start, lemmas(low)))
    return tuple(out)


# Chat writers end a sentence with an emoji instead of a full stop: "…в тот же день 🦷 Подскажите".
_AFTER_EMOJI = re.compile(r".+?(?:[\u2190-\u2bff\U0001F000-\U0001FAFF\ufe0f]+(?=\s+[А-ЯЁA-Z])|$)",
                          re.DOTALL)


@lru_cache(maxsize=8192)
def sentences(text: str) -> tuple[tuple[str, tuple[Word, ...]], ...]:
    """The sentences of a text, each with its words (lines never join into one sentence)."""
    ws = words(text)
    starts = [w.start for w in ws]
    out = []
    offset = 0
    for line in text.splitlines(keepends=True):
        for piece in _AFTER_EMOJI.finditer(line):
            for s in razdel.sentenize(piece.group()):
                if s.text.strip():
                    start, stop = offset + piece.start() + s.start, offset + piece.start() + s.stop
                    out.append((s.text, ws[bisect_left(starts, start):bisect_left(starts, stop)]))
        offset += len(line)
    return tuple(out)


# Every emoji is at U+2190 or above, or one of a few symbols below it (dashes, "№" and "₽" are
# not). Emoji never sit inside words, so the emoji library only reads the runs that may hold one.
_EMOJI_RUN = re.compile(r"(?:\d\ufe0f?\u20e3|[\u00a9\u00ae\u203c\u2049\u2122\u2139"
                        r"\u2190-\U0010ffff\u200d\ufe0f])+")


def emoji_count(text: str) -> int:
    runs = _EMOJI_RUN.findall(text)
    return emoji.emoji_count(" ".join(runs)) if runs else 0


_TAIL = " \t\n\r)(:;.,!…\"'»«*-–—~"


def ends_with_question(text: str) -> bool:
    """The last sentence is a question: the text ends in "?" once emoji, smileys and closing
    punctuation are stripped ("Записать вас? 😊", "Удобно?)", "Когда удобно?!")."""
    end = len(text)
    while end and (text[end - 1] in _TAIL or _EMOJI_RUN.fullmatch(text[end - 1])):
        end -= 1
    return text[:end].endswith("?")


def has_question(text: str) -> bool:
    return "?" in text


# Money: "5000 руб.", "5 000 ₽", "от 3,5 тыс. рублей", "1500р", "2 тысячи рублей".
_NUMBER = r"\d{1,3}(?:[  \u202f.]\d{3})+|\d+(?:[.,]\d+)?"
_CURRENCY = (r"(?:₽|руб(?:л[а-я]*)?\.?|р\.|р(?![а-яё])|rub|т\.\s?р\.?|к(?![а-яё])"
             r"|тыс(?:[а-я]*)?\.?(?:\s*(?:₽|руб\S*|р\.?))?)")
PRICE = re.compile(
    rf"(?<![\d:])(?:{_NUMBER})\s?{_CURRENCY}"
    # in words: "две тысячи рублей", "полторы тысячи ₽", "пятьсот рублей"
    r"|\b(?:[а-яё]+\s+){0,3}(?:тысяч[а-яё]*|сот|сто|двести|[а-яё]+сот|[а-яё]+дцать)\s+(?:руб|₽)",
    re.IGNORECASE)
# A number after a cost word in the same sentence ("стоит 1500", "цена от 3000 до 5000").
_COST_WORD = re.compile(r"(?:стоим|стоит|стоят|цен[аеуы]|составля|обойд[её]тся|прайс)",
                        re.IGNORECASE)
_BARE_NUMBER = re.compile(r"(?<![\d:.,/+])(\d{1,3}(?:[  \u202f]\d{3})+|\d{3,6})(?![\d:./])")


@lru_cache(maxsize=8192)
def price_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where the text names an amount of money."""
    spans = [m.span() for m in PRICE.finditer(text)]
    if _COST_WORD.search(text):
        for m in _BARE_NUMBER.finditer(text):
            sentence = _sentence_around(text, m.start())
            if _COST_WORD.search(sentence) and not any(a <= m.start() < b for a, b in spans):
                spans.append(m.span())
    return tuple(sorted(spans))


def _sentence_around(text: str, at: int) -> str:
    start = max(text.rfind(c, 0, at) for c in ".!?\n") + 1
    ends = [i for i in (text.find(c, at) for c in "!?\n") if i >= 0]
    return text[start:min(ends, default=len(text))]


def has_price(text: str) -> bool:
    return bool(price_spans(text))
