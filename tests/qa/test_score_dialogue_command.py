"""The score_dialogue command: the engine's JSON interface for other tools."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from qa.checklist import CODES

ROOT = Path(__file__).resolve().parents[2]

GOOD = {
    "id": "good",
    "clinic": {"timezone": "Europe/Moscow"},
    "patient": {"first_name": "Анна", "patronymic": None, "last_name": None},
    "admin": {"name": "Ольга"},
    "messages": [
        {"from": "patient", "at": "2026-03-10T10:00:00+03:00",
         "text": "Здравствуйте! Сколько стоит чистка?", "kind": "text"},
        {"from": "admin", "at": "2026-03-10T10:02:00+03:00",
         "text": "Анна, здравствуйте! Меня зовут Ольга. Профессиональная гигиена стоит 5 500 ₽, "
                 "в неё входит Air Flow. Записать вас на четверг?", "kind": "text"},
    ],
    "outcome": {"booked": False, "next_step": None},
}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("score_dialogue", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_scores_one_dialogue_and_prints_every_item(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(GOOD, ensure_ascii=False), encoding="utf-8")
    result = json.loads(run(str(path)))
    assert result["id"] == "good"
    assert result["checklist"] == "1.2"
    assert result["engine"]
    assert [item["code"] for item in result["items"]] == list(CODES)
    first = result["items"][0]
    assert first == {"code": "first_reply_time", "result": "pass", "evidence": [0, 1],
                     "why": "First reply in 2 working min (limit 5)."}
    assert isinstance(result["score"], float)


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.pop("messages"), "messages: is missing"),
    (lambda d: d["messages"][1].pop("at"), "messages[1].at: is missing"),
    (lambda d: d["messages"][0].update(at="2026-03-10T10:00:00"), "messages[0].at: has no UTC"),
    (lambda d: d["messages"][1].update(at="2026-03-10T09:00:00+03:00"),
     "messages[1].at: is earlier than the message before it"),
    (lambda d: d["messages"][0].update({"from": "doctor"}), "messages[0].from: must be one of"),
    (lambda d: d["clinic"].update(timezone="Mars/Olympus"), "clinic.timezone: unknown"),
    (lambda d: d["clinic"].update(hours={"mon": ["9", "20:00"]}), "clinic.hours.mon[0][0]"),
])
def test_bad_input_names_the_field_and_fails(tmp_path, change, field):
    data = json.loads(json.dumps(GOOD))
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match=field.replace("[", r"\[").replace("]", r"\]")):
        run(str(path))


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"messages": [\n  {"from": "patient",,}\n]}', encoding="utf-8")
    with pytest.raises(CommandError, match="invalid JSON at line 2"):
        run(str(path))


def test_jsonl_scores_the_other_lines_and_reports_the_bad_one(tmp_path):
    bad = json.loads(json.dumps(GOOD))
    bad["messages"][0]["at"] = "yesterday"
    lines = [json.dumps(GOOD, ensure_ascii=False), "{not json", json.dumps(bad),
             json.dumps({**GOOD, "id": "third"}, ensure_ascii=False)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("score_dialogue", "--jsonl", str(path), stdout=out, stderr=io.StringIO())
    assert raised.value.returncode == 1
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r.get("id") for r in results] == ["good", None, None, "third"]
    assert results[1]["line"] == 2 and "invalid JSON" in results[1]["error"]
    assert results[2] == {"line": 3, "error": "messages[0].at: is not an ISO 8601 timestamp: "
                                              "'yesterday'"}


def test_the_command_reads_standard_input_and_exits_non_zero_on_a_bad_line():
    lines = json.dumps(GOOD, ensure_ascii=False) + "\n" + '{"messages": 3}\n'
    done = subprocess.run(
        [sys.executable, "manage.py", "score_dialogue", "--jsonl", "-"], cwd=ROOT, input=lines,
        capture_output=True, text=True, env={"DEBUG": "1", "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert out[0]["id"] == "good" and len(out[0]["items"]) == 15
    assert out[1] == {"line": 2, "error": "messages: must be a list"}
    assert "line 2: messages: must be a list" in done.stderr


def test_a_single_dialogue_on_standard_input():
    done = subprocess.run(
        [sys.executable, "manage.py", "score_dialogue", "-"], cwd=ROOT,
        input=json.dumps(GOOD, ensure_ascii=False), capture_output=True, text=True,
        env={"DEBUG": "1", "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == "good"
