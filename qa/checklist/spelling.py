"""Spelling: pymorphy3's dictionary (OpenCorpora) as the gate, a shipped medical and dental
vocabulary, the clinic's own words, and a short list of words dictionaries know but the
standard counts as mistakes ("ихний", "придти")."""

import re
from functools import lru_cache

from qa.checklist.lexicon import word_list
from qa.checklist.text import CACHE_WORDS, Word, fold, lemmas, morph, words

# Inflectional endings accepted after a vocabulary stem ("ортодонт" + "а", "имплант" + "ами").
_ENDINGS = frozenset(
    "а у ом е ы ов ам ами ах и ей ю ой ою ия ии ию ией иям иями иях ого ому ым ых ыми ий ая "
    "ое ые ую ей".split())
_URL = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|\S+\.(?:ru|com|рф|net|org)\S*", re.IGNORECASE)
_ALPHABET = "абвгдежзийклмнопрстуфхцчшщъыьэюя"


def _in_vocabulary(low: str, extra: frozenset[str]) -> bool:
    vocabulary = word_list("vocabulary")
    if low in vocabulary or low in extra:
        return True
    for size in range(1, 5):
        stem, ending = low[:-size], low[-size:]
        if ending in _ENDINGS and (stem in vocabulary or stem in extra
                                   or stem + "а" in vocabulary or stem + "а" in extra):
            return True
    return False


@lru_cache(maxsize=CACHE_WORDS)
def _known(low: str) -> bool:
    if low in word_list("nonstandard"):
        return False
    if morph().word_is_known(low):
        return True
    # An inflected vocabulary word: pymorphy3 guesses its normal form by analogy.
    return any(_in_vocabulary(fold(p.normal_form), frozenset()) for p in morph().parse(low))


def is_known(low: str, extra: frozenset[str] = frozenset()) -> bool:
    """Whether a folded word is spelled correctly. `extra` holds the clinic's folded words."""
    if low in extra or _known(low) or _in_vocabulary(low, extra):
        return True
    if extra and not extra.isdisjoint(lemmas(low)):
        return True
    if "-" in low:
        parts = [p for p in low.split("-") if p]
        return bool(parts) and all(is_known(p, extra) for p in parts)
    return False


_NOT_RUSSIAN = re.compile(r"[a-z\d]|^[^а-яё]*$")


@lru_cache(maxsize=CACHE_WORDS)
def _skip(text: str) -> bool:
    """Not checked: one letter, Latin or digits, no Cyrillic, an abbreviation (МРТ, ОПТГ)."""
    return (len(text) < 2 or _NOT_RUSSIAN.search(fold(text)) is not None
            or (text.isupper() and len(text) <= 6))


def _starts_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"«(—–-")
    return not before or before[-1] in ".!?…\n:"


def _quoted(text: str, start: int) -> bool:
    """Inside «…» or "…": the clinic's or a brand's name."""
    return text[:start].count("«") > text[:start].count("»") or text[:start].count('"') % 2 == 1


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _misspells_clinic_word(low: str, extra: frozenset[str]) -> bool:
    """"Гвоздескому" when the clinic's dictionary has "Гвоздецкий": near, but not the same
    (compared by normal forms, which pymorphy3 guesses for unknown words too)."""
    return len(low) > 4 and any(
        _distance(form, known, 2) <= 2 for form in lemmas(low) for known in extra
        if len(known) > 4 and known[0] == form[0])


def mistakes(text: str, extra: frozenset[str] = frozenset()) -> list[Word]:
    """The misspelled words of a text, in order."""
    clean = _URL.sub(lambda m: " " * len(m.group()), text)
    out = []
    for word in words(clean):
        if _skip(word.text) or is_known(word.low, extra):
            continue
        if (word.low not in word_list("nonstandard") and word.text[0].isupper()
                and (_quoted(clean, word.start) or not _starts_sentence(clean, word.start))
                and not _misspells_clinic_word(word.low, extra)):
            continue  # a name the dictionaries lack: a surname, a clinic, a brand
        out.append(word)
    return out


_VOWELS = frozenset("аеёиоуыэюя")


def _edit_cost(word: str, candidate: str) -> int:
    """How likely a typo: a vowel written for another (извените) is the commonest, then a letter
    missed or added (здраствуйте), then two swapped, then any other letter."""
    if len(word) == len(candidate):
        diff = [(a, b) for a, b in zip(word, candidate, strict=True) if a != b]
        if len(diff) == 1:
            a, b = diff[0]
            return 0 if a in _VOWELS and b in _VOWELS else 3
        return 2
    return 1


@lru_cache(maxsize=4096)
def suggestions(low: str, limit: int = 3) -> tuple[str, ...]:
    """Known words one edit away (a letter missed, added, changed or two swapped), likeliest
    first."""
    splits = [(low[:i], low[i:]) for i in range(len(low) + 1)]
    candidates = {a + b[1:] for a, b in splits if b}
    candidates |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    candidates |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    candidates |= {a + c + b for a, b in splits for c in _ALPHABET}
    vocabulary = word_list("vocabulary")
    known = [c for c in candidates if c != low and c not in word_list("nonstandard")
             and (c in vocabulary or morph().word_is_known(c))]
    known.sort(key=lambda c: (c[:1] != low[:1], _edit_cost(low, c), c))
    return tuple(known[:limit])
