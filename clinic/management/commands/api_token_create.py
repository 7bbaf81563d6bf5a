"""Make a clinic API token for a script (CI, a migration job) and print only its secret."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic import clock, services
from clinic.models import Clinic


class Command(BaseCommand):
    help = "Create an API token for a clinic and print the secret (shown this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--clinic", type=int, help="The clinic's id.")
        which.add_argument("--clinic-name", help="The clinic's exact name.")
        parser.add_argument("--name", default="script", help="What uses the token.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clinic"] is not None:
            clinic = Clinic.objects.filter(pk=options["clinic"]).first()
        else:
            clinic = Clinic.objects.filter(name=options["clinic_name"]).order_by("pk").first()
        if clinic is None:
            raise CommandError("No such clinic.")
        _token, secret = services.api_token_create(clinic=clinic, name=options["name"],
                                                   created_by=None, now=clock.now())
        self.stdout.write(secret)
