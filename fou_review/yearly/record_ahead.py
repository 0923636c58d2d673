"""The record's pages and archival PDF made ahead, in a fork of the run, while the kernel works.

What the record shows is a function of the review notebook's cells that are not tagged `review-only`:
the text of their markdown and what their code displays (`html_export.record_content`). Those cells
read the year's snapshot and nothing that the workbook's cells (all `review-only`) do. So as the
execution begins, a fork of the run executes those cells alone, in order, in the snapshot's folder,
with papermill's parameters set after the `parameters` cell as papermill sets them, capturing what
they display with IPython's own display formatter (`capture_output`). From that content it makes the
record's pages and sends them back through a pipe, then sets the main page as the archival PDF
(seconds of WeasyPrint) and sends that. The kernel meanwhile executes the whole notebook; the run's
critical path no longer waits for the PDF to begin after the record cell.

Nothing rests on the guess: the run uses the pages only if the executed notebook's record content,
title and Dnr are exactly those they were made from, and the PDF only if it was made from exactly the
published main page and date. Otherwise (a record cell that displays something else in the kernel, a
fork that failed or was killed) the run makes them itself from the executed notebook, as it would
without. Either way the files are those of the published notebook.

The fork is made only where that is safe, POSIX and no other Python thread in the run (a lock held by
another thread would stay locked in the child), and where it pays: a year of up to `MAX_APPLICATIONS`.
It dies with the run (Linux's PR_SET_PDEATHSIG), runs none of the run's exit handlers (it ends with
`os._exit`), removes the font folder WeasyPrint copies if it made one, and the run stops and reaps it
before returning.

Without a fork (a large year, or no fork possible) the run makes them in a thread of its own, from the
kernel's own outputs: the review notebook's record cell comes before the workbook's cells, so as soon as
the last code cell that reaches the record has executed (nbclient's `on_cell_executed`, through papermill),
the record's content is what it will be, and the thread makes the pages and the PDF from it while the
workbook's cells execute. The same check decides whether they are used (a later cell could still change
an earlier display). The run waits for the thread before it returns; once the execution has failed the
thread sets no PDF.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NoReturn

import nbformat

from fou_review.forking import die_with_parent, fork_possible
from fou_review.record import archive
from fou_review.record.html_export import (
    MAIN_PAGE,
    REVIEW_ONLY_TAG,
    Content,
    content_to_record_pages,
    record_content,
)
from fou_review.yearly.kernel import remove_stale_kernel_folders
from fou_review.yearly.review_handover import REVIEW_ENV

PARAMETERS_TAG = "parameters"  # papermill injects its values after the cell with this tag
# Up to this many applications the fork pays. Beyond, the kernel's analysis keeps both CPUs of a small
# machine busy (numpy's and its own threads) and a process beside it slows it more than it gains (10^4
# applications: 7.3 s against 6.0 s with the PDF left aside, 16.9 s against 17.1 s with it; 10^3: 2.6 s
# against 3.0 s with the PDF).
MAX_APPLICATIONS = 5_000
WAIT_LIMIT_S = 600.0  # the longest the run waits for the fork's next word (its PDF takes seconds)


@dataclass(frozen=True)
class Job:
    """What the fork makes: the record of `notebook` executed in `folder` with `parameters`."""

    notebook: Path
    folder: Path
    parameters: Mapping[str, object]
    lang: str
    title: str
    dnr: str
    decided: dt.date
    out: Path  # where the fork leaves what it made (a folder of the run's own): the pipe says when
    review: Path | None = None  # the run's review handed over, as to the kernel (`review_handover`)


def execute_record_cells(notebook: Mapping[str, Any], parameters: Mapping[str, object]) -> nbformat.NotebookNode:
    """`notebook` (as read from its JSON) with the cells that reach the record executed here, in this
    process's working folder, and their displays captured as outputs; the other code cells are left
    without outputs. RuntimeError names a cell that failed."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no history database, no thread
    shell = InteractiveShell.instance(config=config)
    nb: nbformat.NotebookNode = nbformat.from_dict(notebook)  # type: ignore[no-untyped-call] # new nodes throughout
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs, tags = [], cell.metadata.get("tags", [])
        if REVIEW_ONLY_TAG in tags:
            continue
        source = "".join(cell.source) if isinstance(cell.source, list) else cell.source
        with capture_output(stdout=True, stderr=True, display=True) as captured:
            result = shell.run_cell(source, store_history=False, silent=True)  # type: ignore[no-untyped-call]
        if not result.success:
            raise RuntimeError(f"cell {index}: {result.error_before_exec or result.error_in_exec!r}")
        cell.outputs = [nbformat.from_dict({"output_type": "display_data", "data": out.data,  # type: ignore[no-untyped-call]
                                            "metadata": out.metadata or {}}) for out in captured.outputs]
        if PARAMETERS_TAG in tags:
            shell.user_ns.update(parameters)
    return nb


def make_ahead(job: Job) -> tuple[Content, dict[str, str]]:
    """The record's content and pages from the record cells executed here (see the module's docstring)."""
    notebook = json.loads(job.notebook.read_text("utf-8"))
    os.chdir(job.folder)
    content = record_content(execute_record_cells(notebook, job.parameters))
    return content, content_to_record_pages(content, lang=job.lang, title=job.title, dnr=job.dnr)


def preload(lang: str) -> None:
    """Set up what the fork needs and the run itself does not, in this process before the fork: a process
    running many years pays for it once. IPython's shell and capture; nbconvert's exporter with the record
    page's template and nbformat's validator, by making a page of nothing (a tenth of a second or more)."""
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401
    from IPython.utils.capture import capture_output  # noqa: F401

    content_to_record_pages((), lang=lang, title="", dnr="")


def _work(job: Job, conn: Connection, parent: int) -> NoReturn:
    """In the forked child: leave (content, pages) in `job.out`, say "pages", then (page, PDF) and say "pdf";
    never returns. (What is made goes through a file: a pipe holds 64 KB, and the fork must not wait for
    the run to read the pages before it sets the PDF.)"""
    code, fresh = 1, not archive.prepared()
    try:
        die_with_parent(parent)
        gc.disable()  # a process this short ends (os._exit) before garbage matters; the collector would walk
        # the whole heap it shares with the run, again and again, while WeasyPrint sets the PDF (a fifth of it)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - until os._exit
        sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - the cells' prints
        if job.review is not None:
            os.environ[REVIEW_ENV] = str(job.review)  # the load cell takes it, as the kernel's does
        content, pages = make_ahead(job)
        _leave(job.out, "pages", (content, pages), conn)
        pdf = archive.record_pdf(pages[MAIN_PAGE], decided=job.decided)
        if fresh:
            archive.release()  # before the run is told: it may stop this process as soon as it has the PDF
        _leave(job.out, "pdf", (pages[MAIN_PAGE], pdf), conn)
        code = 0
    except BaseException:  # noqa: BLE001, S110 - the run makes what did not come, itself
        pass
    finally:
        with contextlib.suppress(BaseException):
            conn.close()
            if fresh:
                archive.release()  # the font folder this process made (its exit handlers do not run)
        os._exit(code)


def _leave(out: Path, kind: str, made: tuple[Any, Any], conn: Connection) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{kind}.pickle").write_bytes(pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL))
    conn.send(kind)


def last_record_code_cell(nb: Mapping[str, Any]) -> int | None:
    """The index of the last code cell of `nb` that reaches the record (not tagged `review-only`), if any."""
    indices = [index for index, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
               and REVIEW_ONLY_TAG not in cell.get("metadata", {}).get("tags", [])]
    return indices[-1] if indices else None


@dataclass
class RecordAhead:
    """The fork making the record ahead (`start`), or, with no fork, the run's own thread (`papermill_hooks`)."""

    job: Job
    pid: int | None = None
    conn: Connection | None = None
    received: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # what the run took from the fork or thread: "pages", "pdf"
    thread: threading.Thread | None = None
    pages_made: threading.Event = field(default_factory=threading.Event)  # the thread's pages are in `received`
    executing: Any = None  # the notebook papermill executes, once it has begun (no fork)
    ready_at: int | None = None  # the index of its last code cell that reaches the record
    stopping: bool = False  # the run has what it needs or has failed: the thread sets no PDF

    def papermill_hooks(self) -> dict[str, Callable[..., None]]:
        """nbclient's hooks for papermill's execution: with no fork, the thread begins after the last code cell
        that reaches the record (see the module's docstring); with a fork, none."""
        if self.pid is not None:
            return {}
        return {"on_notebook_start": self._notebook_start, "on_cell_executed": self._cell_executed}

    def _notebook_start(self, notebook: Any, **_: Any) -> None:
        self.executing, self.ready_at = notebook, last_record_code_cell(notebook)

    def _cell_executed(self, cell: Any, cell_index: int, execute_reply: Mapping[str, Any], **_: Any) -> None:
        nb = self.executing
        if nb is None or self.thread is not None or execute_reply.get("content", {}).get("status") != "ok":
            return
        if cell_index == self.ready_at:
            content = record_content(nb)  # texts (immutable): the thread reads nothing the run changes
            self.thread = threading.Thread(target=self._make_in_thread, args=(content,), daemon=True,
                                           name="fou-review-record-ahead")
            self.thread.start()

    def _make_in_thread(self, content: Content) -> None:
        """In the run's thread: the pages (then the PDF) from `content`, left in `received` (the run reads them
        once the thread has ended)."""
        try:
            try:
                pages = content_to_record_pages(content, lang=self.job.lang, title=self.job.title, dnr=self.job.dnr)
                self.received["pages"] = (content, pages)
            finally:
                self.pages_made.set()
            if not self.stopping:
                page = pages[MAIN_PAGE]
                self.received["pdf"] = (page, archive.record_pdf(page, decided=self.job.decided))
        except Exception:  # noqa: BLE001, S110 - the run makes what did not come, itself
            pass

    def _wait_for(self, kind: str) -> tuple[Any, Any] | None:
        """The fork's (or thread's) `kind` (waiting for it), or None when the fork ended without sending it or
        said nothing for `WAIT_LIMIT_S` (then it is stopped: a hung guess must not hang the run)."""
        if self.thread is not None:
            done = self.pages_made.wait(WAIT_LIMIT_S) if kind == "pages" else self._joined()
            return self.received.get(kind) if done else None
        while kind not in self.received and self.conn is not None:
            try:
                if not self.conn.poll(WAIT_LIMIT_S):
                    self.close()
                    break
                said = self.conn.recv()  # a file of our own fork's: trusted as the run's own memory
                self.received[said] = pickle.loads((self.job.out / f"{said}.pickle").read_bytes())
            except (EOFError, OSError, pickle.UnpicklingError):
                self.conn.close()
                self.conn = None
        return self.received.get(kind)

    def pages_for(self, content: Content, *, title: str, dnr: str) -> dict[str, str]:
        """The record's pages for the published notebook's `content`: the fork's if made from exactly it."""
        ahead = self._wait_for("pages")
        if ahead is not None and ahead[0] == content and (title, dnr) == (self.job.title, self.job.dnr):
            self.used.add("pages")
            pages: dict[str, str] = ahead[1]
            return pages
        return content_to_record_pages(content, lang=self.job.lang, title=title, dnr=dnr)

    def pdf_for(self, page: str, decided: dt.date) -> bytes:
        """The PDF of the published main `page`: the fork's if set from exactly this page and date."""
        pages = self.received.get("pages")
        set_from_this_page = pages is not None and pages[1].get(MAIN_PAGE) == page  # else not worth waiting for
        ahead = self._wait_for("pdf") if set_from_this_page else None
        if ahead is not None and ahead[0] == page and decided == self.job.decided:
            self.used.add("pdf")
            pdf: bytes = ahead[1]
            return pdf
        self.close()  # a fork still setting another page as a PDF only takes a CPU from this one
        return archive.record_pdf(page, decided=decided)

    def _joined(self) -> bool:
        assert self.thread is not None
        self.thread.join(WAIT_LIMIT_S)
        return not self.thread.is_alive()

    def close(self) -> None:
        """Stop the fork if it still runs, and reap it; wait for the thread (it sets no PDF from now on)."""
        self.stopping = True
        if self.thread is not None:
            self.thread.join(WAIT_LIMIT_S)
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            remove_stale_kernel_folders()  # its font folder, if it was stopped before its own `release`
            self.pid = None


def start(job: Job, *, applications: int) -> RecordAhead:
    """Fork the process making `job` ahead for a year of `applications`, when that is safe and pays (see
    the module's docstring)."""
    ahead = RecordAhead(job)
    if applications > MAX_APPLICATIONS or not fork_possible():
        return ahead
    preload(job.lang)
    receiver, sender = Pipe(duplex=False)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        receiver.close()
        _work(job, sender, parent)
    sender.close()
    ahead.pid, ahead.conn = pid, receiver
    return ahead


__all__ = ["Job", "RecordAhead", "execute_record_cells", "last_record_code_cell", "make_ahead", "preload", "start"]
