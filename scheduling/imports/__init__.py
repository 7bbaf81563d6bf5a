"""CSV import for onboarding a clinic: doctors, services, patients and appointments.

Files
    A header row is required; columns may come in any order and are recognised by their English
    or Russian names (case, "ё", "_" and "-" do not matter: "Телефон", "phone", "Patient phone");
    unknown columns are listed and ignored. UTF-8 with or without a BOM, UTF-16 with a BOM, or
    Windows-1251 (Russian Excel's "CSV"); the delimiter (`;`, `,` or tab) is the one the header
    uses. Blank rows are skipped. Line numbers are the file's lines (the header is line 1).

Kinds (the columns are in `kinds/`; the owner page lists them and offers sample files)
    doctors       matched by name: created, or updated (specialties, active, weekly hours).
    services      matched by name: created (duration and price needed), or updated; a price
                  is "5000" or a range "5000-8000"; doctors by name.
    patients      the phone is required and normalised to E.164. A row updates the patient
                  with this phone whose first and last names agree with the row's (a blank name
                  agrees with anything); otherwise it is a new patient sharing the phone.
    appointments  patient by phone (and name when several share it), doctor and service by
                  name, start in the clinic's local time. Future visits go through
                  `appointment_book` (schedule, service, no overlap); past ones are history
                  (completed, no-show) checked for overlap; an identical one is skipped.

On an update only the cells a row fills change anything: a blank cell never erases (the
weekly hours of a doctor are the exception: given, they are the whole week). Re-importing a
file changes nothing and reports every row as skipped.

All or nothing
    `csv_import` runs a batch (any of the four kinds, always in the order above, so appointments
    may refer to doctors created by the same batch) in one transaction, rolled back when any row
    has a problem or on a dry run. The preview is that dry run.
"""

from scheduling.imports.batch import MAX_BYTES, MAX_ROWS, ImportFile, csv_import
from scheduling.imports.kinds import IMPORTERS, Column
from scheduling.imports.report import Action, FileReport, ImportReport, Issue, RowOutcome
from scheduling.imports.samples import sample_csv

KINDS = tuple(IMPORTERS)

__all__ = [
    "IMPORTERS",
    "KINDS",
    "MAX_BYTES",
    "MAX_ROWS",
    "Action",
    "Column",
    "FileReport",
    "ImportFile",
    "ImportReport",
    "Issue",
    "RowOutcome",
    "csv_import",
    "sample_csv",
]
