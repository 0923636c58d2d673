"""One test per realistic bad input: the error names file, row and column and what was expected.

Each case breaks one thing in a scratch copy of the 2022 inputs, then checks (1) the library's
`InputError` and its `Problem` (file, row, column, message), (2) `fou-review allocate`: one line on
stderr, exit code 2, no traceback, and (3) `fou-review validate`: the problem listed, exit code 1.
The CLI runs in-process through `fou_review.cli.main` (tests/test_cli.py runs the real process).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest

from fou_review.cli import main
from fou_review.core.load import load_year
from fou_review.core.pipeline import review_inputs
from fou_review.errors import InputError, Problem

APPS = "data/2022/applications.csv"
PARAMS = "params/2022.yaml"


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(root: Path) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_year(root, 2022)
    return caught.value.problems


def the_problem(found: list[Problem], file: str, row: int | None, column: str | None, *words: str) -> Problem:
    """The one problem at (file, row, column) whose message has every word; fails listing what was found."""
    hits = [p for p in found if (p.file, p.row, p.column) == (file, row, column) and all(w in p.message for w in words)]
    assert len(hits) == 1, [str(p) for p in found]
    return hits[0]


def check_cli(root: Path, problem: Problem, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "beslut.csv"
    assert main(["--root", str(root), "allocate", "2022", "--csv", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("fou-review: ") and str(problem) in lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert not out.exists()
    assert main(["--root", str(root), "validate", "2022"]) == 1
    captured = capsys.readouterr()
    assert str(problem) in captured.err.splitlines()
    assert "Traceback" not in captured.err + captured.out


def rewrite_applications(root: Path, change: dict[str, dict[str, str]] | None = None,
                         drop_column: str | None = None) -> None:
    path = root / APPS
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in rows[0] if c != drop_column]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row.update((change or {}).get(row["id"], {}))
        writer.writerow(row)
    path.write_text(buf.getvalue(), encoding="utf-8")


# --- applications ------------------------------------------------------------------------------------------------

def test_missing_column(year_2022_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rewrite_applications(year_2022_copy, drop_column="received")
    p = the_problem(problems(year_2022_copy), APPS, 1, "received", "kolumnen saknas", "förväntade kolumnerna")
    check_cli(year_2022_copy, p, capsys, tmp_path)


@pytest.mark.parametrize("amount", ["12,5", "abc", "500 000,00", "5e5"])
def test_amount_not_whole_kronor(year_2022_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                 amount: str) -> None:
    rewrite_applications(year_2022_copy, {"LUM-02": {"requested_kr": amount}})
    p = the_problem(problems(year_2022_copy), APPS, 3, "requested_kr", "förväntade ett helt antal kronor",
                    repr(amount))
    check_cli(year_2022_copy, p, capsys, tmp_path)


@pytest.mark.parametrize("amount", ["-500000", "0"])
def test_amount_not_positive(year_2022_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                             amount: str) -> None:
    rewrite_applications(year_2022_copy, {"MUL-01": {"requested_kr": amount}})
    p = the_problem(problems(year_2022_copy), APPS, 12, "requested_kr", "större än noll", repr(amount))
    check_cli(year_2022_copy, p, capsys, tmp_path)


def test_whole_kronor_written_with_spaces_are_read(year_2022_copy: Path) -> None:
    rewrite_applications(year_2022_copy, {"LUM-01": {"requested_kr": "500 000 kr"}})
    apps = load_year(year_2022_copy, 2022).applications
    assert apps.loc[apps["id"] == "LUM-01", "requested_kr"].item() == 500_000


def test_duplicate_id(year_2022_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rewrite_applications(year_2022_copy, {"LUM-04": {"id": "LUM-03"}})
    p = the_problem(problems(year_2022_copy), APPS, 5, "id", "'LUM-03' finns redan på rad 4")
    check_cli(year_2022_copy, p, capsys, tmp_path)


def test_unknown_applicant_with_a_suggestion(year_2022_copy: Path, capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    rewrite_applications(year_2022_copy, {"MUL-05": {"applicants": "Farstaa"}})
    p = the_problem(problems(year_2022_copy), APPS, 16, "applicants", "okänd förvaltning 'Farstaa'",
                    "menade du 'Farsta'?")
    check_cli(year_2022_copy, p, capsys, tmp_path)


def test_unknown_fund(year_2022_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rewrite_applications(year_2022_copy, {"MUL-02": {"fund": "MULL"}})
    p = the_problem(problems(year_2022_copy), APPS, 13, "fund", "okänd fond 'MULL'", "LUM, MUL")
    check_cli(year_2022_copy, p, capsys, tmp_path)


# --- scores ------------------------------------------------------------------------------------------------------

def test_score_outside_the_scale(year_2022_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    edit(year_2022_copy, "data/2022/scores/ledamot-b.csv", "LUM-01,forebyggande,", "LUM-01,forebyggande,9")
    text = (year_2022_copy / "data/2022/scores/ledamot-b.csv").read_text(encoding="utf-8")
    row = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("LUM-01,forebyggande,"))
    p = the_problem(problems(year_2022_copy), "data/2022/scores/ledamot-b.csv", row, "score",
                    "förväntade ett heltal 1–7")
    check_cli(year_2022_copy, p, capsys, tmp_path)


def test_score_for_an_unknown_application(year_2022_copy: Path, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    edit(year_2022_copy, "data/2022/scores/ledamot-a.csv", "\nLUM-01,strategisk,", "\nLUM-99,strategisk,")
    p = the_problem(problems(year_2022_copy), "data/2022/scores/ledamot-a.csv", 2, "application_id",
                    "okänd ansökan 'LUM-99'")
    check_cli(year_2022_copy, p, capsys, tmp_path)


# --- YAML ----------------------------------------------------------------------------------------------------------

def test_broken_params_yaml(year_2022_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    edit(year_2022_copy, PARAMS, "    window: {opens: 2021-05-05, closes: 2021-09-10}",
         "    window: {opens: 2021-05-05, closes: 2021-09-10")
    line = next(i for i, text in enumerate((year_2022_copy / PARAMS).read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("    window: {opens: 2021-05-05, closes: 2021-09-10"))
    (p,) = problems(year_2022_copy)
    assert p.file == PARAMS and p.message.startswith("ogiltig YAML")
    assert p.row is not None and line <= p.row <= line + 1, p
    check_cli(year_2022_copy, p, capsys, tmp_path)


def test_broken_overrides_yaml(year_2022_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (year_2022_copy / "data/2022/overrides.yaml").write_text(
        "overrides:\n  - id: LUM-10\n    granted_kr: 250000\n   reason: 'Nämnden beslutade så'\n", encoding="utf-8")
    (p,) = problems(year_2022_copy)
    assert (p.file, p.row) == ("data/2022/overrides.yaml", 4) and p.message.startswith("ogiltig YAML"), p
    check_cli(year_2022_copy, p, capsys, tmp_path)


def test_an_override_over_the_request_names_the_key(year_2022_copy: Path, capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    (year_2022_copy / "data/2022/overrides.yaml").write_text(
        "overrides:\n  - id: LUM-10\n    granted_kr: 600000\n    reason: 'Nämnden beslutade så den 14 december'\n",
        encoding="utf-8")
    (p,) = problems(year_2022_copy)
    assert (p.file, p.row, p.key) == ("data/2022/overrides.yaml", 3, "overrides[0].granted_kr"), p
    assert "0–500000" in p.message
    assert str(p).startswith("data/2022/overrides.yaml, rad 3, nyckel overrides[0].granted_kr: förväntade ett heltal")
    check_cli(year_2022_copy, p, capsys, tmp_path)


@pytest.mark.parametrize(("old", "new", "key", "words"), [
    ("    budget_kr: 4000000", "    budget_kr: 4000000\n    budgett_kr: 1", "funds.LUM.budgett_kr", "okänd nyckel"),
    ("    budget_kr: 4000000", "    budget_kr: fyra miljoner", "funds.LUM.budget_kr", "förväntade ett heltal"),
    ("    budget_kr: 4000000", "    budget_kr: 4000000.5", "funds.LUM.budget_kr", "förväntade ett heltal"),
    ("    max_granted_per_applicant: 2", "    max_granted_per_applicant: 0", "funds.LUM.max_granted_per_applicant",
     "större än noll"),
    ("    over_max: reject", "    over_max: halve", "funds.LUM.over_max", "förväntade ett av reject, reduce"),
    ("closes: 2021-09-10}", "closes: 2021-04-10}", "funds.LUM.window", "före den öppnar"),
    ("    weight: 2", "    weight: -2", "criteria[0].weight", "större än noll"),
    ("requires_any: {forebyggande: 4, klientcentrering: 4}", "requires_any: {forebyggande: 9}",
     "criteria[3].requires_any.forebyggande", "utanför skalan"),
    ("tie_break: [total_score desc,", "tie_break: [total_score down,", "tie_break[0]", "asc|desc"),
    ("year: 2022", "year: 2022\nyeer: 2022", "yeer", "okänd nyckel"),
])
def test_params_problem_names_the_key(year_2022_copy: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      old: str, new: str, key: str, words: str) -> None:
    edit(year_2022_copy, PARAMS, old, new)
    found = problems(year_2022_copy)
    hits = [p for p in found if p.file == PARAMS and p.key == key and words in p.message]
    assert len(hits) == 1, [str(p) for p in found]
    text = (year_2022_copy / PARAMS).read_text(encoding="utf-8")
    edited = text[:text.index(new)].count("\n") + 1  # the line the edit starts on
    last = key.replace("[", ".").split(".")[-1].rstrip("]")
    expected = next(i for i, line in enumerate(text.splitlines(), 1)
                    if i >= edited and (last.isdigit() or last in line))
    assert hits[0].row == expected, hits[0]
    assert str(hits[0]).startswith(f"{PARAMS}, rad {hits[0].row}, nyckel {key}: ")
    check_cli(year_2022_copy, hits[0], capsys, tmp_path)


# --- what must load fine -----------------------------------------------------------------------------------------

def test_csv_with_bom_crlf_and_swedish_characters_loads(year_2022_copy: Path, params_2022: object) -> None:
    path = year_2022_copy / APPS
    plain = review_inputs(load_year(year_2022_copy, 2022)).decisions
    text = path.read_text(encoding="utf-8")
    path.write_bytes(("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbfid,") and b"\r\n" in path.read_bytes()
    decisions = review_inputs(load_year(year_2022_copy, 2022)).decisions
    pd.testing.assert_frame_equal(plain, decisions)
    assert "Hägersten-Älvsjö" in set(decisions["applicants"]) and "Enskede-Årsta-Vantör" in set(decisions["applicants"])
    assert decisions["title"].str.contains("”Ingen ska lämnas utanför”").any()


def _write_xlsx(root: Path, formula_at: tuple[str, str] | None = None) -> Path:
    """applications.csv -> applications.xlsx (numbers and dates as Excel values), removing the CSV."""
    import openpyxl

    with (root / APPS).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    header = rows[0]
    sheet.append(header)
    for values in rows[1:]:
        typed: list[object] = []
        for column, value in zip(header, values, strict=True):
            if column in ("requested_kr", "project_year", "planned_years") and value:
                typed.append(int(value))
            elif column == "received":
                typed.append(dt.datetime.fromisoformat(value))
            else:
                typed.append(value)
        if formula_at and values[0] == formula_at[0]:
            typed[header.index("requested_kr")] = formula_at[1]
        sheet.append(typed)
    out = root / "data/2022/applications.xlsx"
    book.save(out)
    (root / APPS).unlink()
    return out


def test_xlsx_loads_like_the_csv(year_2022_copy: Path) -> None:
    plain = review_inputs(load_year(year_2022_copy, 2022)).decisions
    _write_xlsx(year_2022_copy)
    inputs = load_year(year_2022_copy, 2022)
    assert any(p.name == "applications.xlsx" for p in inputs.files)
    pd.testing.assert_frame_equal(plain, review_inputs(inputs).decisions)


def test_xlsx_cell_with_a_formula_is_refused(year_2022_copy: Path, capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    _write_xlsx(year_2022_copy, formula_at=("LUM-02", "=250000*2"))
    p = the_problem(problems(year_2022_copy), "data/2022/applications.xlsx", 3, "requested_kr", "cellen E3",
                    "=250000*2", "skriv in värdet")
    check_cli(year_2022_copy, p, capsys, tmp_path)


def test_both_csv_and_xlsx_is_ambiguous(year_2022_copy: Path) -> None:
    (year_2022_copy / "data/2022/applications.xlsx").write_bytes(b"")
    (p,) = problems(year_2022_copy)
    assert "både applications.csv och applications.xlsx" in p.message


# --- validate lists every file's problems at once ----------------------------------------------------------------

def test_validate_lists_problems_across_all_files(year_2022_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rewrite_applications(year_2022_copy, {"LUM-02": {"requested_kr": "abc"}})
    edit(year_2022_copy, "data/2022/scores/ledamot-c.csv", "\nMUL-03,strategisk,", "\nMUL-33,strategisk,")
    edit(year_2022_copy, "data/2022/conflicts.csv", "ledamot-c,LUM-06", "ledamot-x,LUM-06")
    (year_2022_copy / "data/2022/overrides.yaml").write_text("overrides: [", encoding="utf-8")
    found = problems(year_2022_copy)
    assert {p.file for p in found} == {APPS, "data/2022/scores/ledamot-c.csv", "data/2022/conflicts.csv",
                                       "data/2022/overrides.yaml"}, [str(p) for p in found]
    assert len(found) == 4  # the scores of LUM-02 (readable id, unreadable amount) are not reported as unknown
    assert main(["--root", str(year_2022_copy), "validate", "2022"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[:-1] == [str(p) for p in found] and err[-1] == "4 problem i indata för 2022."
