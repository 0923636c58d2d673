"""The score store: atomic, locked, logged saves of one reviewer's score file."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fou_review.core.load import load_year
from fou_review.core.params import load_params
from fou_review.workbook.scorestore import FORM_SOURCE, SaveError, ScoreStore, read_log

REPO = Path(__file__).resolve().parents[1]


def _store(root: Path, reviewer: str = "ledamot-a") -> ScoreStore:
    return ScoreStore(root, load_params(root, 2022), reviewer)


def _row(path: Path, app: str, criterion: str) -> list[str]:
    lines = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
    return next(line for line in lines if line[:2] == [app, criterion])


def test_set_score_writes_the_file_and_logs_the_change(root: Path) -> None:
    store = _store(root)
    before = store.path.read_text(encoding="utf-8")
    assert _row(store.path, "LUM-01", "strategisk") == ["LUM-01", "strategisk", "6", "", "illustrative"]
    change = store.set_score("LUM-01", "strategisk", 3)
    assert change is not None and (change.old, change.new) == (6, 3)
    after = store.path.read_text(encoding="utf-8")
    assert _row(store.path, "LUM-01", "strategisk") == ["LUM-01", "strategisk", "3", "", FORM_SOURCE]
    # Only that row changed; the other rows keep their order and their source.
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [("LUM-01,strategisk,6,,illustrative", "LUM-01,strategisk,3,,form")]
    assert b"\r" not in store.path.read_bytes()
    [entry] = read_log(root, 2022, "ledamot-a")
    assert {k: entry[k] for k in ("reviewer", "application_id", "criterion", "old", "new")} == {
        "reviewer": "ledamot-a", "application_id": "LUM-01", "criterion": "strategisk", "old": 6, "new": 3}
    assert str(entry["time"]).endswith("+00:00")
    # load.py reads the file the store wrote, and the log is not taken for a score file.
    scores = load_year(root, 2022).scores
    mine = scores[(scores["reviewer"] == "ledamot-a") & (scores["application_id"] == "LUM-01")]
    assert int(mine.loc[mine["criterion"] == "strategisk", "score"].iloc[0]) == 3
    assert set(scores["reviewer"]) == {"ledamot-a", "ledamot-b", "ledamot-c", "ledamot-d", "ledamot-e"}


def test_unscoring_keeps_the_row_empty_and_an_unchanged_value_writes_nothing(root: Path) -> None:
    store = _store(root)
    assert store.set_score("LUM-01", "strategisk", None) is not None
    assert _row(store.path, "LUM-01", "strategisk")[2] == ""
    assert ("LUM-01", "strategisk") not in store.read().scores
    assert store.set_score("LUM-01", "strategisk", None) is None
    assert len(read_log(root, 2022, "ledamot-a")) == 1


def test_comment_is_stored_on_every_row_of_the_application(root: Path) -> None:
    store = _store(root)
    store.set_comment("MUL-02", "Tydlig plan, \"bra\" förankring, åäö")
    rows = [line for line in store.path.read_text(encoding="utf-8").splitlines() if line.startswith("MUL-02,")]
    assert len(rows) == 4 and all('"Tydlig plan, ""bra"" förankring, åäö"' in r for r in rows)
    assert store.read().comments["MUL-02"] == 'Tydlig plan, "bra" förankring, åäö'
    assert read_log(root, 2022, "ledamot-a")[-1]["criterion"] == "comment"
    loaded = load_year(root, 2022).scores
    assert set(loaded.loc[loaded["application_id"] == "MUL-02", "comment"]) >= {'Tydlig plan, "bra" förankring, åäö'}


def test_a_new_reviewer_file_is_created(root: Path) -> None:
    store = _store(root, "ledamot-b")
    store.path.unlink()
    store.set_score("MUL-05", "forebyggande", 4)
    assert store.path.read_text(encoding="utf-8") == (
        "application_id,criterion,score,comment,source\nMUL-05,forebyggande,4,,form\n")


def test_a_crash_between_writing_and_renaming_leaves_the_old_file(root: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(root)
    before = store.path.read_bytes()

    def crash(src: str, dst: str) -> None:
        assert Path(src).read_bytes() != before  # the new content was written to the temp file
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(SaveError, match="kunde inte sparas.*No space left"):
        store.set_score("LUM-01", "strategisk", 1)
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir() if p.suffix == ".tmp") == []
    assert read_log(root, 2022, "ledamot-a") == []  # no log line for a change that was not saved


def test_the_store_refuses_what_the_loader_would_refuse(root: Path) -> None:
    with pytest.raises(SaveError, match="finns inte bland årets granskare"):
        _store(root, "ledamot-x")
    store = _store(root)
    with pytest.raises(SaveError, match="utanför skalan"):
        store.set_score("LUM-01", "strategisk", 8)
    with pytest.raises(SaveError, match="okänt kriterium"):
        store.set_score("LUM-01", "budget", 3)


def test_a_file_that_cannot_be_read_is_an_error_not_an_empty_file(root: Path) -> None:
    store = _store(root)
    store.path.write_text("application_id,criterion,betyg\nLUM-01,strategisk,3\n", encoding="utf-8")
    with pytest.raises(SaveError, match="kolumn"):
        store.set_score("LUM-01", "strategisk", 4)
    assert "betyg" in store.path.read_text(encoding="utf-8")  # left as it was


WRITER = textwrap.dedent("""
    import sys
    from fou_review.core.params import load_params
    from fou_review.workbook.scorestore import ScoreStore
    from pathlib import Path
    root, reviewer, criterion = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    store = ScoreStore(root, load_params(root, 2022), reviewer)
    apps = [f"LUM-{i:02d}" for i in range(1, 11)] + [f"MUL-{i:02d}" for i in range(1, 14)]
    for round_ in range(2):
        for app in apps:
            store.set_score(app, criterion, 1 + (round_ + len(app) + int(app[-2:])) % 7)
            store.set_score(app, criterion, 2 if round_ else 1)
""")


def test_two_processes_on_the_same_file_lose_no_change(root: Path) -> None:
    """Like two kernels of one reviewer: each changes its own criterion of every application at once."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(root), reviewer, criterion], env=env)
             for reviewer, criterion in (("ledamot-a", "strategisk"), ("ledamot-a", "forebyggande"),
                                         ("ledamot-b", "strategisk"))]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    a, b = _store(root, "ledamot-a").read().scores, _store(root, "ledamot-b").read().scores
    apps = [f"LUM-{i:02d}" for i in range(1, 11)] + [f"MUL-{i:02d}" for i in range(1, 14)]
    for app in apps:
        assert (a[(app, "strategisk")], a[(app, "forebyggande")], b[(app, "strategisk")]) == (2, 2, 2), app
    log = read_log(root, 2022, "ledamot-a")
    assert all(json.dumps(e) for e in log) and len({e["criterion"] for e in log}) == 2
    # Each process logged its own changes; the last value per cell in the log is the value on disk.
    last = {(e["application_id"], e["criterion"]): e["new"] for e in log}
    assert all(last.get((app, c), a[(app, c)]) == a[(app, c)] for app in apps for c in ("strategisk", "forebyggande"))
    assert len(load_year(root, 2022).scores) > 0  # still a valid year
