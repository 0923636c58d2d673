"""The yearly cycle (issue 11): new-year, the follow-up ledger, continuations, the reorganisation, history.

The worked example is `examples/cycle/` (illustrative 2023 and 2024 calls after the real 2022 call);
each test works on a scratch copy of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fou_review.core.cycle import history, year_warnings
from fou_review.core.followup import Grant, obligations, owed_by, parse_followup
from fou_review.core.load import load_year
from fou_review.core.params import successor_on
from fou_review.core.pipeline import review_year
from fou_review.core.tables import parse_csv_from_string
from fou_review.errors import InputError, Problem

PREDECESSORS = ("Rinkeby-Kista", "Spånga-Tensta", "Norrmalm", "Östermalm")


def cli(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fou_review", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=timeout)


@pytest.fixture
def example(repo_root: Path, tmp_path: Path) -> Path:
    """A scratch copy of examples/cycle (inputs only)."""
    target = tmp_path / "cycle"
    shutil.copytree(repo_root / "examples" / "cycle", target,
                    ignore=shutil.ignore_patterns("reports", "followup", "calls", "history.html"))
    return target


def rewrite(path: Path, change: dict[str, dict[str, str]]) -> None:
    """Change cells of a CSV file: {row id: {column: value}}."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r.update(change.get(r["id"], {}))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def problems_of(root: Path, year: int) -> list[Problem]:
    with pytest.raises(InputError) as err:
        load_year(root, year)
    return err.value.problems


def only(problems: list[Problem], text: str) -> Problem:
    found = [p for p in problems if text in p.text("sv") or text in p.text("en")]
    assert len(found) == 1, [p.text("en") for p in problems]
    return found[0]


# -- The whole cycle, on a fresh copy --------------------------------------------------------------


def test_the_cycle_end_to_end(repo_root: Path, tmp_path: Path) -> None:
    """new-year 2023, fill in, validate, run, followup 2022, new-year 2024: Järva and Norra innerstaden."""
    root = tmp_path / "fresh"
    (root / "params").mkdir(parents=True)
    shutil.copy(repo_root / "params" / "2022.yaml", root / "params")
    shutil.copytree(repo_root / "data" / "2022", root / "data" / "2022")
    shutil.copytree(repo_root / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    done = cli("--root", str(root), "new-year", "2023", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "funds.MUL.max_granted_per_applicant" in done.stdout  # the one-off cap listed to confirm
    assert yaml.safe_load((root / "params" / "2023.yaml").read_text())["funds"]["MUL"]["max_granted_per_applicant"] == 2
    assert (root / "calls" / "2023" / "utlysning.pdf").read_bytes().startswith(b"%PDF")
    ledger = (root / "data" / "2022" / "followup.csv").read_text(encoding="utf-8")
    assert ledger.count("ej inkommen") == 20  # every 2022 grant, nothing reported yet
    # Fill in as the example did: the call's applications and scores, the 2022 follow-up.
    example = repo_root / "examples" / "cycle"
    shutil.copy(example / "params" / "2023.yaml", root / "params")
    shutil.copy(example / "data" / "2023" / "applications.csv", root / "data" / "2023")
    shutil.copytree(example / "data" / "2023" / "scores", root / "data" / "2023" / "scores")
    assert cli("--root", str(root), "validate", "2023", cwd=tmp_path).returncode == 0
    done = cli("--root", str(root), "run", "2023", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "fortsättning av LUM-04 (2022), år 3 av 3" in (root / "reports" / "2023" / "allocation.html").read_text()
    shutil.copy(example / "data" / "2022" / "followup.csv", root / "data" / "2022")
    done = cli("--root", str(root), "followup", "2022", "--as-of", "2023-09-01", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 åtaganden återstår för 2022 års medel den 2023-09-01, varav 3 försenade" in done.stdout
    for name in ("followup.csv", "followup.xlsx", "followup.html"):
        assert (root / "followup" / "2022" / name).is_file()
    done = cli("--root", str(root), "new-year", "2024", "--no-pdf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = next(line for line in done.stdout.splitlines() if line.startswith("förvaltningar 2024:"))
    names = listed.split(": ", 1)[1].split(", ")
    assert "Järva" in names and "Norra innerstaden" in names
    assert not set(PREDECESSORS) & set(names)
    params = yaml.safe_load((root / "params" / "2024.yaml").read_text())
    assert "Järva" in params["administrations"] and not set(PREDECESSORS) & set(params["administrations"])
    assert (root / "data" / "2023" / "followup.csv").read_text().count("ej inkommen") == 11  # 2023's grants


def test_new_year_refuses_to_overwrite(example: Path) -> None:
    done = cli("--root", str(example), "new-year", "2024", "--no-pdf", cwd=example)
    assert done.returncode == 2 and "params/2024.yaml" in done.stderr and "data/2024" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_applications_template_has_types_and_lists(example: Path) -> None:
    from openpyxl import load_workbook

    shutil.rmtree(example / "data" / "2024")
    (example / "params" / "2024.yaml").unlink()
    (example / "data" / "2023" / "followup.csv").unlink()
    assert cli("--root", str(example), "new-year", "2024", "--no-pdf", cwd=example).returncode == 0
    book = load_workbook(example / "data" / "2024" / "applications_template.xlsx")
    sheet = book.worksheets[0]
    kinds = {str(v.sqref).split(":")[0][0]: v.type for v in sheet.data_validations.dataValidation}
    assert kinds["B"] == "list" and kinds["C"] == "list" and kinds["F"] == "date" and kinds["E"] == "whole"
    lists = book.worksheets[1]
    administrations = [c.value for c in lists["B"][1:] if c.value]
    assert "Järva" in administrations and "Rinkeby-Kista" not in administrations
    header = (example / "data" / "2024" / "applications.csv").read_text().strip().split(",")
    assert header == [c.value for c in sheet[1]] and "continues" in header


def test_the_call_page_states_the_years_rules_and_is_static(example: Path) -> None:
    from fou_review.yearly.new_year import write_call

    (html_path,) = write_call(example, 2024, "sv", pdf=False)
    page = html_path.read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "Högst 2 beviljade ansökningar per förvaltning." in page  # MUL back to 2
    assert "5\u00a0maj 2023–17\u00a0september 2023" in page and "25\u00a0000\u00a0kr" in page
    assert "Illustrativt exempel" in page and "forskarhandledare" in page  # the workshop offer, from params
    assert "Beviljas inte för: kurs, konferens." in page


# -- The follow-up ledger: every bad input names file, row and column -------------------------------

GRANTS = {"LUM-03": Grant("LUM-03", 2022, "LUM", ("Hässelby-Vällingby",), 500000),
          "MUL-06": Grant("MUL-06", 2022, "MUL", ("Farsta",), 25000)}
HEADER = ("id,fund,applicants,granted_kr,report_due,report_status,report_received,spent_kr,to_repay_kr,repaid_kr,"
          "repaid_on\n")
GOOD = ("LUM-03,LUM,Hässelby-Vällingby,500000,2023-03-31,godkänd,2023-02-01,500000,0,0,\n"
        "MUL-06,MUL,Farsta,25000,2023-03-31,godkänd,2023-02-01,15000,10000,10000,2023-05-01\n")


def ledger_problems(rows: str) -> list[Problem]:
    table = parse_csv_from_string(HEADER + rows, "data/2022/followup.csv")
    with pytest.raises(InputError) as err:
        parse_followup(table, 2022, GRANTS, dt.date(2021, 12, 14), dt.date(2022, 6, 6))
    return err.value.problems


def ledger_problem(rows: str, row: int | None = None, column: str | None = None) -> Problem:
    found = [p for p in ledger_problems(rows) if column is None or (p.row, p.column) == (row, column)]
    assert len(found) == 1, [p.text() for p in ledger_problems(rows)]
    return found[0]


def test_a_good_ledger_owes_nothing() -> None:
    table = parse_csv_from_string(HEADER + GOOD, "data/2022/followup.csv")
    ledger = parse_followup(table, 2022, GRANTS, dt.date(2021, 12, 14), dt.date(2022, 6, 6))
    assert obligations(ledger) == []


@pytest.mark.parametrize(("change", "row", "column", "words"), [
    (("LUM-03,", "LUM-99,"), 2, "id", "'LUM-99' är inget beviljat bidrag 2022"),
    (("500000,0,0,", "500000,0,600000,2023-05-01"), 2, "repaid_kr", "600000 kr är mer än de beviljade 500000 kr"),
    (("15000,10000,10000,", "15000,10000,12000,"), 3, "repaid_kr", "återbetalt 12000 kr är mer än de 10000 kr"),
    (("2023-02-01,15000", "2021-11-30,15000"), 3, "report_received", "före beslutsdagen 2021-12-14"),
    (("10000,10000,2023-05-01", "10000,10000,"), 3, "repaid_on", "belopp återbetalt men inget datum"),
    (("15000,10000,", "15000,9000,"), 3, "to_repay_kr", "beviljat 25000 kr minus använt 15000 kr är 10000 kr"),
    (("MUL,Farsta,25000,", "MUL,Farsta,20000,"), 3, "granted_kr", "skiljer sig från beslutet för MUL-06"),
    (("godkänd,2023-02-01,500000", "ej inkommen,2023-02-01,500000"), 2, "report_received", "ej inkommen"),
    (("godkänd,2023-02-01,500000", "ej godkänd,,500000"), 2, "report_received", "inget datum då rapporten"),
    (("godkänd,2023-02-01,500000", "klar,2023-02-01,500000"), 2, "report_status", "'klar'"),
    (("2023-03-31,godkänd,2023-02-01,500000", "2023-31-03,godkänd,2023-02-01,500000"), 2, "report_due", "2023-31-03"),
    (("LUM,Hässelby", "MUL,Hässelby"), 2, "fund", "skiljer sig från beslutet för LUM-03"),
])
def test_each_bad_ledger_input(change: tuple[str, str], row: int, column: str, words: str) -> None:
    assert change[0] in GOOD
    problem = ledger_problem(GOOD.replace(change[0], change[1], 1), row, column)
    assert (problem.file, problem.row, problem.column) == ("data/2022/followup.csv", row, column)
    assert words in problem.text("sv"), problem.text("sv")
    assert problem.text("en") != problem.text("sv")


def test_a_grant_twice_and_a_grant_missing() -> None:
    twice = ledger_problem(GOOD + GOOD.splitlines(keepends=True)[0], 4, "id")
    assert (twice.row, twice.column) == (4, "id") and "står redan på rad 2" in twice.text()
    missing = ledger_problem(GOOD.splitlines(keepends=True)[0])
    assert missing.row is None and "MUL-06" in missing.text()


def test_a_successor_owes_what_its_predecessors_owe() -> None:
    table = parse_csv_from_string(HEADER + GOOD.replace("godkänd,2023-02-01,500000", "ej inkommen,,500000"),
                                  "f.csv")
    grants = {**GRANTS, "LUM-03": Grant("LUM-03", 2022, "LUM", ("Rinkeby-Kista", "Spånga-Tensta"), 500000)}
    ledger = parse_followup(table, 2022, grants, dt.date(2021, 12, 14), dt.date(2022, 6, 6))
    owed = owed_by(obligations(ledger), {"Rinkeby-Kista": "Järva", "Spånga-Tensta": "Järva"})
    assert [o.label for o in owed["Järva"]] == ["LUM-03 (2022)"]  # once, though two predecessors owe it


# -- The rules, in the example's 2024 call ---------------------------------------------------------


def test_the_2024_example_decides_each_rule_with_its_reason(repo_root: Path) -> None:
    decisions = review_year(repo_root / "examples" / "cycle", 2024).decisions.set_index("id")
    reasons = decisions["reason"].to_dict()
    assert reasons["LUM-01"] == "Avslås, ej behörig: slutrapport för LUM-03 (2022) ej godkänd."
    assert reasons["LUM-02"] == "Avslås, ej behörig: slutrapport för LUM-07 (2022) har inte kommit in."
    assert decisions.at["LUM-02", "applicants"] == "Järva"  # written "Rinkeby-Kista"
    assert reasons["MUL-04"] == reasons["LUM-02"]  # Järva carries its predecessor's missing report
    assert reasons["LUM-05"] == "Avslås, ej behörig: återbetalning för MUL-06 (2022) inte gjord."
    assert decisions.at["LUM-05", "reason_en"] == "Rejected, not eligible: repayment for MUL-06 (2022) not made."
    assert "Norra innerstaden har redan beviljats 2 ansökningar i MUL" in reasons["MUL-02"]  # written Östermalm
    assert decisions.at["LUM-04", "granted_kr"] == 480000  # Bromma's continuation, year 2 of 3


def test_the_2024_record_shows_names_as_written_and_the_history(repo_root: Path) -> None:
    from fou_review.record.sections import render_record_sections

    review = review_year(repo_root / "examples" / "cycle", 2024)
    html = "\n".join(h for _, h in render_record_sections(review, {}, "sv"))
    assert "Järva (skrivet: Rinkeby-Kista)" in html and "Norra innerstaden (skrivet: Östermalm)" in html
    assert "fortsättning av LUM-06 (2023), år 2 av 3" in html
    assert 'id="historik"' in html and "Rinkeby-Kista → Järva" in html
    assert "Illustrativt exempel" in html
    assert "stämmer med de publicerade summorna" not in html  # 2024 has no published totals


def test_a_typed_last_report_must_agree_with_the_ledger(example: Path) -> None:
    rewrite(example / "data" / "2024" / "applications.csv", {"LUM-01": {"last_report": "godkänd"}})
    p = only(problems_of(example, 2024), "last_report")
    assert (p.file, p.row, p.column) == ("data/2024/applications.csv", 2, "last_report")
    assert "'ej godkänd'" in p.text() and "LUM-03 (2022)" in p.text()


def test_a_joint_application_of_two_merged_districts(example: Path) -> None:
    rewrite(example / "data" / "2024" / "applications.csv",
            {"MUL-04": {"applicants": "Rinkeby-Kista & Spånga-Tensta"}})
    p = only(problems_of(example, 2024), "Järva")
    assert (p.row, p.column) == (10, "applicants")
    assert "är samma förvaltning, 'Järva', efter omorganisationen" in p.text()


def test_predecessor_names_rejected_with_the_hint(example: Path) -> None:
    path = example / "params" / "2024.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "predecessor_names: reject\n", encoding="utf-8")
    problems = problems_of(example, 2024)
    p = only(problems, "'Rinkeby-Kista' hade blivit")
    assert (p.row, p.column) == (3, "applicants") and "skriv 'Järva'" in p.text()
    assert only(problems, "'Östermalm' hade blivit").row == 8


def test_validate_warns_about_names_and_windows(example: Path) -> None:
    rewrite(example / "data" / "2024" / "applications.csv", {"LUM-03": {"received": "2023-11-01"}})
    inputs = load_year(example, 2024)
    warnings = year_warnings(inputs.applications, inputs.params, "data/2024/applications.csv")
    assert [(w.row, w.column) for w in warnings] == [(3, "applicants"), (4, "received"), (8, "applicants")]
    done = cli("validate", "2024", cwd=example)
    assert done.returncode == 0 and "3 varningar för 2024" in done.stderr


def test_all_applications_outside_the_window_is_an_error(example: Path) -> None:
    """A stale copy of last year's files is not a clean run."""
    shutil.copy(example / "data" / "2023" / "applications.csv", example / "data" / "2024" / "applications.csv")
    problems = problems_of(example, 2024)
    assert any("alla ansökningar kom in utanför" in p.text() for p in problems)


# -- Continuations: each bad one names file, row and column -----------------------------------------


@pytest.mark.parametrize(("change", "row", "column", "words"), [
    ({"LUM-02": {"continues": "LUM-42"}}, 3, "continues", "'LUM-42', som inte finns bland ansökningarna 2022"),
    ({"LUM-02": {"continues": "LUM-09"}}, 3, "continues", "som inte beviljades medel 2022"),
    ({"LUM-02": {"project_year": "3"}}, 3, "project_year", "LUM-02 var år 1, så fortsättningen ska vara år 2"),
    ({"LUM-03": {"project_year": "4", "planned_years": "3"}}, 4, "project_year", "år 4 av 3"),
    ({"LUM-02": {"applicants": "Farsta"}}, 3, "applicants", "ska sökas av Hässelby-Vällingby"),
    ({"LUM-02": {"last_report": "ej aktuell"}}, 3, "last_report", "fortsätter LUM-02 som beviljades 2022"),
    ({"LUM-02": {"continues": ""}}, 3, "continues", "projektår 2 men ingen fortsättning angiven"),
    ({"MUL-01": {"continues": "LUM-01", "fund": "MUL"}}, 9, "continues", "som var ett bidrag ur LUM"),
])
def test_each_bad_continuation(example: Path, change: dict[str, dict[str, str]], row: int, column: str,
                               words: str) -> None:
    rewrite(example / "data" / "2023" / "applications.csv", change)
    found = [p for p in problems_of(example, 2023) if words in p.text()]
    assert len(found) == 1, [p.text() for p in problems_of(example, 2023)]
    assert (found[0].file, found[0].row, found[0].column) == ("data/2023/applications.csv", row, column)


def test_a_continuation_by_the_successor(example: Path) -> None:
    """2024: Järva may continue a 2023 grant of Rinkeby-Kista & Spånga-Tensta (its predecessors)."""
    successor = successor_on(review_year(example, 2024).inputs.params, "Spånga-Tensta", dt.date(2023, 12, 14))
    assert successor == "Järva"
    rewrite(example / "data" / "2023" / "applications.csv", {"LUM-04": {"planned_years": "3"}})
    rewrite(example / "data" / "2024" / "applications.csv",
            {"LUM-02": {"continues": "LUM-04", "project_year": "4", "planned_years": "3", "applicants": "Järva"}})
    problems = problems_of(example, 2024)
    assert [p.column for p in problems] == ["project_year"]  # year 4 of 3; the successor itself is accepted
    assert "år 4 av 3" in problems[0].text()


# -- History ----------------------------------------------------------------------------------------


def test_history_maps_predecessors_and_adds_up(repo_root: Path) -> None:
    root = repo_root / "examples" / "cycle"
    h = history(root, 2024)
    assert h.years == (2022, 2023, 2024)
    assert ("Rinkeby-Kista", "Järva") in h.mapping and ("Norrmalm", "Norra innerstaden") in h.mapping
    for year in h.years:
        granted = int(review_year(root, year).decisions["granted_kr"].sum())
        assert sum(r.granted_kr for r in h.rows if r.year == year) == granted  # joint grants shared, not doubled
    assert not {r.administration for r in h.rows} & set(PREDECESSORS)


def test_history_command_chart_and_table_agree(example: Path) -> None:
    done = cli("history", "2024", "--html", "history.html", cwd=example)
    assert done.returncode == 0, done.stderr
    assert "2022 LUM: 10 ansökningar, 8 beviljade, 3\u00a0705\u00a0000\u00a0kr" in done.stdout
    page = (example / "history.html").read_text(encoding="utf-8")
    bars = dict(re.findall(r'font-size="12">([^<]+)</text>\n(?:<rect[^>]*/>\n)?<text[^>]*>([^<]+)</text>', page))
    row = re.search(r'<th scope="row">Järva</th>\n((?:<td[^>]*>[^<]*</td>\n)+)', page)
    assert row is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    assert bars["Järva"] == cells[3]  # 2022, 2023, 2024, then the total: the bar shows the total
    # 2022: LUM-05, -06, -07 and MUL-02, -08, -09, -10 of Rinkeby-Kista and Spånga-Tensta; 2023: LUM-04, MUL-04
    assert bars["Järva"] == "2\u00a0115\u00a0000\u00a0kr"
    assert "Kronor per invånare" in page and "<script" not in page


# -- 2022 unchanged ---------------------------------------------------------------------------------


def test_the_2022_params_reset_their_one_off_and_agree_with_the_published_totals(params_2022: object,
                                                                                  repo_root: Path) -> None:
    from fou_review.record.sections import agrees_with_published

    review = review_year(repo_root, 2022)
    assert agrees_with_published(review)
    assert review.inputs.earlier == () and review.inputs.params.cycle.one_off[0].normal == 2


def test_the_example_notebook_is_the_projects(repo_root: Path) -> None:
    assert ((repo_root / "examples" / "cycle" / "notebooks" / "review.ipynb").read_bytes()
            == (repo_root / "notebooks" / "review.ipynb").read_bytes())


def test_the_scoring_form_names_the_grant_owed(example: Path) -> None:
    from fou_review.workbook.form import ScoringForm

    form = ScoringForm(example, 2024, lang="sv")
    form.reviewer.value = "ledamot-a"
    form.show(form.order.index("LUM-02"))
    assert "slutrapport för LUM-07 (2022) har inte kommit in" in form.details.value
