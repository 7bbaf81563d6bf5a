"""The four kinds of file: their columns, and how each row is checked and written.

An importer reads the clinic's existing rows once when its file starts, then checks and writes
row by row inside the batch's transaction, so a later row (or a later file of the same batch)
sees what an earlier one created. A row with problems writes nothing; the batch rolls back.
Blank cells never erase: on an update only the values a row gives are changed.
"""

from scheduling.imports.kinds.appointments import AppointmentImporter
from scheduling.imports.kinds.base import Column, Importer, Row
from scheduling.imports.kinds.doctors import DoctorImporter
from scheduling.imports.kinds.patients import PatientImporter
from scheduling.imports.kinds.services import ServiceImporter

IMPORTERS: dict[str, type[Importer]] = {
    importer.kind: importer
    for importer in (DoctorImporter, ServiceImporter, PatientImporter, AppointmentImporter)
}
"""In the order a batch runs them: each kind may refer to the ones before it."""

__all__ = ["IMPORTERS", "Column", "Importer", "Row"]
