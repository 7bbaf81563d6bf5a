"""Phrase lists kept in data files (`lexicons/*.txt`), matched on lemmas.

One phrase per line; `#` starts a comment. A phrase is a sequence of tokens, each of which
matches a word when:
- `word*`  the word starts with `word` (after folding "ё" to "е"),
- `=word`  the word is exactly `word`, not another form of it,
- `..`     any 0 to 3 words,
- `word`   the word or any of its forms (their normal forms meet).
"""

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from qa.checklist.text import Word, fold, lemmas, tags, words

FOLDER = Path(__file__).parent / "lexicons"
GAP = 3
_FUNCTION_WORDS = frozenset({"NPRO", "PREP", "CONJ", "PRCL"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "prefix", "exact", "gap", "lemma"
    value: str
    forms: frozenset[str] = frozenset()

    def matches(self, word: Word) -> bool:
        if self.kind == "prefix":
            return word.low.startswith(self.value)
        if self.kind == "exact":
            return word.low == self.value
        return word.low == self.value or not self.forms.isdisjoint(word.lemmas)


def _token(raw: str) -> _Token:
    raw = fold(raw)
    if raw == "..":
        return _Token("gap", raw)
    if raw.endswith("*"):
        return _Token("prefix", raw[:-1])
    if raw.startswith("="):
        return _Token("exact", raw[1:])
    # Function words match as written: "вам" must not match "вы", nor "вас".
    if all(_FUNCTION_WORDS & set(str(tag).replace(" ", ",").split(","))
           for _, tag in tags(raw)):
        return _Token("exact", raw)
    return _Token("lemma", raw, lemmas(raw))


@dataclass(frozen=True)
class Match:
    phrase: str
    start: int  # index of the first matched word
    end: int  # index after the last


class Lexicon:
    """Phrases indexed by their first token, so a look-up costs a few dictionary hits per word."""

    def __init__(self, name: str, phrases: list[str]):
        self.name = name
        self._by_form: dict[str, list[tuple[str, tuple[_Token, ...]]]] = {}
        self._by_prefix: dict[str, list[tuple[str, tuple[_Token, ...]]]] = {}
        for phrase in phrases:
            tokens = tuple(_token(t) for t in phrase.split())
            head = tokens[0]
            if head.kind == "gap":
                raise ValueError(f"{name}: a phrase cannot start with '..': {phrase!r}")
            entry = (phrase, tokens)
            if head.kind == "prefix":
                self._by_prefix.setdefault(head.value[:2], []).append(entry)
            else:
                for form in {head.value, *head.forms}:
                    self._by_form.setdefault(form, []).append(entry)
        self._heads = frozenset(self._by_form)

    def _candidates(self, word: Word):
        by_form = self._by_form
        hits = [by_form[form] for form in word.lemmas if form in by_form]
        prefixed = self._by_prefix.get(word.low[:2])
        if prefixed:
            hits.append(prefixed)
        if len(hits) < 2:
            return hits[0] if hits else ()
        return dict.fromkeys(entry for entries in hits for entry in entries)

    def _match_at(self, tokens: tuple[_Token, ...], words: tuple[Word, ...], i: int) -> int | None:
        if not tokens:
            return i
        head, rest = tokens[0], tokens[1:]
        if head.kind == "gap":
            for skip in range(GAP + 1):
                if i + skip > len(words):
                    return None
                end = self._match_at(rest, words, i + skip)
                if end is not None:
                    return end
            return None
        if i < len(words) and head.matches(words[i]):
            return self._match_at(rest, words, i + 1)
        return None

    def _scan(self, words: tuple[Word, ...]):
        heads, prefixes = self._heads, self._by_prefix
        for i, word in enumerate(words):
            if heads.isdisjoint(word.lemmas) and word.low[:2] not in prefixes:
                continue  # the common case, decided by one set operation
            for phrase, tokens in self._candidates(word):
                end = self._match_at(tokens, words, i)
                if end is not None:
                    yield Match(phrase, i, end)

    def find(self, words: tuple[Word, ...]) -> list[Match]:
        return list(self._scan(words))

    def first(self, words: tuple[Word, ...]) -> Match | None:
        return next(self._scan(words), None)

    def __contains__(self, words: tuple[Word, ...]) -> bool:
        return self.first(words) is not None


@cache
def lexicon(name: str) -> Lexicon:
    lines = (FOLDER / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    phrases = [line.split("#", 1)[0].strip() for line in lines]
    return Lexicon(name, [p for p in phrases if p])


@lru_cache(maxsize=65536)
def text_has(name: str, text: str) -> bool:
    """Whether a text holds a phrase of the lexicon (cached: items ask the same of a message)."""
    return words(text) in lexicon(name)


@cache
def word_list(name: str) -> frozenset[str]:
    """A data file read as plain folded words (no matching syntax)."""
    lines = (FOLDER / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(fold(w) for line in lines if (w := line.split("#", 1)[0].strip()))
