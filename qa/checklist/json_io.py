"""The engine's JSON format (the `score_dialogue` command): a dialogue in, a scorecard out.

Errors name the field ("messages[3].at: …") so that a person can fix the input.
"""

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clinic.hours import ClinicHours
from qa.checklist.dialogue import Dialogue, Item, Message, Outcome, Rules, Scored
from qa.checklist.engine import DEFAULT, ENGINE_VERSION, score
from qa.checklist.revision import DEFAULT_NUMBER

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS = {"mon": ["09:00", "20:00"], "tue": ["09:00", "20:00"], "wed": ["09:00", "20:00"],
                 "thu": ["09:00", "20:00"], "fri": ["09:00", "20:00"], "sat": ["10:00", "16:00"],
                 "sun": None}
DEFAULT_STOP_WORDS = ("не знаю", "ничем не могу помочь", "это не ко мне", "ждите", "перезвоните",
                      "короче", "типа", "как бы", "вообще-то")
AUTHORS = ("patient", "admin", "auto")
KINDS = ("text", "promise", "note")


class DialogueError(ValueError):
    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field


def _object(value: Any, field: str, required: bool = True) -> dict:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise DialogueError(field, "must be an object" if value is not None else "is missing")
    return value


def _text(value: Any, field: str, *, optional: bool = True) -> str | None:
    if value is None:
        if optional:
            return None
        raise DialogueError(field, "is missing")
    if not isinstance(value, str):
        raise DialogueError(field, "must be a string")
    return value.strip() or None


def _number(value: Any, field: str, default: float, *, minimum: float = 0) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise DialogueError(field, f"must be a number ≥ {minimum}")
    return value


def _words(value: Any, field: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        raise DialogueError(field, "must be a list of strings")
    return tuple(w.strip() for w in value if w.strip())


def _clock(value: Any, field: str) -> time:
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        raise DialogueError(field, f"must be a time like \"09:00\", got {value!r}") from None


def _day(value: Any, field: str) -> tuple[tuple[time, time], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DialogueError(field, "must be [\"09:00\", \"20:00\"], a list of such pairs, or null")
    pairs = [value] if value and all(isinstance(v, str) for v in value) else value
    out = []
    for k, pair in enumerate(pairs):
        if not isinstance(pair, list) or len(pair) != 2:
            raise DialogueError(f"{field}[{k}]", "must be a pair [\"HH:MM\", \"HH:MM\"]")
        out.append((_clock(pair[0], f"{field}[{k}][0]"), _clock(pair[1], f"{field}[{k}][1]")))
    return tuple(out)


def _hours(clinic: dict) -> ClinicHours:
    name = clinic.get("timezone") or "Europe/Moscow"
    try:
        tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise DialogueError("clinic.timezone", f"unknown time zone {name!r}") from None
    given = _object(clinic.get("hours"), "clinic.hours", required=False)
    unknown = set(given) - set(DAYS)
    if unknown:
        raise DialogueError("clinic.hours", f"unknown day {sorted(unknown)[0]!r} (use mon…sun)")
    weekly = tuple(_day(given[d] if d in given else DEFAULT_HOURS[d], f"clinic.hours.{d}")
                   for d in DAYS)
    holidays = clinic.get("holidays") or []
    if not isinstance(holidays, list):
        raise DialogueError("clinic.holidays", "must be a list of dates")
    exceptions = {}
    for k, value in enumerate(holidays):
        try:
            exceptions[date.fromisoformat(value)] = ()
        except (TypeError, ValueError):
            raise DialogueError(f"clinic.holidays[{k}]",
                                f"must be a date like \"2026-01-01\", got {value!r}") from None
    try:
        return ClinicHours(timezone=tz, weekly=weekly, exceptions=exceptions)
    except ValueError as exc:
        raise DialogueError("clinic.hours", str(exc)) from None


def rules_from_json(clinic: dict) -> Rules:
    style = clinic.get("name_style") or "first_name"
    if style not in ("first_name", "name_patronymic"):
        raise DialogueError("clinic.name_style", "must be \"first_name\" or \"name_patronymic\"")
    first = _number(clinic.get("first_reply_minutes"), "clinic.first_reply_minutes", 5)
    return Rules(
        hours=_hours(clinic),
        first_reply_minutes=first,
        reply_minutes=_number(clinic.get("reply_minutes"), "clinic.reply_minutes", first),
        promise_minutes=_number(clinic.get("promise_minutes"), "clinic.promise_minutes", 15),
        name_style=style,
        emoji_limit=int(_number(clinic.get("emoji_limit"), "clinic.emoji_limit", 2)),
        stop_words=_words(clinic.get("stop_words"), "clinic.stop_words", DEFAULT_STOP_WORDS),
        dictionary=_words(clinic.get("dictionary"), "clinic.dictionary", ()),
    )


def _message(value: Any, k: int, previous: datetime | None) -> Message:
    field = f"messages[{k}]"
    m = _object(value, field)
    author = m.get("from")
    if author not in AUTHORS:
        raise DialogueError(f"{field}.from", "is missing" if author is None else
                            f"must be one of {', '.join(AUTHORS)}, got {author!r}")
    kind = m.get("kind") or "text"
    if kind not in KINDS:
        raise DialogueError(f"{field}.kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    raw = m.get("at")
    if raw is None:
        raise DialogueError(f"{field}.at", "is missing")
    try:
        at = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise DialogueError(f"{field}.at", f"is not an ISO 8601 timestamp: {raw!r}") from None
    if at.utcoffset() is None:
        raise DialogueError(f"{field}.at", f"has no UTC offset: {raw!r}")
    if previous is not None and at < previous:
        raise DialogueError(f"{field}.at", f"is earlier than the message before it ({raw})")
    text = m.get("text")
    if text is None:
        raise DialogueError(f"{field}.text", "is missing")
    if not isinstance(text, str):
        raise DialogueError(f"{field}.text", "must be a string")
    return Message(author=author, at=at, text=text, kind=kind)


def dialogue_from_json(data: Any) -> Dialogue:
    d = _object(data, "")
    rules = rules_from_json(_object(d.get("clinic"), "clinic", required=False))
    patient = _object(d.get("patient"), "patient", required=False)
    admin = _object(d.get("admin"), "admin", required=False)
    raw = d.get("messages")
    if not isinstance(raw, list):
        raise DialogueError("messages", "is missing" if raw is None else "must be a list")
    messages: list[Message] = []
    for k, value in enumerate(raw):
        messages.append(_message(value, k, messages[-1].at if messages else None))
    outcome = _object(d.get("outcome"), "outcome", required=False)
    booked = outcome.get("booked", False)
    if not isinstance(booked, bool):
        raise DialogueError("outcome.booked", "must be true or false")
    about = outcome.get("about_visit")
    if about is not None and not isinstance(about, bool):
        raise DialogueError("outcome.about_visit", "must be true, false or null")
    return Dialogue(
        rules=rules,
        messages=tuple(messages),
        outcome=Outcome(booked=booked, next_step=_text(outcome.get("next_step"),
                                                       "outcome.next_step"), about_visit=about),
        patient_first_name=_text(patient.get("first_name"), "patient.first_name"),
        patient_patronymic=_text(patient.get("patronymic"), "patient.patronymic"),
        patient_last_name=_text(patient.get("last_name"), "patient.last_name"),
        admin_name=_text(admin.get("name"), "admin.name"),
    )


def scored_to_json(scored: Scored, *, dialogue_id: Any = None,
                   number: str = DEFAULT_NUMBER) -> dict:
    return {
        "id": dialogue_id,
        "checklist": number,
        "engine": ENGINE_VERSION,
        "score": scored.score,
        "items": [{"code": code, "result": v.result, "evidence": list(v.evidence),
                   "why": v.reason} for code, v in scored.verdicts.items()],
    }


def score_json(data: Any, items: tuple[Item, ...] = DEFAULT) -> dict:
    """Score one decoded JSON dialogue; raises DialogueError on bad input."""
    dialogue_id = data.get("id") if isinstance(data, dict) else None
    return scored_to_json(score(dialogue_from_json(data), items), dialogue_id=dialogue_id)
