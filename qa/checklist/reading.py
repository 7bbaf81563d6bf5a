"""How a careful reviewer reads a dialogue: who speaks, which messages form one reply, which
patient messages waited for an answer and for how long, and what became of each promise.

Timing uses clinic.hours, the same arithmetic as the inbox's response timers: a wait is due
`add_working_minutes(hours, arrival, minutes)`, a promise `promise + minutes` of wall-clock time.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache

from clinic.hours import add_working_minutes
from qa.checklist.dialogue import Dialogue, Message
from qa.checklist.lexicon import lexicon, word_list
from qa.checklist.text import Word, has_question, sentences, tags, words


@dataclass(frozen=True)
class Reply:
    """Administrator bubbles in a row (no patient message between them): one reply."""

    indexes: tuple[int, ...]
    texts: tuple[str, ...]
    kinds: tuple[str, ...]
    at: datetime

    @cached_property
    def text(self) -> str:
        return "\n".join(self.texts)

    @cached_property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for text in self.texts for w in words(text))

    @cached_property
    def sentences(self) -> tuple[tuple[str, tuple[Word, ...]], ...]:
        return tuple(s for text in self.texts for s in sentences(text))

    @property
    def only_promise(self) -> bool:
        return all(kind == "promise" for kind in self.kinds)


@dataclass(frozen=True)
class Wait:
    """A patient message that needed an answer, and the clinic message that gave it."""

    start: int
    due: datetime
    answer: int | None
    answered_at: datetime | None
    first: bool

    @property
    def in_time(self) -> bool:
        return self.answered_at is not None and self.answered_at <= self.due


@dataclass(frozen=True)
class Promise:
    index: int
    due: datetime
    answer: int | None
    answered_at: datetime | None

    @property
    def kept(self) -> bool:
        return self.answered_at is not None and self.answered_at <= self.due


_POLITE_IMPERATIVES = frozenset({"извините", "простите", "извини", "прости"})


def _asks_for_something(ws: tuple[Word, ...]) -> bool:
    """An imperative ("запишите", "пришлите", "подскажите"): the patient wants an action."""
    return any(w.low not in _POLITE_IMPERATIVES and any("impr" in tag for _, tag in tags(w.low))
               for w in ws)


@lru_cache(maxsize=16384)
def is_acknowledgement(text: str) -> bool:
    """A message that needs no reply once the clinic has answered: no question, no request,
    and either thanks or goodbye ("Нет, спасибо, сама напишу", "И вам!") or only a short
    agreement or refusal ("Хорошо", "Да, подожду", "Не надо")."""
    if has_question(text):
        return False
    ws = words(text)
    if not ws:
        return not any(c.isdigit() for c in text)  # a sticker or an emoji; "17:00" is an answer
    if _asks_for_something(ws):
        return False
    if ws in lexicon("acknowledgements"):
        return True
    covered = set()
    for match in lexicon("agreements").find(ws):
        covered.update(range(match.start, match.end))
    fillers = word_list("fillers")
    return bool(covered) and all(i in covered or w.low in fillers for i, w in enumerate(ws))


class Reading:
    def __init__(self, dialogue: Dialogue):
        self.dialogue = dialogue
        self.messages = dialogue.messages
        self.rules = dialogue.rules
        self.memo: dict[str, object] = {}  # what several items read, worked out once

    def admin(self, i: int) -> bool:
        m = self.messages[i]
        return m.author == "admin" and m.kind != "note"

    def patient(self, i: int) -> bool:
        return self.messages[i].author == "patient"

    @cached_property
    def replies(self) -> list[Reply]:
        """The clinic's replies in order: notes and automatic messages neither count nor split."""
        groups: list[list[int]] = []
        open_group = False
        for i in range(len(self.messages)):
            if self.patient(i):
                open_group = False
            elif self.admin(i):
                if open_group:
                    groups[-1].append(i)
                else:
                    groups.append([i])
                    open_group = True
        return [Reply(tuple(g), tuple(self.messages[i].text for i in g),
                      tuple(self.messages[i].kind for i in g), self.messages[g[0]].at)
                for g in groups]

    def patient_before(self, reply: Reply) -> list[int]:
        """The patient messages this reply answers: those since the previous reply."""
        out = []
        for i in range(reply.indexes[0] - 1, -1, -1):
            if self.admin(i):
                break
            if self.patient(i):
                out.append(i)
        return out[::-1]

    def _due(self, m: Message, minutes: float) -> datetime:
        return add_working_minutes(self.rules.hours, m.at, minutes)

    def _walk(self) -> tuple[list[Wait], list[Promise]]:
        waits: list[Wait] = []
        promises: list[Promise] = []
        waiting: int | None = None
        pending: list[int] = []  # promises not yet followed by a reply
        covered: int | None = None  # the first patient message sent while a promise was pending
        replied = False

        def wait(start: int, answer: int | None) -> Wait:
            first = not waits
            minutes = self.rules.first_reply_minutes if first else self.rules.reply_minutes
            at = self.messages[answer].at if answer is not None else None
            return Wait(start, self._due(self.messages[start], minutes), answer, at, first)

        for i, m in enumerate(self.messages):
            if self.patient(i):
                if waiting is not None or (replied and is_acknowledgement(m.text)):
                    continue  # already waiting (the due time never moves), or nothing to answer
                if pending:
                    covered = i if covered is None else covered
                else:
                    waiting = i
            elif self.admin(i):
                if waiting is not None:
                    waits.append(wait(waiting, i))
                    waiting = None
                replied = True
                if m.kind == "promise":
                    pending.append(i)
                    continue
                answered = [Promise(p, self._promise_due(p), i, m.at) for p in pending]
                promises.extend(answered)
                # Time covered by a kept promise is excepted; a broken one covers nothing.
                if covered is not None and not all(p.kept for p in answered):
                    waits.append(wait(covered, i))
                pending, covered = [], None
        if covered is not None:
            waiting = covered if waiting is None else waiting
        if waiting is not None:
            waits.append(wait(waiting, None))
        promises.extend(Promise(p, self._promise_due(p), None, None) for p in pending)
        promises.sort(key=lambda p: p.index)
        waits.sort(key=lambda w: w.start)
        return waits, promises

    def _promise_due(self, i: int) -> datetime:
        return self.messages[i].at + timedelta(minutes=self.rules.promise_minutes)

    @cached_property
    def timing(self) -> tuple[list[Wait], list[Promise]]:
        return self._walk()

    @property
    def waits(self) -> list[Wait]:
        return self.timing[0]

    @property
    def promises(self) -> list[Promise]:
        return self.timing[1]
