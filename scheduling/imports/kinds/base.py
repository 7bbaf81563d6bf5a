"""What every kind of file shares: its columns, a row's cells and problems, the importer.

An importer reads the clinic's existing rows once when its file starts, then checks and writes
row by row inside the batch's transaction, so a later row (or a later file of the same batch)
sees what an earlier one created. A row with problems writes nothing; the batch rolls back.
Blank cells never erase: on an update only the values a row gives are changed.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic
from scheduling.imports.reading import CellError, name_key
from scheduling.imports.report import Action, Issue, RowOutcome

T = TypeVar("T")


@dataclass(frozen=True)
class Column:
    key: str
    en: str  # the header the English sample file uses
    ru: str  # the header the Russian sample file uses
    help: str | Promise = ""  # shown in the page's column reference; "" = not listed
    aliases: tuple[str, ...] = ()
    required: bool = False

    def names(self) -> set[str]:
        return {name_key(n) for n in (self.key, self.en, self.ru, *self.aliases)}

    @property
    def title(self) -> str:
        return self.en if (get_language() or "").startswith("en") else self.ru


class Row:
    """One data row: its cells by column key, and the problems found in it."""

    def __init__(self, *, line: int, cells: dict[str, str], headers: dict[str, str]) -> None:
        self.line = line
        self.cells = cells
        self.headers = headers  # column key -> the header as written in the file
        self.issues: list[Issue] = []

    def has(self, key: str) -> bool:
        return key in self.headers

    def get(self, key: str) -> str:
        return self.cells.get(key, "")

    def error(self, key: str, code: str, message: str | Promise) -> None:
        self.issues.append(Issue(self.line, self.headers.get(key, ""), code, message))

    def parse(self, key: str, parser: Callable[[str], T]) -> T | None:
        """The cell's value, or None when it is blank or wrong (then the row has an issue)."""
        text = self.get(key)
        if not text:
            return None
        try:
            return parser(text)
        except CellError as error:
            self.error(key, error.code, error.message)
            return None

    def failed(self, label: str) -> RowOutcome:
        return RowOutcome(self.line, Action.ERROR, label, issues=self.issues)


def one_line(text: str) -> str:
    return " ".join(text.split())


def too_long_check(row: Row, key: str, value: str, limit: int) -> None:
    if len(value) > limit:
        row.error(key, "too_long", _("Too long: at most %(limit)d characters.")
                  % {"limit": limit})


def by_name(rows: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        found[name_key(row.name)].append(row)
    return found


class Importer:
    kind: ClassVar[str]
    label: ClassVar[Promise]
    columns: ClassVar[tuple[Column, ...]]

    def __init__(self, *, clinic: Clinic, by: Any | None, now: datetime) -> None:
        self.clinic = clinic
        self.by = by
        self.now = now
        self.timezone = ZoneInfo(clinic.timezone)

    @classmethod
    def missing_columns(cls, present: set[str]) -> list[str]:
        """The titles of required columns that the header lacks."""
        return [c.title for c in cls.columns if c.required and c.key not in present]

    def row_import(self, row: Row) -> RowOutcome:
        raise NotImplementedError

    def finish(self) -> None:
        """Called after the last row: write what was kept for a bulk insert."""


