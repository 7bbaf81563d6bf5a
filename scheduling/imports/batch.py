"""Run a batch of files: every row checked and written in one transaction, all or nothing."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic
from scheduling.imports.kinds import IMPORTERS, Importer, Row
from scheduling.imports.reading import FileError, name_key, table_read
from scheduling.imports.report import Action, FileReport, ImportReport, Issue, RowOutcome

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


@dataclass(frozen=True)
class ImportFile:
    name: str
    data: bytes


def _header_map(importer: type[Importer], header: list[str],
                report: FileReport) -> dict[str, int]:
    """Column key -> its position; records unknown, repeated and missing columns."""
    lookup = {alias: column for column in importer.columns for alias in column.names()}
    positions: dict[str, int] = {}
    titles: dict[str, str] = {}
    for position, title in enumerate(header):
        if not title:
            continue
        column = lookup.get(name_key(title))
        if column is None:
            report.ignored_columns.append(title)
            continue
        if column.key in positions:
            report.issues.append(Issue(1, title, "duplicate_column",
                                       _("This column means the same as “%(other)s”.")
                                       % {"other": titles[column.key]}))
            continue
        positions[column.key] = position
        titles[column.key] = title
    for title in importer.missing_columns(set(positions)):
        report.issues.append(Issue(1, "", "missing_column",
                                   _("The column “%(column)s” is missing.")
                                   % {"column": title}))
    return positions


def _file_import(*, kind: str, file: ImportFile, clinic: Clinic, by: Any | None,
                 now: datetime) -> FileReport:
    importer_class = IMPORTERS[kind]
    report = FileReport(kind=kind, kind_label=importer_class.label, name=file.name)
    if len(file.data) > MAX_BYTES:
        report.issues.append(Issue(0, "", "too_large", _("The file is larger than %(mb)d MB.")
                                   % {"mb": MAX_BYTES // (1024 * 1024)}))
        return report
    try:
        table = table_read(file.data)
    except FileError as error:
        report.issues.append(Issue(0, "", error.code, error.message))
        return report
    report.encoding, report.delimiter = table.encoding, table.delimiter
    positions = _header_map(importer_class, table.header, report)
    if len(table.rows) > MAX_ROWS:
        report.issues.append(Issue(0, "", "too_many_rows",
                                   _("The file has %(rows)d rows; at most %(max)d at a time.")
                                   % {"rows": len(table.rows), "max": MAX_ROWS}))
    if report.issues:
        return report
    headers = {key: table.header[position] for key, position in positions.items()}
    width = len(table.header)
    importer = importer_class(clinic=clinic, by=by, now=now)
    for line, cells in table.rows:
        if any(cells[width:]):
            issue = Issue(line, "", "too_many_cells",
                          _("This row has %(cells)d cells but the header has %(columns)d: "
                            "is a value with the delimiter (“%(delimiter)s”) in it not in "
                            "quotes?") % {"cells": len(cells), "columns": width,
                                          "delimiter": table.delimiter})
            outcome = RowOutcome(line, Action.ERROR, "", issues=[issue])
        else:
            row = Row(line=line, headers=headers, cells={
                key: cells[position] if position < len(cells) else ""
                for key, position in positions.items()})
            outcome = importer.row_import(row)
        report.rows.append(outcome)
        report.issues.extend(outcome.issues)
    importer.finish()
    return report


def csv_import(*, clinic: Clinic, files: Mapping[str, ImportFile], by: Any | None,
               now: datetime, dry_run: bool) -> ImportReport:
    """Import `files` (kind -> file) into `clinic`: doctors, then services, patients and
    appointments, whatever order they are given in, so each may refer to the ones before.

    Every row is checked and written inside one transaction, which is rolled back when any row
    of any file has a problem, or when this is a dry run: the preview is the import itself,
    undone, so it finds exactly what the import would (a booking that overlaps one made ten
    rows earlier, say).
    """
    unknown = set(files) - set(IMPORTERS)
    if unknown:
        raise ValueError(f"unknown kinds of file: {sorted(unknown)}")
    with transaction.atomic():
        reports = [_file_import(kind=kind, file=files[kind], clinic=clinic, by=by, now=now)
                   for kind in IMPORTERS if kind in files]
        ok = all(report.ok for report in reports)
        if dry_run or not ok:
            transaction.set_rollback(True)
    return ImportReport(files=reports, dry_run=dry_run, applied=ok and not dry_run)
