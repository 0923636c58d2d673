"""`fou-review compare`: the table of gains and losses, its CSV, and bad --set values (a real process)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fou_review", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120)


def test_compare_prints_the_losers_of_a_lower_mul_cap_and_writes_the_csv(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "jamforelse.csv"
    done = run("compare", "2022", "--set", "funds.MUL.max_granted_per_applicant=2", "--csv", str(out), cwd=repo_root)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Jämfört med den beräknade fördelningen 2022, med funds.MUL.max_granted_per_applicant=2:"
    assert lines[1].split()[:3] == ["Id", "Fond", "Förvaltning"]
    assert [line.split()[0] for line in lines[2:5]] == ["MUL-09", "MUL-11", "MUL-12"]
    assert "25\u00a0000" in lines[2] and "−25\u00a0000" in lines[2] and "har redan beviljats 2 ansökningar" in lines[2]
    assert lines[5] == "0 vinner, 3 förlorar, 0 får annan rang eller annat skäl; netto −75\u00a0000\u00a0kr."
    assert lines[6].startswith("Tabellen är skriven till")
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["Id", "Fond", "Förvaltning", "Beviljat före (kr)", "Beviljat efter (kr)", "Förändring (kr)",
                       "Rang före", "Rang efter", "Skäl före", "Skäl efter"]
    assert [r[:8] for r in rows[1:]] == [["MUL-09", "MUL", "Rinkeby-Kista", "25000", "0", "-25000", "9", "9"],
                                         ["MUL-11", "MUL", "Enskede-Årsta-Vantör", "25000", "0", "-25000", "11", "11"],
                                         ["MUL-12", "MUL", "Socialförvaltningen", "25000", "0", "-25000", "12", "12"]]


def test_compare_in_english_and_without_changes(repo_root: Path) -> None:
    done = run("--lang", "en", "compare", "2022", "--set", "funds.MUL.max_granted_per_applicant=2", cwd=repo_root)
    assert done.returncode == 0 and "Rank before" in done.stdout and "already has 2 granted applications" in done.stdout
    same = run("--lang", "en", "compare", "2022", "--set", "funds.MUL.max_granted_per_applicant=3", cwd=repo_root)
    assert same.returncode == 0
    assert "No application gets another amount, rank or reason." in same.stdout


def test_bad_set_values_are_errors_naming_the_key(repo_root: Path) -> None:
    done = run("--lang", "en", "compare", "2022", "--set", "funds.MUL.max_granted_per_applicant=0",
               "--set", "funds.MUL.nope=1", "--set", "criteria.strategisk.weight=x", cwd=repo_root)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("fou-review: --set, key ") for line in lines)
    assert "funds.MUL.max_granted_per_applicant: must be greater than zero, got 0" in done.stderr
    assert "funds.MUL.nope: unknown key; allowed are funds.MUL.budget_kr" in done.stderr
    assert "criteria.strategisk.weight: expected an integer" in done.stderr
    sv = run("compare", "2022", "--set", "funds.MUL.max_granted_per_applicant", cwd=repo_root)
    assert sv.returncode == 2
    assert sv.stderr.strip() == ("fou-review: --set väntar NYCKEL=VÄRDE, t.ex. funds.MUL.max_granted_per_applicant=2; "
                                 "fick 'funds.MUL.max_granted_per_applicant'")
