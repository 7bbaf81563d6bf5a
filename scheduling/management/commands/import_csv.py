"""Import doctors, services, patients and appointments from CSV files, all or nothing.

    manage.py import_csv --clinic 3 --kind doctors doctors.csv --dry-run
    manage.py import_csv --clinic 3 --doctors d.csv --services s.csv --patients p.csv \
        --appointments a.csv
    manage.py import_csv --sample patients > patients.csv

Several files form one batch, imported in the order doctors, services, patients, appointments
(so appointments may name doctors the same batch creates). Prints what each file would do (or
did) and every problem with its line number; exits 1 when there is any, and then writes nothing.
`-v 2` also lists every row. The format is described in scheduling/imports/__init__.py.
"""

import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clinic import clock
from clinic.models import Clinic
from scheduling.imports import KINDS, ImportFile, ImportReport, csv_import, sample_csv


class Command(BaseCommand):
    help = ("Import doctors, services, patients or appointments from CSV files into a clinic: "
            "all or nothing, with a dry run.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", type=int, help="The clinic's id.")
        parser.add_argument("--kind", choices=KINDS, help="What FILE holds.")
        parser.add_argument("file", nargs="?", metavar="FILE",
                            help="With --kind: the CSV file ('-' reads standard input).")
        for kind in KINDS:
            parser.add_argument(f"--{kind}", metavar="FILE", help=f"A CSV file of {kind}.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check every row and show what would change; write nothing.")
        parser.add_argument("--sample", choices=KINDS,
                            help="Print a sample file of this kind (in the current language) "
                                 "and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sample"]:
            today = clock.now().astimezone(ZoneInfo(settings.TIME_ZONE)).date()
            data = sample_csv(kind=options["sample"], language=get_language() or "ru",
                              today=today)
            self.stdout.write(data.decode("utf-8-sig"), ending="")
            return
        files = self._files(options)
        if options["clinic"] is None:
            raise CommandError("--clinic is required: the id of the clinic to import into.")
        clinic = Clinic.objects.filter(pk=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"No clinic with id {options['clinic']}.")
        report = csv_import(clinic=clinic, files=files, by=None, now=clock.now(),
                            dry_run=options["dry_run"])
        self._print(report, verbosity=options["verbosity"])
        if not report.ok:
            raise CommandError(str(_("Problems found: %(count)d. Nothing was imported.")
                                   % {"count": report.issue_count}))
        if report.dry_run:
            self.stdout.write(str(_("Dry run: no problems found, nothing was written.")))
        else:
            self.stdout.write(self.style.SUCCESS(str(_("Imported into %(clinic)s.")
                                                     % {"clinic": clinic.name})))

    def _files(self, options: dict[str, Any]) -> dict[str, ImportFile]:
        paths = {kind: options[kind] for kind in KINDS if options[kind]}
        if options["kind"]:
            if not options["file"]:
                raise CommandError("--kind needs a FILE.")
            if options["kind"] in paths:
                raise CommandError(f"Two files of {options['kind']}.")
            paths[options["kind"]] = options["file"]
        elif options["file"]:
            raise CommandError("Say what FILE holds: --kind doctors|services|patients|"
                               "appointments.")
        if not paths:
            raise CommandError("No files: give --kind KIND FILE, or --doctors FILE etc.")
        files = {}
        for kind, path in paths.items():
            try:
                data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
            except OSError as error:
                raise CommandError(f"Cannot read {path}: {error}") from error
            files[kind] = ImportFile(name=path, data=data)
        return files

    def _print(self, report: ImportReport, *, verbosity: int) -> None:
        for file in report.files:
            summary = file.summary(applied=report.applied)
            self.stdout.write(f"{file.kind_label} ({file.name}): {summary}")
            if file.ignored_columns:
                self.stdout.write("  " + str(_("Ignored columns: %(columns)s")
                                             % {"columns": ", ".join(file.ignored_columns)}))
            if verbosity >= 2:
                for row in file.rows:
                    note = f" ({row.note})" if row.note else ""
                    self.stdout.write(f"  {row.line}: {row.action.value} {row.label}{note}")
            for issue in file.issues:
                where = str(_("line %(line)d") % {"line": issue.line}) if issue.line else ""
                if issue.column:
                    where = f"{where}, «{issue.column}»" if where else f"«{issue.column}»"
                self.stderr.write(f"  {where}: {issue.message}" if where else
                                  f"  {issue.message}")
