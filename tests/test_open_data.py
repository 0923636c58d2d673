"""The record's open data (data/): a valid Frictionless Data Package and a valid 360Giving file."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from frictionless import validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from fou_review.core.pipeline import Review, review_year
from fou_review.errors import InputError
from fou_review.record.open_data import (
    GRANTS_FILE,
    _all_valid,
    _csv,
    _decisions_columns,
    check_grants,
    grants,
    open_data_files,
    schema_360giving,
)

ROOT = Path(__file__).resolve().parent.parent
CYCLE = ROOT / "examples" / "cycle"
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
    followup = pd.DataFrame({"id": ["MUL-01", "LUM-01"], "report_due": [dt.date(2023, 3, 31)] * 2,
                             "status": ["not_received", "approved"], "report_received": [None, dt.date(2023, 1, 31)],
                             "spent_kr": [None, 480000], "to_repay_kr": [0, 20000], "repaid_kr": [0, 20000],
                             "repaid_on": [None, dt.date(2023, 2, 10)], "source": ["illustrative"] * 2})
    files = open_data_files(review, "en", followup)
    assert files["data/followup.csv"] == (
        b"id,report_due,status,report_received,spent_kr,to_repay_kr,repaid_kr,repaid_on,source\n"
        b"LUM-01,2023-03-31,approved,2023-01-31,480000,20000,20000,2023-02-10,illustrative\n"
        b"MUL-01,2023-03-31,not_received,,,0,0,,illustrative\n")
    assert _errors(_write(files, tmp_path)) == []
    meta = json.loads(files["data/datapackage.json"])
    assert "followup" in [r["name"] for r in meta["resources"]]
    unknown = followup.assign(id=["MUL-99", "LUM-01"])
    assert any("foreign-key" in e for e in _errors(_write(open_data_files(review, "en", unknown), tmp_path / "x")))
    swedish = followup.assign(status=["ej inkommen", "godkänd"])  # the ledger's words are not the package's codes
    assert any("constraint-error" in e for e in _errors(_write(open_data_files(review, "en", swedish), tmp_path / "y")))


@pytest.fixture(scope="module")
def cycle_2022() -> Review:
    """The real 2022 in examples/cycle, whose follow-up ledger data/2022/followup.csv is filled in."""
    return review_year(CYCLE, YEAR)


def test_a_year_with_a_follow_up_ledger_has_it_checked_and_read_as_an_input(cycle_2022: Review) -> None:
    assert cycle_2022.followup is not None and len(cycle_2022.followup.rows) == 20
    assert CYCLE / "data" / str(YEAR) / "followup.csv" in cycle_2022.inputs.files  # hashed in the manifest
    assert review_year(ROOT, YEAR).followup is None  # the project's 2022 has no ledger


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_run_publishes_the_follow_up_ledger_and_frictionless_validates_it(cycle_2022: Review, lang: str,
                                                                              tmp_path: Path) -> None:
    from fou_review.yearly.run_files import run_files

    files = run_files(cycle_2022, {"inputs": []}, lang)
    rows = files["data/followup.csv"].decode("utf-8").splitlines()
    assert rows[0] == "id,report_due,status,report_received,spent_kr,to_repay_kr,repaid_kr,repaid_on,source"
    assert [r.split(",")[0] for r in rows[1:]] == [f"LUM-{i:02}" for i in range(1, 9)] + [
        f"MUL-{i:02}" for i in range(1, 13)]
    assert "LUM-03,2023-03-31,not_approved,2023-02-15,500000,0,0,,illustrative" in rows
    assert "LUM-07,2023-03-31,not_received,,,0,0,,illustrative" in rows
    assert "MUL-11,2023-03-31,approved,2023-02-15,20000,5000,5000,2023-06-01,illustrative" in rows
    package = _write({k: v for k, v in files.items() if k.startswith("data/")}, tmp_path)
    meta = json.loads(package.read_bytes())
    assert [r["name"] for r in meta["resources"]] == ["decisions", "funds", "administrations", "followup",
                                                      "grants-360giving"]
    readme = files["data/README.md"].decode("utf-8")
    assert "`followup.csv`" in readme and "followup.csv is added" not in readme
    assert "När den finns läggs followup.csv till" not in readme
    done = subprocess.run([str(Path(sys.executable).parent / "frictionless"), "validate", str(package)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "followup.csv" in done.stdout


def test_a_ledger_that_disagrees_with_the_grants_stops_the_review(tmp_path: Path) -> None:
    root = tmp_path / "cycle"
    shutil.copytree(CYCLE, root, ignore=shutil.ignore_patterns("reports"))
    ledger = root / "data" / str(YEAR) / "followup.csv"
    ledger.write_text(ledger.read_text(encoding="utf-8").replace(",MUL,Farsta,\"Oslo, Norge. NAV\",25000,",
                                                                 ",MUL,Farsta,\"Oslo, Norge. NAV\",25001,", 1),
                      encoding="utf-8")
    with pytest.raises(InputError) as caught:
        review_year(root, YEAR)
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column) == (f"data/{YEAR}/followup.csv", 15, "granted_kr")


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


@pytest.mark.parametrize(("key", "value"), [
    ("title", 5), ("title", None), ("id", ["x"]), ("description", {"a": "b"}), ("amountAwarded", "100"),
    ("amountAwarded", True), ("amountAppliedFor", None), ("currency", "XXX"), ("awardDate", "2021-13-01"),
    ("fromOpenCall", "yes"), ("recipientOrganization", []), ("recipientOrganization", [{"id": "x"}]),
    ("recipientOrganization", [{"id": "x", "name": 3}]), ("fundingOrganization", "x"), ("grantProgramme", [1]),
    ("amountAwarded", 1.5), ("title", ""),
    # inside the lists: each keyword of the items' schemas (type lists, required, properties, a $ref in a $ref)
    ("recipientOrganization", ({"id": "x", "name": "y"},)), ("recipientOrganization", {"id": "x", "name": "y"}),
    ("recipientOrganization", [{"id": "x", "name": "y"}, 5]), ("recipientOrganization", [{"name": "y"}]),
    ("recipientOrganization", [{"id": "x", "name": "y", "extra": [1]}]),
    ("recipientOrganization", [{"id": "x", "name": "y", "organisationType": None}]),
    ("recipientOrganization", [{"id": "x", "name": "y", "organisationType": 5}]),
    ("recipientOrganization", [{"id": "x", "name": "y", "location": [{"name": None, "id": "z"}]}]),
    ("recipientOrganization", [{"id": "x", "name": "y", "location": [{"name": 5}]}]),
    ("recipientOrganization", [{"id": "x", "name": "y", "location": [{"countryCode": "XX"}]}]),
    ("recipientOrganization", [{"id": "x", "name": "y", "location": {"name": "z"}}]),
    ("recipientOrganization", [{"id": "x", "name": "y", "dateModified": "yesterday"}]),
    ("recipientOrganization", [{"id": "x", "name": "y", "url": "https://example.org/a"}]),
    ("fundingOrganization", [{"id": "x", "name": "y", "department": 1}]), ("fundingOrganization", []),
    ("grantProgramme", []), ("grantProgramme", [{"code": "x", "url": None}]), ("grantProgramme", [{"code": 1}]),
    ("plannedDates", [{"startDate": "2021-13"}]), ("plannedDates", [{"duration": -1}]), ("plannedDates", [{}]),
    ("beneficiaryLocation", [{"name": "x"}, {"id": 1}]), ("classifications", [{"code": "a", "url": None}]),
    ("commitmentTransaction", [{"currency": "SEK", "value": 1}]), ("commitmentTransaction", [{"currency": "XXX"}]),
    ("relatedActivity", ["a", 1]), ("dataSource", None), ("dataSource", 5),
    ("recipientIndividual", {"id": "x", "name": "y"}), ("toIndividualsDetails", {"primaryGrantReason": 1})])
def test_the_quick_check_agrees_with_the_schema(review: Review, key: str, value: object) -> None:
    """`check_grants` (each distinct list or dict once, a schema of a few keywords read by them, any other by
    the validator) finds a grant invalid exactly when the validator does, whichever of the grants holds the
    value; its quick reading alone finds all of them valid exactly when the validator does."""
    validator = Draft202012Validator(schema_360giving(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    for position in (0, -1):
        items = copy.deepcopy(grants(review, "sv"))
        items[position][key] = value
        expected = [str(g["id"]) for g in items if list(validator.iter_errors(g))]
        assert sorted({p.split(": ")[0] for p in check_grants(items)}) == expected
        assert _all_valid(validator, items) == (not expected)  # the quick reading itself, both ways


def old_csv(columns: list[str], rows: list[list[object]]) -> bytes:
    """`_csv` as it was, row by row (the reference of the column-wise one)."""
    import csv
    import io

    from fou_review.record.decisions_file import neutralise

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else str(neutralise(v)) if isinstance(v, str) else str(v) for v in row])
    return buf.getvalue().encode("utf-8")


class _Text(str):
    def __str__(self) -> str:
        return "other"


class _Whole(int):
    def __str__(self) -> str:
        return "other"


_TEXTS = st.one_of(st.text(), st.sampled_from(["", " ", "=1+1", "+46", "-x", "@a", "\tb", "\rc", "a,b", 'say "hi"',
                                               "two\nlines", "\r\n", "åäö"]))
_CELLS = {
    "int": st.integers(),
    "int or None": st.one_of(st.integers(), st.none()),
    "str": _TEXTS,
    "any": st.one_of(_TEXTS, st.none(), st.integers(), st.booleans(), st.floats(),
                     st.sampled_from([_Text("=x"), _Text("y"), _Whole(3), np.int64(4), np.float64(1.5), 2.5,
                                      dt.date(2022, 1, 2), pd.NA])),
}


@st.composite
def _table(draw: st.DrawFn) -> list[list[object]]:
    kinds = draw(st.lists(st.sampled_from(sorted(_CELLS)), min_size=1, max_size=4))
    n = draw(st.integers(0, 6))
    return [[draw(_CELLS[kind]) for kind in kinds] for _ in range(n)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_table())
def test_the_csv_writes_each_cell_as_before(rows: list[list[object]]) -> None:
    """Column by column (a column of ints and None as it is, of texts neutralised), the same bytes as row by
    row: texts with formulas, quotes, commas, line breaks; ints, None, bools, floats, subclasses, numpy."""
    columns = [f"c{i}" for i in range(len(rows[0]) if rows else 2)]
    assert _csv(columns, rows) == old_csv(columns, rows)


def old_decisions_rows(review: Review, lang: str) -> list[list[object]]:
    """The rows of `decisions.csv` as they were made, row by row (the reference of `_decisions_columns`)."""
    d = review.decisions
    marks = {str(i): str(v) for i, v in zip(review.inputs.applications["id"],
                                             review.inputs.applications["illustrative_fields"], strict=True)}
    rows: list[list[object]] = []
    for (app_id, fund, applicants, title, requested, granted, decision_en, reason_code, reason, rank, score,
         source) in zip(*(d[c].tolist() for c in ("id", "fund", "applicants", "title", "requested_kr", "granted_kr",
                                                   "decision_en", "reason_code", "reason", "rank", "total_score",
                                                   "source")), strict=True):
        rows.append([app_id, fund, applicants, title, int(requested), int(granted), decision_en, reason_code, reason,
                     None if pd.isna(rank) else int(rank), None if pd.isna(score) else f"{float(score):.2f}",
                     source, marks.get(str(app_id), "")])
    if lang == "en":
        reasons = dict(zip(d["id"].tolist(), d["reason_en"].tolist(), strict=True))
        for row in rows:
            row[8] = reasons[row[0]]
    return rows


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_decisions_columns_are_the_rows_as_before(review: Review, lang: str) -> None:
    rows = old_decisions_rows(review, lang)
    assert [list(row) for row in zip(*_decisions_columns(review, lang), strict=True)] == rows
    assert any(row[9] is None for row in rows) and any(row[9] is not None for row in rows)  # ranks both ways
