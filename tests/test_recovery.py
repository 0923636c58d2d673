"""The log comes first: a scoring process killed at any step leaves no change on disk the log never saw.

Each fault is made deterministic, not timed: a child process saves one change with the store's file
writer replaced by one that calls `os._exit` before (or right after) writing the score file, so it
dies between the log append and the score write (or just after the score write). The test then
reads the files as they are and reopens the store.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fou_review.core.params import load_params
from fou_review.workbook.scorestore import COMMENT, Disagreement, ScoreStore, log_path, read_log, score_path

REPO = Path(__file__).resolve().parents[1]
REVIEWER = "ledamot-a"
KILLED = 17

CHILD = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from fou_review.core.params import load_params
    from fou_review.workbook import scorestore
    root, where = Path(sys.argv[1]), sys.argv[2]
    store = scorestore.ScoreStore(root, load_params(root, 2022), "ledamot-a")
    store.set_score("LUM-02", "strategisk", 1)  # one ordinary change first
    real = scorestore.write_atomic

    def killed_at_the_score_write(path, data):
        if where == "after-score-write":
            real(path, data)
        os._exit(17)

    scorestore.write_atomic = killed_at_the_score_write
    store.set_score("LUM-01", "strategisk", 3)
    os._exit(0)  # not reached
""")


def _file_scores(root: Path) -> dict[tuple[str, str], int]:
    """The score file read as plain CSV (not through the store, which would check it)."""
    text = score_path(root, 2022, REVIEWER).read_text(encoding="utf-8")
    return {(r["application_id"], r["criterion"]): int(r["score"])
            for r in csv.DictReader(io.StringIO(text)) if r["score"]}


def _replay(baseline: dict[tuple[str, str], int], log: list[dict[str, object]]) -> dict[tuple[str, str], int]:
    """The file before any logged change, with every logged score change made in order."""
    out = dict(baseline)
    for entry in log:
        key = (str(entry["application_id"]), str(entry["criterion"]))
        if key[1] == COMMENT:
            continue
        if entry["new"] is None:
            out.pop(key, None)
        else:
            out[key] = int(str(entry["new"]))
    return out


def _kill(root: Path, where: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(root), where], env=env, timeout=120, check=False,
                          capture_output=True, text=True)
    assert done.returncode == KILLED, done.stderr


def test_killed_between_the_log_and_the_score_write_the_change_is_logged_and_restored(root: Path) -> None:
    baseline = _file_scores(root)
    assert baseline[("LUM-01", "strategisk")] == 6
    _kill(root, "before-score-write")
    log = read_log(root, 2022, REVIEWER)
    # The change reached the log before the file: the log has it, the file does not (yet).
    assert [(e["application_id"], e["old"], e["new"]) for e in log] == [
        ("LUM-02", baseline[("LUM-02", "strategisk")], 1), ("LUM-01", 6, 3)]
    assert [e["seq"] for e in log] == [1, 2]
    assert _file_scores(root)[("LUM-01", "strategisk")] == 6
    store = ScoreStore(root, load_params(root, 2022), REVIEWER)  # opening checks and repairs
    assert store.recovery.repaired == (Disagreement(REVIEWER, "LUM-01", "strategisk", 6, 3, 2, repaired=True),)
    assert store.recovery.unresolved == () and not store.recovery.torn_line_removed
    assert _file_scores(root) == _replay(baseline, read_log(root, 2022, REVIEWER))
    report = "\n".join(store.recovery.lines("sv", {"strategisk": "Strategisk relevans"}))
    assert "ledamot-a" in report and "LUM-01 / Strategisk relevans = 3" in report and "filen hade 6" in report
    # Opened again: nothing left to do, and the next change continues the sequence.
    again = ScoreStore(root, load_params(root, 2022), REVIEWER)
    assert again.recovery.clean and again.recovery.lines("sv") == []
    change = again.set_score("LUM-03", "strategisk", 7)
    assert change is not None and change.seq == 3


def test_killed_right_after_the_score_write_the_file_and_the_log_agree(root: Path) -> None:
    baseline = _file_scores(root)
    _kill(root, "after-score-write")
    # Read as they are, before any store opens them: replaying the log gives exactly the file.
    assert _file_scores(root) == _replay(baseline, read_log(root, 2022, REVIEWER))
    assert _file_scores(root)[("LUM-01", "strategisk")] == 3
    assert ScoreStore(root, load_params(root, 2022), REVIEWER).recovery.clean


def test_a_value_the_log_never_saw_is_reported_not_overwritten(root: Path) -> None:
    params = load_params(root, 2022)
    ScoreStore(root, params, REVIEWER).set_score("LUM-01", "strategisk", 3)
    path = score_path(root, 2022, REVIEWER)
    path.write_text(path.read_text(encoding="utf-8").replace("LUM-01,strategisk,3,", "LUM-01,strategisk,5,"),
                    encoding="utf-8")  # edited by hand, outside the form
    before = path.read_bytes()
    store = ScoreStore(root, params, REVIEWER)
    assert store.recovery.unresolved == (Disagreement(REVIEWER, "LUM-01", "strategisk", 5, 3, 1, repaired=False),)
    assert store.recovery.repaired == ()
    assert path.read_bytes() == before  # nothing changed
    [title, line] = store.recovery.lines("en", {"strategisk": "Strategic relevance"})
    assert "ledamot-a" in title
    assert "LUM-01 / Strategic relevance" in line and "file has 5" in line and "last 3" in line
    # Once the value is set again in the form, the file and the log agree.
    store.set_score("LUM-01", "strategisk", 4)
    assert ScoreStore(root, params, REVIEWER).recovery.clean


def test_a_comment_lost_between_the_log_and_the_file_is_restored(root: Path) -> None:
    params = load_params(root, 2022)
    store = ScoreStore(root, params, REVIEWER)
    store.set_comment("MUL-02", "Tydlig plan, åäö")
    path = score_path(root, 2022, REVIEWER)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    for row in rows:  # as if the file write had never happened
        row["comment"] = ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    reopened = ScoreStore(root, params, REVIEWER)
    [fixed] = reopened.recovery.repaired
    assert (fixed.application_id, fixed.criterion, fixed.file_value, fixed.logged_value) == (
        "MUL-02", COMMENT, "", "Tydlig plan, åäö")
    assert reopened.read().comments["MUL-02"] == "Tydlig plan, åäö"
    assert "MUL-02 / kommentar" in "\n".join(reopened.recovery.lines("sv"))


def test_a_log_line_cut_off_by_a_kill_is_removed_and_said(root: Path) -> None:
    params = load_params(root, 2022)
    ScoreStore(root, params, REVIEWER).set_score("LUM-01", "strategisk", 3)
    log = log_path(root, 2022, REVIEWER)
    whole = log.read_bytes()
    with log.open("ab") as handle:
        handle.write(b'{"seq": 2, "time": "2022-')  # the writer died in the middle of its line
    store = ScoreStore(root, params, REVIEWER)
    assert store.recovery.torn_line_removed and store.recovery.repaired == store.recovery.unresolved == ()
    assert log.read_bytes() == whole
    assert "ofullständig sista rad" in "\n".join(store.recovery.lines("sv"))
    assert read_log(root, 2022, REVIEWER)[-1]["new"] == 3


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_report_names_reviewer_application_criterion_and_value(root: Path, lang: str) -> None:
    params = load_params(root, 2022)
    ScoreStore(root, params, "ledamot-b").set_score("MUL-04", "forebyggande", None)
    path = score_path(root, 2022, "ledamot-b")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("MUL-04,forebyggande,,", "MUL-04,forebyggande,2,"), encoding="utf-8")
    lines = ScoreStore(root, params, "ledamot-b").recovery.lines(lang, {"forebyggande": "Förebyggande"})
    assert len(lines) == 2 and "ledamot-b" in lines[0]
    assert "MUL-04 / Förebyggande" in lines[1] and "2" in lines[1]
    assert ("(tomt)" if lang == "sv" else "(empty)") in lines[1]
