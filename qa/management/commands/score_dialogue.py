"""Score dialogues in the engine's JSON format (see qa/checklist/json_io.py and the README)."""

import json
import sys
from typing import IO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qa.checklist.json_io import DialogueError, score_json


def _dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False)


class Command(BaseCommand):
    help = ("Score a dialogue (JSON) against the default checklist 1.2 and print the scorecard as "
            "JSON. With --jsonl, score one dialogue per line and print one result per line.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="a JSON file, or - for standard input")
        parser.add_argument("--jsonl", metavar="FILE",
                            help="a file with one JSON dialogue per line, or - for standard input")

    def handle(self, *args, file: str | None = None, jsonl: str | None = None, **options) -> None:
        if (file is None) == (jsonl is None):
            raise CommandError("give either FILE or --jsonl FILE (- reads standard input)")
        source = jsonl if jsonl is not None else file
        try:
            stream = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"{source}: {exc.strerror}") from None
        with stream:
            if jsonl is not None:
                failed = self._lines(stream)
                if failed:
                    raise CommandError(f"{failed} line(s) could not be scored", returncode=1)
            else:
                self._one(stream, source)

    def _one(self, stream: IO[str], source: str) -> None:
        try:
            data = json.load(stream)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{source}: invalid JSON at line {exc.lineno}, column "
                               f"{exc.colno}: {exc.msg}") from None
        try:
            self.stdout.write(_dumps(score_json(data)))
        except DialogueError as exc:
            raise CommandError(f"{source}: {exc}") from None

    def _lines(self, stream: IO[str]) -> int:
        failed = 0
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                result = score_json(json.loads(line))
            except json.JSONDecodeError as exc:
                result = {"line": number, "error": f"invalid JSON at column {exc.colno}: "
                                                   f"{exc.msg}"}
            except DialogueError as exc:
                result = {"line": number, "error": str(exc)}
            if "error" in result:
                failed += 1
                self.stderr.write(f"line {number}: {result['error']}")
            self.stdout.write(_dumps(result))
        return failed
