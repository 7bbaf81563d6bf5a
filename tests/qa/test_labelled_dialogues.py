"""Every labelled dialogue is a test: the engine's verdicts match the reviewer's labels.

The labels follow the definitions in PRODUCT.md ("How the items read a dialogue"), written by a
reviewer who did not read the engine.
"""

import pytest

from qa.checklist import CODES
from qa.checklist.json_io import score_json
from tests.qa.labelled import FILES, load


def test_there_are_at_least_sixty_labelled_dialogues_covering_every_item():
    assert len(FILES) >= 60
    seen = {(code, result) for path in FILES for code, result in load(path)["expect"].items()}
    for code in CODES:
        assert {(code, "pass"), (code, "fail")} <= seen, code


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_verdicts_match_the_labels(path):
    data = load(path)
    result = score_json(data)
    got = {item["code"]: item for item in result["items"]}
    wrong = {code: f"expected {want}, got {got[code]['result']}: {got[code]['why']}"
             for code, want in data["expect"].items() if got[code]["result"] != want}
    assert not wrong, wrong
