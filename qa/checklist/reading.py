"""How a careful reviewer reads a dialogue: who speaks, which messages form one reply, which
patient messages waited for an answer and for how long, and what became of each promise.

Timing uses clinic.hours, the same arithmetic as the inbox's response timers: a wait is due
`add_working_minutes(hours, arrival, minutes)`, a promise `promise + minutes` of wall-clock time.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from clinic.hours import add_working_minutes
from qa.checklist.dialogue import Dialogue, Message
from qa.checklist.lexicon import lexicon, word_list
from qa.checklist.text import Word, has_question, sentences, words


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


def is_acknowledgement(text: str) -> bool:
    """Only thanks, agreement or goodbye ("Спасибо", "Хорошо", "До свидания"): no question and
    no word outside those phrases."""
    if has_question(text):
        return False
    ws = words(text)
    if not ws:
        return True
    covered = set()
    for match in lexicon("acknowledgements").find(ws):
        covered.update(range(match.start, match.end))
    fillers = word_list("fillers")
    return all(i in covered or w.low in fillers for i, w in enumerate(ws))


class Reading:
    def __init__(self, dialogue: Dialogue):
        self.dialogue = dialogue
        self.messages = dialogue.messages
        self.rules = dialogue.rules

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

    def reply_of(self, i: int) -> Reply:
        return next(r for r in self.replies if i in r.indexes)

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
        replied = False
        for i, m in enumerate(self.messages):
            if self.patient(i):
                if pending or waiting is not None:
                    continue  # covered by the promise's clock, or already waiting
                if replied and is_acknowledgement(m.text):
                    continue
                waiting = i
            elif self.admin(i):
                if waiting is not None:
                    first = not waits
                    minutes = (self.rules.first_reply_minutes if first
                               else self.rules.reply_minutes)
                    waits.append(Wait(waiting, self._due(self.messages[waiting], minutes),
                                      i, m.at, first))
                    waiting = None
                replied = True
                if m.kind == "promise":
                    pending.append(i)
                else:
                    for p in pending:
                        promises.append(Promise(p, self._promise_due(p), i, m.at))
                    pending = []
        if waiting is not None:
            first = not waits
            minutes = self.rules.first_reply_minutes if first else self.rules.reply_minutes
            waits.append(Wait(waiting, self._due(self.messages[waiting], minutes),
                              None, None, first))
        promises.extend(Promise(p, self._promise_due(p), None, None) for p in pending)
        promises.sort(key=lambda p: p.index)
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
