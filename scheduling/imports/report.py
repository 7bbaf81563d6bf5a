"""What an import found and did: per file, per row, and every problem with its line number."""

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"
    ERROR = "error"


ACTION_LABELS = {Action.CREATE: _("new"), Action.UPDATE: _("update"), Action.SKIP: _("skip"),
                 Action.ERROR: _("error")}


@dataclass(frozen=True)
class Issue:
    """A problem that stops the import: `line` 1 is the header, 0 the file as a whole."""

    line: int
    column: str  # the column's header as written in the file; "" for a whole row or file
    code: str
    message: str | Promise


@dataclass
class RowOutcome:
    line: int
    action: Action
    label: str  # what the row is: a doctor's name, "01.12 10:30 Петрова — Иванова", …
    note: str = ""  # what changes, or why the row is skipped
    issues: list[Issue] = field(default_factory=list)

    @property
    def action_label(self) -> str | Promise:
        return ACTION_LABELS[self.action]


@dataclass
class FileReport:
    kind: str
    kind_label: str | Promise
    name: str
    rows: list[RowOutcome] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""

    def _count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self._count(Action.CREATE)

    @property
    def updated(self) -> int:
        return self._count(Action.UPDATE)

    @property
    def skipped(self) -> int:
        return self._count(Action.SKIP)

    @property
    def failed(self) -> int:
        return self._count(Action.ERROR)

    @property
    def ok(self) -> bool:
        return not self.issues

    def summary(self, *, applied: bool) -> str:
        """"created: 3, updated: 1, skipped: 2" (a preview: "to create: 3, …")."""
        counts = {"created": self.created, "updated": self.updated, "skipped": self.skipped}
        if applied:
            text = str(_("created: %(created)d, updated: %(updated)d, skipped: %(skipped)d")
                       % counts)
        else:
            text = str(_("to create: %(created)d, to update: %(updated)d, to skip: "
                         "%(skipped)d") % counts)
        if self.failed:
            text += ", " + str(_("rows with problems: %(count)d") % {"count": self.failed})
        return text

    @property
    def preview_summary(self) -> str:
        return self.summary(applied=False)

    @property
    def result_summary(self) -> str:
        return self.summary(applied=True)


@dataclass
class ImportReport:
    files: list[FileReport]
    dry_run: bool
    applied: bool  # written to the database: no errors and not a dry run

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def issue_count(self) -> int:
        return sum(len(f.issues) for f in self.files)
