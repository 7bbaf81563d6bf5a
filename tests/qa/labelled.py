"""The labelled dialogues in tests/qa/dialogues/ (see its README): files, and their labels."""

import json
from pathlib import Path

FOLDER = Path(__file__).parent / "dialogues"
FILES = sorted(FOLDER.glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
