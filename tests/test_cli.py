"""The command line as a real process: exit codes, one-line errors, no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Message

from fou_review.cli import message_lang


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fou_review", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120)


def one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fou-review: "), done.stderr
    assert all(w in lines[0] for w in words), lines[0]


def test_validate_2022_is_clean(repo_root: Path) -> None:
    done = run("validate", "2022", cwd=repo_root)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "Indata för 2022 är giltiga.", "")


def test_allocate_writes_the_decisions_and_a_summary(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "ut" / "beslut.csv"
    done = run("allocate", "2022", "--csv", str(out), cwd=repo_root)
    assert done.returncode == 0, done.stderr
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:8] == ["id", "fund", "applicants", "title", "requested_kr", "granted_kr", "decision", "reason"]
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == ["LUM", "MUL", "Totalt"]
    assert "contact_person" not in header and "Kontaktperson" not in out.read_text(encoding="utf-8")


def test_a_bad_input_is_one_line_exit_2(year_2022_copy: Path, tmp_path: Path) -> None:
    path = year_2022_copy / "data/2022/applications.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",23030,", ",23 030 kr,").replace(",25000,2021-09-17",
                                                                                                 ",25.000,2021-09-17"),
                    encoding="utf-8")
    done = run("--root", str(year_2022_copy), "allocate", "2022", "--csv", str(tmp_path / "o.csv"), cwd=tmp_path)
    one_line_error(done, "data/2022/applications.csv, rad 13, kolumn 'requested_kr'", "'25.000'", "(och 1 till)")
    done = run("--root", str(year_2022_copy), "validate", "2022", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == "2 problem i indata för 2022."


def test_a_missing_year(repo_root: Path, tmp_path: Path) -> None:
    done = run("allocate", "1999", "--csv", str(tmp_path / "o.csv"), cwd=repo_root)
    one_line_error(done, "params/1999.yaml", "filen saknas")


def test_an_unresolved_tie(repo_root: Path, tmp_path: Path) -> None:
    root = repo_root / "tests/examples/tie_unresolved"
    done = run("--root", str(root), "allocate", "2022", "--csv", str(tmp_path / "o.csv"), cwd=tmp_path)
    one_line_error(done, "oavgjord rangordning mellan U-1, U-2", "tie_break")


def test_an_unwritable_output(repo_root: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "fil.txt"
    blocker.write_text("x", encoding="utf-8")
    done = run("allocate", "2022", "--csv", str(blocker / "o.csv"), cwd=repo_root)
    one_line_error(done, "fil.txt")


@pytest.mark.parametrize("args", [["allocate", "2022"], ["allocate", "tjugotjugotvå", "--csv", "o.csv"],
                                  ["frobnicate"]])
def test_usage_errors_exit_2(repo_root: Path, args: list[str]) -> None:
    done = run(*args, cwd=repo_root)
    assert done.returncode == 2 and "usage: fou-review" in done.stderr and "Traceback" not in done.stderr


def test_global_lang_makes_every_message_english(repo_root: Path, year_2022_copy: Path, tmp_path: Path) -> None:
    done = run("--lang", "en", "validate", "2022", cwd=repo_root)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "The inputs for 2022 are valid.", "")
    done = run("--lang=en", "allocate", "2022", "--csv", str(tmp_path / "o.csv"), cwd=repo_root)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["LUM", "MUL", "Total"]
    assert "applications" in lines[0] and "4\u00a0003\u00a0030\u00a0kr proposed" in lines[2] and "all met" in lines[2]
    path = year_2022_copy / "data/2022/applications.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",23030,", ",23 030 kr,").replace(",25000,2021-09-17",
                                                                                                 ",25.000,2021-09-17"),
                    encoding="utf-8")
    done = run("--lang", "en", "--root", str(year_2022_copy), "allocate", "2022", "--csv", str(tmp_path / "p.csv"),
               cwd=tmp_path)
    one_line_error(done, "data/2022/applications.csv, row 13, column 'requested_kr'", "(and 1 more)")
    done = run("--root", str(year_2022_copy), "--lang", "en", "validate", "2022", cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.splitlines()[-1] == "2 problem(s) in the inputs for 2022."


def test_verify_without_a_record_names_it_in_either_language(fresh_root: Path) -> None:
    done = run("--root", str(fresh_root), "verify", "2022", "--quiet", cwd=fresh_root)
    one_line_error(done, "reports/2022/manifest.json: det finns inget tjänsteutlåtande att kontrollera")
    done = run("--lang", "en", "--root", str(fresh_root), "verify", "2022", "--quiet", cwd=fresh_root)
    one_line_error(done, "reports/2022/manifest.json: there is no official report to check")


@pytest.fixture
def fresh_root(repo_root: Path, tmp_path: Path) -> Path:
    for part in ("params", "data", "notebooks"):
        shutil.copytree(repo_root / part, tmp_path / part)
    return tmp_path


def test_the_message_language_is_the_global_option_only() -> None:
    assert message_lang(["--lang", "en", "run", "2022"]) == "en"
    assert message_lang(["--root", "run", "--lang=en", "verify", "2022"]) == "en"  # a root named "run"
    assert message_lang(["run", "2022", "--lang", "en"]) == "sv"  # run --lang is the record's language
    assert message_lang(["--lang", "fr", "validate", "2022"]) == "sv"  # argparse then refuses it


def test_the_cli_names_the_document_as_the_record_does() -> None:
    from fou_review.texts.catalog import translations

    for lang, name, wrong in (("sv", "tjänsteutlåtande", "protokoll"), ("en", "official report", "minutes")):
        texts = [str(m.string) for m in _messages(lang)]
        assert any(name in text.lower() for text in texts)
        assert not [text for text in texts if wrong in text.lower()]
    assert translations("sv", "cli")


def _messages(lang: str) -> list[Message]:
    from babel.messages.pofile import read_po

    import fou_review.texts

    po = Path(fou_review.texts.__file__).parent / "locale" / lang / "LC_MESSAGES" / "cli.po"
    with po.open("rb") as handle:
        return [m for m in read_po(handle) if m.id]
