"""Serve the fake Telegram / WhatsApp APIs in the foreground until SIGINT or SIGTERM."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from inbox.fake_providers import FakeProviders, run_until_signal


class Command(BaseCommand):
    help = ("Run the fake Telegram Bot API + WhatsApp Cloud API server (tests, demo). "
            "The first output line is its base URL.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
        parser.add_argument("--verbose", action="store_true", help="log every request")

    def handle(self, *args: Any, **options: Any) -> None:
        fake = FakeProviders(options["host"], options["port"],
                             verbose=options["verbose"] or None)
        run_until_signal(fake, out=self.stdout)
