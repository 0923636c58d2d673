"""Worked examples: small calls as readable data files, each with its expected allocation.

Each folder under tests/examples/ is a project root of its own (params/<year>.yaml, data/<year>/...)
with a README line saying what it shows, and either `expected.csv` (id, granted_kr, reason_code, and
optionally applicants as resolved that year) or `expected_error.txt` ("<ErrorClass>: <text in message>").
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fou_review import errors
from fou_review.core.load import load_year
from fou_review.core.pipeline import review_inputs

EXAMPLES = Path(__file__).parent / "examples"
NAMES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())


def _year(example: Path) -> int:
    (params,) = (example / "params").glob("*.yaml")
    return int(params.stem)


def test_every_example_is_documented_and_has_an_expectation() -> None:
    assert len(NAMES) >= 10
    for name in NAMES:
        folder = EXAMPLES / name
        assert (folder / "README.md").read_text(encoding="utf-8").strip(), name
        assert (folder / "expected.csv").exists() != (folder / "expected_error.txt").exists(), name


@pytest.mark.parametrize("name", NAMES)
def test_example(name: str) -> None:
    folder = EXAMPLES / name
    inputs = load_year(folder, _year(folder))
    error_file = folder / "expected_error.txt"
    if error_file.exists():
        kind, _, text = error_file.read_text(encoding="utf-8").strip().partition(": ")
        with pytest.raises(getattr(errors, kind)) as caught:
            review_inputs(inputs)
        assert text in str(caught.value)
        return
    review = review_inputs(inputs)
    with (folder / "expected.csv").open(encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    decisions = review.decisions.set_index("id")
    assert sorted(decisions.index) == sorted(row["id"] for row in expected)
    for row in expected:
        got = decisions.loc[row["id"]]
        assert (int(got["granted_kr"]), got["reason_code"]) == (int(row["granted_kr"]), row["reason_code"]), row["id"]
        if "applicants" in row:
            assert got["applicants"] == row["applicants"], row["id"]
    assert review.summary.all_met
