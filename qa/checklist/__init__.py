"""The scoring engine: plain Python, no Django. A Dialogue in, a verdict per item out.

    from qa.checklist import score, dialogue_from_json
    scored = score(dialogue_from_json(data))
"""

from qa.checklist.dialogue import Dialogue, Item, Message, Outcome, Rules, Scored, Verdict
from qa.checklist.engine import ENGINE_VERSION, score
from qa.checklist.revision import CODES, DEFAULT_ITEMS, DEFAULT_NUMBER

__all__ = [
    "CODES",
    "DEFAULT_ITEMS",
    "DEFAULT_NUMBER",
    "ENGINE_VERSION",
    "Dialogue",
    "Item",
    "Message",
    "Outcome",
    "Rules",
    "Scored",
    "Verdict",
    "score",
]
