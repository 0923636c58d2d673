"""The record's open data (data/): a valid Frictionless Data Package and a valid 360Giving file."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from frictionless import validate
from jsonschema import Draft202012Validator

from fou_review.core.pipeline import Review, review_year
from fou_review.record.open_data import (
    GRANTS_FILE,
    check_grants,
    grants,
    open_data_files,
    schema_360giving,
)

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2022


@pytest.fixture(scope="module")
def review() -> Review:
    return review_year(ROOT, YEAR)


def _write(files: dict[str, bytes], folder: Path) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder / "data" / "datapackage.json"


def _errors(package: Path) -> list[str]:
    report = validate(str(package))
    return [f"{task.name}: {e.type}: {e.message}" for task in report.tasks for e in task.errors] + \
        [e.message for e in report.errors]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_package_validates(review: Review, lang: str, tmp_path: Path) -> None:
    files = open_data_files(review, lang)
    assert sorted(files) == ["data/README.md", "data/administrations.csv", "data/datapackage.json",
                             "data/decisions.csv", "data/funds.csv", "data/grants-360giving.json"]
    package = _write(files, tmp_path)
    assert _errors(package) == []
    meta = json.loads(files["data/datapackage.json"])
    assert [r["name"] for r in meta["resources"]] == ["decisions", "funds", "administrations", "grants-360giving"]
    for resource in meta["resources"]:
        assert resource["hash"].startswith("sha256:") and len(resource["hash"]) == 7 + 64
        assert resource["bytes"] == len(files["data/" + resource["path"]])
    word = {"sv": "Ett beslut per ansökan", "en": "One decision per application"}[lang]
    assert meta["resources"][0]["description"].startswith(word)


def test_a_changed_file_fails_its_hash_and_a_broken_cell_its_schema(review: Review, tmp_path: Path) -> None:
    files = open_data_files(review, "sv")
    changed = dict(files)
    changed["data/funds.csv"] = files["data/funds.csv"].replace(b"4000000", b"4000001")
    assert any("hash-count" in e for e in _errors(_write(changed, tmp_path / "a")))
    broken = dict(files)
    broken["data/decisions.csv"] = files["data/decisions.csv"].replace(b",granted,granted,", b",granted,maybe,", 1)
    package = json.loads(files["data/datapackage.json"])
    for resource in package["resources"]:  # the hashes updated, so only the schema can object
        if resource["path"] == "decisions.csv":
            import hashlib

            resource["hash"] = "sha256:" + hashlib.sha256(broken["data/decisions.csv"]).hexdigest()
            resource["bytes"] = len(broken["data/decisions.csv"])
    broken["data/datapackage.json"] = json.dumps(package).encode()
    assert any("constraint-error" in e for e in _errors(_write(broken, tmp_path / "b")))


def test_the_follow_up_is_optional(review: Review, tmp_path: Path) -> None:
    followup = pd.DataFrame({"id": ["MUL-01", "LUM-01"], "report_received": [None, dt.date(2023, 1, 31)],
                             "spent_kr": [None, 480000], "repaid_kr": [None, 20000],
                             "status": ["pending", "reported"]})
    files = open_data_files(review, "en", followup)
    assert files["data/followup.csv"] == (b"id,report_received,spent_kr,repaid_kr,status\n"
                                          b"LUM-01,2023-01-31,480000,20000,reported\nMUL-01,,,,pending\n")
    assert _errors(_write(files, tmp_path)) == []
    meta = json.loads(files["data/datapackage.json"])
    assert "followup" in [r["name"] for r in meta["resources"]]
    unknown = followup.assign(id=["MUL-99", "LUM-01"])
    assert any("foreign-key" in e for e in _errors(_write(open_data_files(review, "en", unknown), tmp_path / "x")))


def test_every_grant_follows_360giving(review: Review) -> None:
    files = open_data_files(review, "sv")
    data = json.loads(files[f"data/{GRANTS_FILE}"])
    validator = Draft202012Validator(schema_360giving(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    granted = review.decisions[review.decisions["granted_kr"] > 0]
    assert len(data["grants"]) == len(granted) > 0
    for grant in data["grants"]:
        assert list(validator.iter_errors(grant)) == []
        assert grant["currency"] == "SEK" and grant["amountAwarded"] > 0
        assert set(grant["fouReview"]) >= {"fund", "district", "reasonCode", "illustrative"}
        assert grant["fouReview"]["district"] == [o["name"] for o in grant["recipientOrganization"]]
    assert sum(g["amountAwarded"] for g in data["grants"]) == int(granted["granted_kr"].sum())
    assert schema_360giving()["$id"].endswith("/1.4.3/schema/360-giving-schema.json")


def test_a_broken_grant_is_caught(review: Review) -> None:
    good = grants(review, "sv")
    assert check_grants(good) == []
    bad = copy.deepcopy(good[:2])
    del bad[0]["amountAwarded"]
    bad[1]["awardDate"] = "14 december 2021"
    problems = check_grants(bad)
    assert len(problems) >= 2 and bad[0]["id"] in problems[0]


def test_no_personal_data(review: Review) -> None:
    everything = b"".join(open_data_files(review, lang)[name] for lang in ("sv", "en")
                          for name in open_data_files(review, lang)).decode("utf-8")
    contacts = [c for c in review.inputs.applications["contact_person"].dropna().astype(str) if c]
    assert contacts and not [c for c in contacts if c in everything]
    names = [s.name for s in review.inputs.params.signatories]
    assert not [n for n in names if n and n in everything]
    assert "@" not in everything.replace("=, +, - eller @", "").replace("=, +, - or @", "")


def test_same_review_same_bytes(review: Review) -> None:
    assert open_data_files(review, "sv") == open_data_files(review_year(ROOT, YEAR), "sv")


def test_the_published_package_validates() -> None:
    """`frictionless validate reports/2022/data/datapackage.json` on the committed record."""
    package = ROOT / "reports" / str(YEAR) / "data" / "datapackage.json"
    assert _errors(package) == []
    grants_file = json.loads((package.parent / GRANTS_FILE).read_text("utf-8"))
    validator = Draft202012Validator(schema_360giving(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert grants_file["grants"] and all(not list(validator.iter_errors(g)) for g in grants_file["grants"])
