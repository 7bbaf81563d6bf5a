"""Scoring: run every enabled item and weigh the verdicts."""

from collections.abc import Iterable

from qa.checklist.dialogue import Dialogue, Item, Scored, Verdict
from qa.checklist.items import ITEMS
from qa.checklist.reading import Reading
from qa.checklist.revision import CODES

ENGINE_VERSION = "1.0.0"
"""Stored on each scorecard; raise it whenever a verdict may change for the same dialogue."""

DEFAULT = tuple(Item(code) for code in CODES)


def score(dialogue: Dialogue, items: Iterable[Item] = DEFAULT) -> Scored:
    """Score = passed weight / applicable weight × 100; a failed critical item makes it 0.
    None when no enabled item applies."""
    reading = Reading(dialogue)
    verdicts: dict[str, Verdict] = {}
    passed = applicable = 0.0
    critical: list[str] = []
    for item in items:
        if not item.enabled:
            continue
        v = ITEMS[item.code](reading)
        verdicts[item.code] = v
        if v.result == "na":
            continue
        applicable += item.weight
        if v.result == "pass":
            passed += item.weight
        elif item.critical:
            critical.append(item.code)
    if critical:
        total = 0.0
    elif applicable:
        total = round(100 * passed / applicable, 1)
    else:
        total = None
    return Scored(verdicts, total, tuple(critical))
