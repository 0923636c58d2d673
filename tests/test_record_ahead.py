"""The record's pages and archival PDF made ahead in a fork of the run, or with no fork in a thread of the
run (yearly/record_ahead.py): used only when made from exactly the published notebook's record, made
again from it otherwise; neither the fork nor the thread outlives the run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from fou_review.errors import RunError
from fou_review.record import archive
from fou_review.yearly import record_ahead
from fou_review.yearly import run as run_module
from fou_review.yearly.run import make_record

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the repository's 2022 inputs."""
    for part in ("params", "data", "notebooks"):
        shutil.copytree(REPO / part, tmp_path / part)
    return tmp_path


def fake_pdf(page: str, *, decided: dt.date) -> bytes:
    """A cheap stand-in for the archival PDF, naming the page it was set from (by hash) and the date."""
    return f"%PDF {hashlib.sha256(page.encode()).hexdigest()} {decided}".encode()


@pytest.fixture
def aheads(monkeypatch: pytest.MonkeyPatch) -> list[record_ahead.RecordAhead]:
    """Every fork started, as the run sees it; the PDF is the stand-in (in the run and in its fork, which
    inherits the patch)."""
    monkeypatch.setattr(archive, "record_pdf", fake_pdf)
    started: list[record_ahead.RecordAhead] = []
    real = record_ahead.start

    def counted(job: record_ahead.Job, **kw: Any) -> record_ahead.RecordAhead:
        ahead = real(job, **kw)
        if ahead.pid is not None:  # (`without_fork` starts none)
            started.append(ahead)
        return ahead

    monkeypatch.setattr(record_ahead, "start", counted)
    return started


def without_fork(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The record made with no fork and no thread: everything made by the run from the executed notebook."""
    with monkeypatch.context() as patch:
        patch.setattr(archive, "record_pdf", fake_pdf)
        patch.setattr(record_ahead, "fork_possible", lambda: False)
        patch.setattr(record_ahead.RecordAhead, "papermill_hooks", lambda self: {})
        return make_record(root, 2022, "sv", progress=False)


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[record_ahead.RecordAhead]:
    """No fork: the run's own thread makes the record ahead; every RecordAhead started, as the run sees it."""
    monkeypatch.setattr(archive, "record_pdf", fake_pdf)
    monkeypatch.setattr(record_ahead, "fork_possible", lambda: False)
    started: list[record_ahead.RecordAhead] = []
    real = record_ahead.start

    def counted(job: record_ahead.Job, **kw: Any) -> record_ahead.RecordAhead:
        started.append(real(job, **kw))
        return started[-1]

    monkeypatch.setattr(record_ahead, "start", counted)
    return started


def only(aheads: list[record_ahead.RecordAhead]) -> record_ahead.RecordAhead:
    """The one fork the run started (none means another thread ran in the test process at the time)."""
    assert len(aheads) == 1, f"forks started: {len(aheads)}"
    return aheads[0]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_forks_pages_and_pdf_are_the_published_ones(root: Path, aheads: list[record_ahead.RecordAhead],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    files = make_record(root, 2022, "sv", progress=False)
    ahead = only(aheads)
    assert ahead.used == {"pages", "pdf"}
    page = files["allocation.html"].decode("utf-8")
    assert files["allocation.pdf"] == fake_pdf(page, decided=dt.date(2021, 12, 14))
    assert files == without_fork(root, monkeypatch)  # the same bytes, every file
    assert ahead.pid is None and not (ahead.job.out / "pages.pickle").exists()  # reaped; the workspace is gone


def test_a_wrong_guess_is_made_again_from_the_published_notebook(root: Path, aheads: list[record_ahead.RecordAhead],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = run_module.ahead_job

    def wrong_title(*args: Any) -> record_ahead.Job:
        return dataclasses.replace(real(*args), title="Ett annat beslut")

    monkeypatch.setattr(run_module, "ahead_job", wrong_title)
    files = make_record(root, 2022, "sv", progress=False)
    assert only(aheads).used == set()
    assert "Ett annat beslut" not in files["allocation.html"].decode("utf-8")
    assert files == without_fork(root, monkeypatch)


def test_a_failed_fork_is_made_up_for_by_the_run(root: Path, aheads: list[record_ahead.RecordAhead],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(job: record_ahead.Job) -> Any:
        raise RuntimeError("the record could not be made ahead")

    monkeypatch.setattr(record_ahead, "make_ahead", broken)  # before the fork: the fork has it too
    files = make_record(root, 2022, "sv", progress=False)
    assert only(aheads).used == set()
    assert files == without_fork(root, monkeypatch)


def _add_cells(root: Path, *cells: dict[str, Any], before_last: bool = True) -> None:
    path = root / "notebooks" / "review.ipynb"
    nb = json.loads(path.read_text("utf-8"))
    at = len(nb["cells"]) - 1 if before_last else len(nb["cells"])
    nb["cells"][at:at] = list(cells)
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", "utf-8")


def _code(cell_id: str, source: str, tags: list[str]) -> dict[str, Any]:
    return {"cell_type": "code", "id": cell_id, "metadata": {"tags": tags}, "source": source,
            "execution_count": None, "outputs": []}


def test_a_record_cell_that_needs_the_workbook_is_made_by_the_run(root: Path, aheads: list[record_ahead.RecordAhead],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # the fork runs no review-only cell, so here it fails (NameError) and the run makes the record itself
    _add_cells(root, _code("wb", "late_note = 'Ett tillägg från arbetsboken'", ["review-only"]),
               _code("rec", "from IPython.display import HTML, display\ndisplay(HTML(f'<p>{late_note}</p>'))", []))
    files = make_record(root, 2022, "sv", progress=False)
    assert only(aheads).used == set()
    assert "Ett tillägg från arbetsboken" in files["allocation.html"].decode("utf-8")
    assert files == without_fork(root, monkeypatch)


def test_a_record_cell_added_anywhere_is_made_ahead_too(root: Path, aheads: list[record_ahead.RecordAhead]) -> None:
    _add_cells(root, {"cell_type": "markdown", "id": "late", "metadata": {}, "source": "## Ett tillägg"},
               before_last=False)
    files = make_record(root, 2022, "sv", progress=False)
    assert only(aheads).used == {"pages", "pdf"}
    assert "Ett tillägg" in files["allocation.html"].decode("utf-8")


def test_the_fork_is_stopped_when_the_execution_fails(root: Path, aheads: list[record_ahead.RecordAhead],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(job: record_ahead.Job) -> Any:
        time.sleep(60)  # still working when the run gives up

    monkeypatch.setattr(record_ahead, "make_ahead", slow)
    _add_cells(root, _code("bad", "raise ValueError('trasig cell')", ["review-only"]))
    with pytest.raises(RunError, match="trasig cell"):
        make_record(root, 2022, "sv", progress=False)
    ahead = only(aheads)
    assert ahead.pid is None


def test_the_fork_removes_the_font_folder_it_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a real PDF, from a fork of a process that has not set up WeasyPrint: its fonts' folder is the fork's own
    monkeypatch.setattr(archive, "_prepared", {})
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    html = (REPO / "reports" / "2022" / "allocation.html").read_text("utf-8")
    job = record_ahead.Job(tmp_path / "nb.ipynb", tmp_path, {}, lang="sv", title="T", dnr="D",
                           decided=dt.date(2021, 12, 14), out=tmp_path / "ahead")
    monkeypatch.setattr(record_ahead, "make_ahead", lambda job: ((), {"allocation.html": html}))
    ahead = record_ahead.start(job, applications=23)
    assert ahead.pid is not None
    pid = ahead.pid
    try:
        assert ahead.pages_for((), title="T", dnr="D") == {"allocation.html": html}
        pdf = ahead.pdf_for(html, dt.date(2021, 12, 14))
        assert ahead.used == {"pages", "pdf"} and pdf.startswith(b"%PDF-")
    finally:
        ahead.close()
    assert gone(pid)
    assert not list(tmp_path.glob(f"{archive.FONT_FOLDER_PREFIX}{pid}-*"))
    assert not archive.prepared()  # this process set up nothing


def test_without_a_fork_the_runs_thread_makes_them_from_the_kernels_record_cell(
        root: Path, threads: list[record_ahead.RecordAhead], monkeypatch: pytest.MonkeyPatch) -> None:
    files = make_record(root, 2022, "sv", progress=False)
    (ahead,) = threads
    assert ahead.pid is None and ahead.thread is not None and not ahead.thread.is_alive()
    assert ahead.used == {"pages", "pdf"}
    page = files["allocation.html"].decode("utf-8")
    assert files["allocation.pdf"] == fake_pdf(page, decided=dt.date(2021, 12, 14))
    assert files == without_fork(root, monkeypatch)  # the same bytes, every file


def test_the_thread_begins_after_the_last_record_cell(root: Path, threads: list[record_ahead.RecordAhead],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real = record_ahead.RecordAhead._make_in_thread

    def noted(self: record_ahead.RecordAhead, content: Any) -> None:
        assert self.executing is not None
        seen.append(sum(1 for cell in self.executing.cells if cell.get("execution_count")))
        real(self, content)

    record = record_ahead.last_record_code_cell(json.loads((root / "notebooks" / "review.ipynb").read_text("utf-8")))
    monkeypatch.setattr(record_ahead.RecordAhead, "_make_in_thread", noted)
    make_record(root, 2022, "sv", progress=False)
    assert record is not None and seen == [record + 2]  # the code cells up to it, and papermill's parameters


def test_a_later_cell_that_changes_the_record_is_seen(root: Path, threads: list[record_ahead.RecordAhead],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # a workbook cell updating a display of a record cell after the thread began: the thread's pages are
    # not the published notebook's, so the run makes them again
    _add_cells(root, _code("rec", "from IPython.display import HTML, display\n"
                                  "display(HTML('<p>Före ändringen</p>'), display_id='tillagg')", []),
               _code("upd", "from IPython.display import HTML, update_display\n"
                            "update_display(HTML('<p>Efter ändringen</p>'), display_id='tillagg')", ["review-only"]))
    files = make_record(root, 2022, "sv", progress=False)
    (ahead,) = threads
    assert "pages" in ahead.received and ahead.used == set()
    page = files["allocation.html"].decode("utf-8")
    assert "Efter ändringen" in page and "Före ändringen" not in page
    assert files == without_fork(root, monkeypatch)


def test_the_thread_has_ended_when_the_execution_fails(root: Path, threads: list[record_ahead.RecordAhead]) -> None:
    _add_cells(root, _code("bad", "raise ValueError('trasig cell')", ["review-only"]))
    with pytest.raises(RunError, match="trasig cell"):
        make_record(root, 2022, "sv", progress=False)
    (ahead,) = threads
    assert ahead.thread is not None and not ahead.thread.is_alive() and ahead.stopping


def test_a_large_year_gets_no_fork(tmp_path: Path) -> None:
    job = record_ahead.Job(tmp_path / "nb.ipynb", tmp_path, {}, lang="sv", title="T", dnr="D",
                           decided=dt.date(2021, 12, 14), out=tmp_path / "ahead")
    ahead = record_ahead.start(job, applications=record_ahead.MAX_APPLICATIONS + 1)
    assert ahead.pid is None and ahead._wait_for("pages") is None


def test_the_folders_of_a_killed_fork_not_yet_reaped_are_stale(tmp_path: Path) -> None:
    # a killed run's fork is reparented to PID 1, which may leave it a zombie for a while: ended all the same
    from fou_review.yearly.kernel import remove_stale_kernel_folders

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        folder = tmp_path / f"{archive.FONT_FOLDER_PREFIX}{pid}-abc"
        folder.mkdir()
        for _ in range(100):  # until the child has ended (a zombie until the waitpid below)
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.01)
        assert remove_stale_kernel_folders(tmp_path) == [folder] and not folder.exists()
    finally:
        os.waitpid(pid, 0)


def test_a_fork_that_says_nothing_is_stopped_and_the_run_makes_the_record(root: Path,
                                                                          aheads: list[record_ahead.RecordAhead],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def hung(job: record_ahead.Job) -> Any:
        time.sleep(3600)

    monkeypatch.setattr(record_ahead, "make_ahead", hung)
    monkeypatch.setattr(record_ahead, "WAIT_LIMIT_S", 0.5)
    files = make_record(root, 2022, "sv", progress=False)
    ahead = only(aheads)
    assert ahead.used == set() and ahead.pid is None
    assert files == without_fork(root, monkeypatch)


def test_the_fork_takes_the_review_handed_over_as_the_kernel_does(root: Path, aheads: list[record_ahead.RecordAhead],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # review_year fails wherever it is called after this (the kernel and the fork are forks of this process):
    # the record is still made ahead, so the fork reviewed nothing itself
    from fou_review.core import pipeline

    def refused(*args: Any) -> Any:
        raise AssertionError("reviewed again")

    files = make_record(root, 2022, "sv", progress=False)
    monkeypatch.setattr(pipeline, "review_year", refused)
    assert make_record(root, 2022, "sv", progress=False) == files
    assert aheads[-1].used == {"pages", "pdf"}
