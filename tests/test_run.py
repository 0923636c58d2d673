# mypy: disable-error-code="no-untyped-call"
"""The yearly run: publish, reproduce, verify, refuse, supersede, fail safely.

Every test works in a scratch project root (copies of params/, data/ and notebooks/); the committed
reports/ are only read. Full runs cost seconds each, so one module-scoped project is shared by the
tests that follow one record through its life, in order.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest

from fou_review.cli import main
from fou_review.errors import ManifestError, RunError
from fou_review.record.decisions_file import decisions_export_frame, decisions_to_xlsx_bytes
from fou_review.yearly.manifest import read_manifest, sha256_file
from fou_review.yearly.publish import RECORD_FILES
from fou_review.yearly.run import FrozenRecordError, run_year
from fou_review.yearly.verify import verify_year

YEAR = 2022


def make_project(repo_root: Path, dest: Path) -> Path:
    for part in ("params", "data", "notebooks"):
        shutil.copytree(repo_root / part, dest / part)
    return dest


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def project(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch root with a published 2022 record (one full run)."""
    root = make_project(repo_root, tmp_path_factory.mktemp("project"))
    run_year(root, YEAR, progress=False)
    return root


@pytest.fixture(scope="module")
def published(project: Path) -> dict[str, bytes]:
    return snapshot(project / "reports" / str(YEAR))


def test_run_publishes_every_file(published: dict[str, bytes]) -> None:
    assert sorted(published) == sorted(RECORD_FILES)
    html = published["allocation.html"].decode()
    assert html.startswith("<!DOCTYPE html>") and 'lang="sv"' in html
    assert "4\u00a0003\u00a0030\u00a0kr" in html


def test_manifest_names_every_input_by_hash(project: Path, published: dict[str, bytes]) -> None:
    manifest = json.loads(published["manifest.json"])
    assert published["manifest.json"].endswith(b"}\n")
    assert list(manifest) == sorted(manifest)
    assert manifest["year"] == YEAR and manifest["parameters"] == {"lang": "sv", "year": YEAR}
    assert manifest["supersedes"] is None
    assert manifest["notebook"] == {"path": "notebooks/review.ipynb",
                                    "sha256": sha256_file(project / "notebooks" / "review.ipynb")}
    paths = [e["path"] for e in manifest["inputs"]]
    assert paths == sorted(paths)
    expected = ["params/2022.yaml", "data/2022/applications.csv", "data/2022/conflicts.csv",
                "data/2022/overrides.yaml"] + [f"data/2022/scores/ledamot-{c}.csv" for c in "abcde"]
    assert sorted(expected) == paths
    for entry in manifest["inputs"]:
        assert entry["sha256"] == sha256_file(project / entry["path"])


def test_record_holds_no_absolute_path(project: Path, published: dict[str, bytes]) -> None:
    for name, data in published.items():
        assert str(project).encode() not in data, name
        assert str(Path.home()).encode() + b"/" not in data, name


def test_executed_notebook_is_normalised(published: dict[str, bytes]) -> None:
    nb = nbformat.reads(published["review.ipynb"].decode(), as_version=4)
    assert "papermill" not in nb.metadata
    assert "version" not in nb.metadata.get("language_info", {})
    ids = [c.id for c in nb.cells]
    assert "injected-parameters" in ids and len(set(ids)) == len(ids)
    for cell in nb.cells:
        assert "execution" not in cell.metadata and "papermill" not in cell.metadata
    injected = next(c for c in nb.cells if c.id == "injected-parameters")
    assert "year = 2022" in injected.source and "root" not in injected.source


def test_executed_notebook_keeps_the_workbook_widgets(published: dict[str, bytes]) -> None:
    """The form, calibration and what-if widgets are stored (renumbered ids), so they show before any
    cell runs; where widgets cannot show, a sentence says what is there; the record leaves them out."""
    nb = nbformat.reads(published["review.ipynb"].decode(), as_version=4)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert len(state) > 50 and sorted(state) == [f"w{n:04d}" for n in range(1, len(state) + 1)]
    views = {c.id: o["data"] for c in nb.cells for o in c.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})}
    assert sorted(views) == ["calibration", "scoring-form", "what-if"]
    for data in views.values():
        assert data["application/vnd.jupyter.widget-view+json"]["model_id"] in state
        assert "notebooken" in data["text/plain"] and "(children=" not in data["text/plain"]
    labels = json.dumps(state, ensure_ascii=False)
    assert "välj granskare" in labels and "Jag är" in labels
    html = published["allocation.html"].decode()
    assert "fou-whatif" not in html and "Bedömningsformuläret" not in html and "widget-state" not in html


def test_rerun_with_same_inputs_is_byte_identical(project: Path, published: dict[str, bytes]) -> None:
    assert main(["--root", str(project), "run", str(YEAR), "--quiet"]) == 0
    assert snapshot(project / "reports" / str(YEAR)) == published


def test_verify_catches_a_one_byte_change(project: Path, published: dict[str, bytes],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    record = project / "reports" / str(YEAR) / "allocation.html"
    data = bytearray(published["allocation.html"])
    at = data.index(b"4\xc2\xa0003\xc2\xa0030")
    data[at] = ord("5")  # one byte: 4 003 030 kr -> 5 003 030 kr
    record.write_bytes(bytes(data))
    try:
        assert main(["--root", str(project), "verify", str(YEAR), "--quiet"]) == 1
        err = capsys.readouterr().err
        assert "reports/2022/allocation.html: skiljer sig från rad" in err
        assert "5\u00a0003\u00a0030" in err and "4\u00a0003\u00a0030" in err
        for other in ("decisions.csv", "decisions.xlsx", "manifest.json", "review.ipynb"):
            assert other not in err
    finally:
        record.write_bytes(published["allocation.html"])


def test_verify_names_a_file_that_is_not_the_records(project: Path, published: dict[str, bytes],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    stray = project / "reports" / str(YEAR) / "bilaga-9.html"
    stray.write_bytes(published["allocation.html"])  # a plausible page, listed nowhere
    try:
        assert [(d.file, d.msgid) for d in verify_year(project, YEAR, progress=False)] == [
            ("reports/2022/bilaga-9.html", "verify.extra")]
        assert main(["--root", str(project), "--lang", "en", "verify", str(YEAR), "--quiet"]) == 1
        assert "reports/2022/bilaga-9.html: is not part of the official report" in capsys.readouterr().err
    finally:
        stray.unlink()


def test_changed_inputs_are_refused_without_supersede(project: Path, published: dict[str, bytes],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    scores = project / "data" / "2022" / "scores" / "ledamot-a.csv"
    scores.write_text(scores.read_text(encoding="utf-8").replace(",5,", ",4,", 1), encoding="utf-8")
    assert main(["--root", str(project), "run", str(YEAR), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "--supersede" in err and "fryst" in err
    with pytest.raises(FrozenRecordError):
        run_year(project, YEAR, progress=False)
    assert snapshot(project / "reports" / str(YEAR)) == published
    assert verify_year(project, YEAR, progress=False)[0].file == "data/2022/scores/ledamot-a.csv"


def test_supersede_keeps_the_earlier_record_versioned(project: Path, published: dict[str, bytes]) -> None:
    target = project / "reports" / str(YEAR)
    first = run_year(project, YEAR, supersede=True, progress=False)
    assert first.superseded == target / "superseded" / "1"
    assert snapshot(target / "superseded" / "1") == published
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    old_sha = sha256_file(target / "superseded" / "1" / "allocation.html")
    assert manifest["supersedes"] == {"path": "reports/2022/superseded/1/allocation.html", "sha256": old_sha}
    html = (target / "allocation.html").read_text(encoding="utf-8")
    assert "reports/2022/superseded/1/allocation.html" in html and old_sha in html
    second_record = snapshot(target)
    # unchanged inputs: a plain re-run re-publishes the same bytes, superseded record included
    run_year(project, YEAR, progress=False)
    assert snapshot(target) == second_record
    # superseding again never overwrites: a second version appears, the first stays as it was
    run_year(project, YEAR, supersede=True, progress=False)
    assert snapshot(target / "superseded" / "1") == published
    assert (target / "superseded" / "2" / "allocation.html").read_bytes() == second_record["allocation.html"]


def test_english_record_lives_in_en_and_survives_swedish_runs(project: Path) -> None:
    target = project / "reports" / str(YEAR)
    run_year(project, YEAR, "en", progress=False)
    english = snapshot(target / "en")
    assert sorted(english) == sorted(RECORD_FILES)
    assert 'lang="en"' in english["allocation.html"].decode()
    assert json.loads(english["manifest.json"])["parameters"] == {"lang": "en", "year": YEAR}
    assert b"granted" in english["decisions.csv"]
    run_year(project, YEAR, progress=False)  # the Swedish record is re-published around it
    assert snapshot(target / "en") == english


@pytest.fixture
def fresh_project(repo_root: Path, tmp_path: Path) -> Path:
    """A scratch project without any record, free to break."""
    return make_project(repo_root, tmp_path)


def test_failing_cell_leaves_the_previous_record_untouched(project: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    shutil.copytree(project, root, ignore=shutil.ignore_patterns("en", "superseded"))
    notebook = root / "notebooks" / "review.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(4, nbformat.v4.new_code_cell('raise ValueError("avsiktligt fel i testet")', id="boom"))
    nbformat.write(nb, notebook)
    (root / "reports" / "2022" / "manifest.json").unlink()  # no frozen check in the way: a fresh run
    before = snapshot(root / "reports")
    assert main(["--root", str(root), "run", str(YEAR), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "cell 5 (In [6]" in err and "ValueError: avsiktligt fel i testet" in err
    assert snapshot(root / "reports") == before
    assert [p.name for p in (root / "reports").iterdir()] == ["2022"]  # no temporary folder left behind


def test_inputs_broken_before_the_snapshot_fail_in_the_notebook(project: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import fou_review.yearly.run as run_module

    root = tmp_path / "root"
    shutil.copytree(project, root, ignore=shutil.ignore_patterns("en", "superseded"))
    (root / "reports" / "2022" / "manifest.json").unlink()
    before = snapshot(root / "reports")
    real_copy = run_module.Workspace.copy_inputs

    def break_scores_then_copy(self: run_module.Workspace, *args: object) -> object:
        (root / "data" / "2022" / "scores" / "ledamot-b.csv").write_text("application_id,criterion,score\n"
                                                                          "LUM-01,prevention,nio\n")
        return real_copy(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module.Workspace, "copy_inputs", break_scores_then_copy)
    with pytest.raises(RunError) as caught:
        run_year(root, YEAR, progress=False)
    assert caught.value.ename == "InputError" and "ledamot-b.csv" in str(caught.value)
    assert caught.value.cell_index is not None
    assert snapshot(root / "reports") == before


@pytest.fixture(scope="module")
def untouched(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A copy of the repository's inputs that nothing changes, and the record a run makes from them in a
    project of its own (not the committed record: whether that is current is
    `test_committed_2022_record_is_reproducible`'s question, not this one's)."""
    inputs = make_project(repo_root, tmp_path_factory.mktemp("inputs"))
    root = make_project(inputs, tmp_path_factory.mktemp("untouched"))
    run_year(root, YEAR, progress=False)
    return inputs, snapshot(root / "reports" / str(YEAR))


@pytest.mark.parametrize("step", ["snapshot", "executed"])
def test_an_input_changed_while_run_executes_never_mixes_the_record(
        untouched: tuple[Path, dict[str, bytes]], tmp_path: Path, step: str) -> None:
    """`FOU_REVIEW_FAULT=<step>:wait=<gate>` pauses the run after the snapshot (nothing executed) or after
    the one execution (nothing published); the test then saves a score and lets it go on. The record
    published is the snapshot's (the record of the repository's inputs, made apart), in every file, as its
    manifest says; verify then names the score file."""
    inputs, published = untouched
    root = make_project(inputs, tmp_path / "root")
    gate = tmp_path / "gate"
    env = {**os.environ, "FOU_REVIEW_FAULT": f"{step}:wait={gate}"}
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        run = subprocess.Popen([str(Path(sys.executable).parent / "fou-review"), "--root", str(root), "run",
                                str(YEAR), "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 120
        while not Path(f"{gate}.waiting").exists():
            assert run.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        scores = root / "data" / "2022" / "scores" / "ledamot-a.csv"
        original = scores.read_bytes()
        changed = original.replace(b"LUM-01,strategisk,6,", b"LUM-01,strategisk,1,", 1)
        assert changed != original
        scores.write_bytes(changed)
        gate.touch()
        assert run.wait(timeout=300) == 0, log.read_text()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    record = snapshot(root / "reports" / str(YEAR))
    assert record == published  # every file as made from the inputs before the change, the manifest too
    manifest = json.loads(record["manifest.json"])
    entry = next(e for e in manifest["inputs"] if e["path"] == "data/2022/scores/ledamot-a.csv")
    assert entry["sha256"] == hashlib.sha256(original).hexdigest() != sha256_file(scores)
    for item in manifest["files"]:
        assert hashlib.sha256(record[item["path"]]).hexdigest() == item["sha256"]
    differences = verify_year(root, YEAR, progress=False)
    assert [d.file for d in differences if d.msgid == "verify.input_changed"] == ["data/2022/scores/ledamot-a.csv"]


def test_input_mistake_is_one_line_exit_2(fresh_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apps = fresh_project / "data" / "2022" / "applications.csv"
    apps.write_text(apps.read_text(encoding="utf-8").replace("LUM,Farsta,", "LUM,Farstaa,", 1), encoding="utf-8")
    assert main(["--root", str(fresh_project), "run", str(YEAR), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "applications.csv, rad 2, kolumn 'applicants'" in err[0]
    assert not (fresh_project / "reports").exists()


def test_xlsx_never_holds_a_formula() -> None:
    hostile = pd.DataFrame({
        "id": ["A-1", "A-2", "A-3", "A-4"], "fund": ["LUM"] * 4,
        "applicants": ["=HYPERLINK(\"http://x\",\"y\")", "+SUM(1,2)", "-2+3", "@cmd"],
        "title": ["=1+1", "ok", "\t=tab", "\r=cr"], "requested_kr": [1, 2, 3, 4], "granted_kr": [1, 0, 0, 0],
        "decision": ["beviljas"] * 4, "reason": ["=A1"] * 4, "reason_code": ["granted"] * 4,
        "decision_en": ["granted"] * 4, "reason_en": ["-x"] * 4, "rank": [1, 2, 3, 4],
        "total_score": [1.5, 2.0, float("nan"), 3.25], "source": ["illustrative"] * 4})
    data = decisions_to_xlsx_bytes(decisions_export_frame(hostile))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in texts and "'+SUM(1,2)" in texts and "'@cmd" in texts
    assert sheet["E2"].value == 1 and sheet["E2"].data_type == "n"


def test_xlsx_is_byte_identical_over_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import time as time_module

    frame = pd.DataFrame({c: ["x"] for c in ("id", "fund", "applicants", "title", "decision", "reason",
                                            "reason_code", "source")} | {"requested_kr": [1], "granted_kr": [1],
                                                                         "rank": [1], "total_score": [2.0]})
    first = decisions_to_xlsx_bytes(frame)
    later = time_module.time() + 86_400 * 400
    monkeypatch.setattr(time_module, "time", lambda: later)
    monkeypatch.setattr(time_module, "localtime", lambda *a: time_module.gmtime(later))
    assert decisions_to_xlsx_bytes(frame) == first


def test_committed_2022_record_is_reproducible(repo_root: Path) -> None:
    """`fou-review verify 2022` on the repository itself: the committed record is what today's code
    and inputs make, byte for byte (re-run `fou-review run 2022` after changing how records look)."""
    assert [str(d) for d in verify_year(repo_root, YEAR, progress=False)] == []


def test_a_broken_manifest_is_a_manifest_error_in_either_language(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_text("{\n  oops\n", encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        read_manifest(bad)
    assert f"{bad}: ogiltig JSON på rad 2" == str(caught.value)
    assert f"{bad}: invalid JSON on line 2" == caught.value.message("en")
    bad.write_text("[]\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="förväntade ett JSON-objekt"):
        read_manifest(bad)
