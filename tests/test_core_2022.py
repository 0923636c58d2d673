"""The embedded 2022 call: `fou-review allocate 2022 --csv` reproduces the published tables.

The published tables are copied under tests/reference/ from the decision document's complete
(second) tables; the test compares them row by row with what the command writes.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

REFERENCE = {"LUM": "2022_lum_granted.csv", "MUL": "2022_mul_granted.csv"}
TITLE_COLUMN = {"LUM": "projekt", "MUL": "studiebesok_till_ort"}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def fou_review_command() -> list[str]:
    """The installed console script beside the running interpreter, else `python -m fou_review`."""
    script = Path(sys.executable).parent / "fou-review"
    return [str(script)] if script.exists() else [sys.executable, "-m", "fou_review"]


@pytest.fixture(scope="module")
def allocated(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], str]:
    out = tmp_path_factory.mktemp("allocate") / "out.csv"
    done = subprocess.run([*fou_review_command(), "--root", str(repo_root), "allocate", "2022", "--csv", str(out)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return _read(out), done.stdout


@pytest.mark.parametrize("fund", ["LUM", "MUL"])
def test_granted_rows_equal_the_published_table_row_by_row(allocated: tuple[list[dict[str, str]], str],
                                                           repo_root: Path, fund: str) -> None:
    rows, _ = allocated
    published = _read(repo_root / "tests" / "reference" / REFERENCE[fund])
    expected = [(r["forvaltning"], r[TITLE_COLUMN[fund]], int(r["summa_kr"])) for r in published]
    got = [(r["applicants"], r["title"], int(r["granted_kr"])) for r in rows
           if r["fund"] == fund and int(r["granted_kr"]) > 0]
    assert got == expected


@pytest.mark.parametrize(("fund", "n", "total"), [("LUM", 8, 3_705_000), ("MUL", 12, 298_030)])
def test_granted_totals(allocated: tuple[list[dict[str, str]], str], fund: str, n: int, total: int) -> None:
    rows, _ = allocated
    granted = [int(r["granted_kr"]) for r in rows if r["fund"] == fund and int(r["granted_kr"]) > 0]
    assert (len(granted), sum(granted)) == (n, total)
    assert all(r["decision"] == "beviljas" for r in rows if r["fund"] == fund and int(r["granted_kr"]) > 0)


def test_received_totals(allocated: tuple[list[dict[str, str]], str]) -> None:
    rows, stdout = allocated
    assert len(rows) == 23
    assert sum(int(r["requested_kr"]) for r in rows) == 4_998_030
    for fund, n, total, districts in (("LUM", 10, 4_650_000, 6), ("MUL", 13, 348_030, 5)):
        mine = [r for r in rows if r["fund"] == fund]
        names = {name for r in mine for name in r["applicants"].split(" & ")}
        assert (len(mine), sum(int(r["requested_kr"]) for r in mine)) == (n, total)
        assert "Socialförvaltningen" in names
        assert len(names - {"Socialförvaltningen"}) == districts, sorted(names)
    assert "4\u00a0998\u00a0030\u00a0kr sökt, 4\u00a0003\u00a0030\u00a0kr föreslås" in stdout
    assert "alla uppfyllda" in stdout


def test_every_row_outside_the_published_tables_is_marked_illustrative(
        allocated: tuple[list[dict[str, str]], str], repo_root: Path) -> None:
    rows, _ = allocated
    published = {(r["forvaltning"], r[TITLE_COLUMN[f]]) for f, name in REFERENCE.items()
                 for r in _read(repo_root / "tests" / "reference" / name)}
    for r in rows:
        in_document = (r["applicants"], r["title"]) in published
        assert r["source"] == ("published" if in_document else "illustrative"), r["id"]
    assert sum(r["source"] == "illustrative" for r in rows) == 3
    for path in sorted((repo_root / "data" / "2022" / "scores").glob("*.csv")):
        assert {r["source"] for r in _read(path)} == {"illustrative"}, path.name


@pytest.mark.parametrize(("app_id", "code", "words"), [
    ("LUM-09", "rejected_cap", "Spånga-Tensta har redan beviljats 2"),  # the joint LUM-06 counts for it
    ("LUM-10", "rejected_budget", "återstående budget 295\u00a0000\u00a0kr räcker inte"),
    ("MUL-13", "excluded_purpose", "inte för ändamålet ”konferens”"),
])
def test_illustrative_rows_show_the_rules(allocated: tuple[list[dict[str, str]], str], app_id: str, code: str,
                                          words: str) -> None:
    rows, _ = allocated
    row = next(r for r in rows if r["id"] == app_id)
    assert (row["granted_kr"], row["decision"], row["reason_code"]) == ("0", "avslås", code)
    assert words in row["reason"]
