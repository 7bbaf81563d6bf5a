"""Properties of the engine that hold for every dialogue."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.checklist.json_io import score_json
from tests.qa.labelled import FILES, load

# Texts that would change verdicts if the engine read them: prices, emoji, stop-words, greetings,
# misspellings, complaints, questions.
NOISE = [
    "Здравствуйте, Анна! Меня зовут Ольга. 5000 руб.",
    "ждите 😀😀😀 извените, кансультация",
    "Записала вас, ждём! Что вас беспокоит?",
    "Почему так долго? Сколько стоит? Вы сами виноваты",
    "Да.",
    "",
]


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(FILES), data=st.data())
def test_an_internal_note_or_an_automatic_message_never_changes_a_verdict(path, data):
    dialogue = load(path)
    before = score_json(dialogue)["items"]
    messages = dialogue["messages"]
    position = data.draw(st.integers(0, len(messages)), label="position")
    at = messages[max(position - 1, 0)]["at"]  # as its neighbour before: order stays valid
    kind, author = data.draw(st.sampled_from([("note", "admin"), ("text", "auto")]),
                             label="kind")
    text = data.draw(st.sampled_from(NOISE), label="text")
    changed = json.loads(json.dumps(dialogue))
    changed["messages"].insert(position, {"from": author, "at": at, "text": text, "kind": kind})
    after = score_json(changed)["items"]

    def back(index: int) -> int:  # evidence indexes after the insertion, as before it
        return index - 1 if index > position else index

    for old, new in zip(before, after, strict=True):
        assert new["result"] == old["result"], (new["code"], new["why"], old["why"])
        assert [back(i) for i in new["evidence"]] == old["evidence"], new["code"]
        assert position not in new["evidence"]
