"""Reading Russian chat text: words with their lemmas, sentences, emoji, prices, questions.

Analyzers load once per process; word analyses are cached. "ё" is folded to "е" only for
look-ups, never in what is shown.
"""

import logging
import re
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


@lru_cache(maxsize=8192)
def sentences(text: str) -> tuple[tuple[str, tuple[Word, ...]], ...]:
    """The sentences of a text, each with its words (lines never join into one sentence)."""
    ws = words(text)
    out = []
    offset = 0
    for line in text.splitlines(keepends=True):
        for s in razdel.sentenize(line):
            if s.text.strip():
                start, stop = offset + s.start, offset + s.stop
                out.append((s.text, tuple(w for w in ws if start <= w.start < stop)))
        offset += len(line)
    return tuple(out)


_EMOJI_LOW = frozenset("\u00a9\u00ae\u203c\u2049\u2122\u2139")


def _may_hold_emoji(text: str) -> bool:
    """Cheap pre-check: every emoji is at U+2190 or above, or one of a few symbols below it
    (dashes, "№" and "₽" are not)."""
    return any(ord(c) >= 0x2190 or c in _EMOJI_LOW for c in text)


def emoji_count(text: str) -> int:
    return emoji.emoji_count(text) if _may_hold_emoji(text) else 0


def without_emoji(text: str) -> str:
    return emoji.replace_emoji(text, "") if _may_hold_emoji(text) else text


_TAIL = " \t\n\r)(:;.,!…\"'»«*-–—~"


def ends_with_question(text: str) -> bool:
    """The last sentence is a question: the text ends in "?" once emoji, smileys and closing
    punctuation are stripped ("Записать вас? 😊", "Удобно?)", "Когда удобно?!")."""
    return without_emoji(text).rstrip(_TAIL).endswith("?")


def has_question(text: str) -> bool:
    return "?" in text


# Money: "5000 руб.", "5 000 ₽", "от 3,5 тыс. рублей", "1500р", "2 тысячи рублей".
_NUMBER = r"\d{1,3}(?:[  \u202f.]\d{3})+|\d+(?:[.,]\d+)?"
_CURRENCY = (r"(?:₽|руб(?:л[а-я]*)?\.?|р\.|р(?![а-яё])|rub|т\.\s?р\.?|к(?![а-яё])"
             r"|тыс(?:[а-я]*)?\.?(?:\s*(?:₽|руб\S*|р\.?))?)")
PRICE = re.compile(rf"(?<![\d:])(?:{_NUMBER})\s?{_CURRENCY}", re.IGNORECASE)
# A number after a cost word in the same sentence ("стоит 1500", "цена от 3000 до 5000").
_COST_WORD = re.compile(r"(?:стоим|стоит|стоят|цен[аеуы]|составля|обойд[её]тся|прайс)",
                        re.IGNORECASE)
_BARE_NUMBER = re.compile(r"(?<![\d:.,/+])(\d{1,3}(?:[  \u202f]\d{3})+|\d{3,6})(?![\d:./])")
PERCENT = re.compile(r"\d+\s?%|\d+\s?процент", re.IGNORECASE)


def price_spans(text: str) -> list[tuple[int, int]]:
    """Where the text names an amount of money."""
    spans = [m.span() for m in PRICE.finditer(text)]
    for sentence in razdel.sentenize(text):
        if _COST_WORD.search(sentence.text):
            for m in _BARE_NUMBER.finditer(sentence.text):
                s, e = sentence.start + m.start(), sentence.start + m.end()
                if not any(a <= s < b for a, b in spans):
                    spans.append((s, e))
    return sorted(spans)


def has_price(text: str) -> bool:
    return bool(price_spans(text))
