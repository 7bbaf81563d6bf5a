"""The values the engine reads and returns. Plain dataclasses: no Django, no I/O."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from clinic.hours import ClinicHours

Author = Literal["patient", "admin", "auto"]
Kind = Literal["text", "promise", "note"]
Result = Literal["pass", "fail", "na"]


@dataclass(frozen=True)
class Rules:
    """The clinic settings that items read. Defaults are the standard's (revision 1.2)."""

    hours: ClinicHours
    first_reply_minutes: float = 5
    reply_minutes: float = 5
    promise_minutes: float = 15
    name_style: Literal["first_name", "name_patronymic"] = "first_name"
    emoji_limit: int = 2
    stop_words: tuple[str, ...] = ()
    dictionary: tuple[str, ...] = ()


@dataclass(frozen=True)
class Message:
    author: Author
    at: datetime
    text: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Outcome:
    """How the administrator closed the dialogue.

    `about_visit` False says the request was not about a visit (a certificate, documents);
    None leaves it to the engine to read from the text.
    """

    booked: bool = False
    next_step: str | None = None
    about_visit: bool | None = None


@dataclass(frozen=True)
class Dialogue:
    rules: Rules
    messages: tuple[Message, ...]
    outcome: Outcome = Outcome()
    patient_first_name: str | None = None
    patient_patronymic: str | None = None
    patient_last_name: str | None = None
    admin_name: str | None = None


@dataclass(frozen=True)
class Verdict:
    """One item's result: evidence holds indexes into `Dialogue.messages` (0-based)."""

    result: Result
    evidence: tuple[int, ...] = ()
    why: str = ""  # an English template, translated by the product
    params: dict[str, object] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """The reason in English; a list value (the parts a reply lacks) reads "a, b"."""
        return self.why.format(**{key: ", ".join(map(str, value)) if isinstance(value, list)
                                  else value for key, value in self.params.items()})


@dataclass(frozen=True)
class Item:
    """A checklist item as a revision configures it."""

    code: str
    weight: float = 1.0
    enabled: bool = True
    critical: bool = False


@dataclass(frozen=True)
class Scored:
    verdicts: dict[str, Verdict]
    score: float | None
    critical_failed: tuple[str, ...] = field(default=())
