"""People's names in any grammatical case, patronymics, and the diminutives patients use."""

from functools import cache, lru_cache

from qa.checklist.text import Word, fold, morph, tags


@lru_cache(maxsize=4096)
def forms(name: str, grammeme: str = "Name") -> frozenset[str]:
    """Every inflected form of a first name (grammeme "Name") or patronymic ("Patr").

    Every parse is taken, not only the first: "Анне" parses first as the indeclinable "Анне".
    Patronymics lemmatise to the masculine, so the forms of both genders are included.
    """
    low = fold(name.strip())
    out = {low}
    for parse in morph().parse(low):
        if grammeme in parse.tag or grammeme == "Surn":
            out.update(fold(f.word) for f in parse.lexeme)
    return frozenset(out)


@cache
def _diminutives() -> dict[str, frozenset[str]]:
    from qa.checklist.lexicon import FOLDER

    table: dict[str, frozenset[str]] = {}
    for line in (FOLDER / "diminutives.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if ":" in line:
            full, short = line.split(":", 1)
            table[fold(full.strip())] = frozenset(fold(s) for s in short.split())
    return table


def diminutives(first_name: str) -> frozenset[str]:
    return _diminutives().get(fold(first_name), frozenset())


def is_name(word: Word) -> set[str]:
    """The first names a capitalised word may be (normal forms), e.g. "Ирины" -> {"ирина"}."""
    if not word.text[:1].isupper():
        return set()
    return {normal for normal, tag in tags(word.low) if "Name" in tag}


def mentions(ws: tuple[Word, ...], accepted: frozenset[str]) -> bool:
    return any(w.low in accepted for w in ws)


def mentions_pair(ws: tuple[Word, ...], first: frozenset[str], second: frozenset[str]) -> bool:
    """The first name directly followed by the patronymic ("Анна Сергеевна", "Анне Сергеевне")."""
    return any(a.low in first and b.low in second for a, b in zip(ws, ws[1:], strict=False))
