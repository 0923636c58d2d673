"""The record's pages and archival PDF begun while the kernel is still working; checked at the end.

The record's pages depend only on the cells that are not `review-only` (`record_content`), and the last
of those with outputs is the cell tagged `record` (its outputs are the record's sections). So when
papermill reports that cell executed, the pages are made from the cells executed so far, with the
title, Dnr and decision date of the validated year, in a background thread, and the main page is set
as a PDF: while the kernel runs the remaining cells (the record's other files) and the run stops it
and normalises the notebook.

Nothing rests on the guess: at the end the run takes the record's content from the whole executed
notebook, as always, and uses the early pages only if that content, the title and the Dnr are exactly
those they were made from, and the early PDF only if its page and date are exactly the published
page's; otherwise (a cell after `record` adding to the record, a title changed by the snapshot) they
are made again. Either way the files are those of the published notebook.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import nbformat

from fou_review.record import archive
from fou_review.record.html_export import MAIN_PAGE, Content, content_to_record_pages, record_content
from fou_review.yearly.normalise import INJECTED_TAG, without_review_only

RECORD_TAG = "record"  # the notebook cell whose outputs are the record's sections


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


class EarlyRecord:
    """Collects the executed cells (papermill's `on_cell_executed` hook); after the record cell, makes the
    pages and the PDF in a thread."""

    def __init__(self, source_cells: Sequence[Any], *, lang: str, title: str, dnr: str, decided: dt.date) -> None:
        self._source = list(source_cells)  # the notebook as papermill was given it (markdown cells included)
        self._lang, self._title, self._dnr, self._decided = lang, title, dnr, decided
        self._executed: list[Any] = []
        self._pool: ThreadPoolExecutor | None = None
        self._pages: Future[tuple[Content, dict[str, str]]] | None = None
        self._pdf: Future[tuple[str, bytes]] | None = None

    def on_cell_executed(self, cell: Any, cell_index: int, **_: Any) -> None:
        """nbclient's hook: keep a copy of the cell; after the record cell, begin the pages and the PDF."""
        if INJECTED_TAG in _tags(cell) or self._pages is not None:
            return
        self._executed.append(copy.deepcopy(cell))  # papermill still adds timing metadata to the original
        if RECORD_TAG in _tags(cell):
            nb = self._executed_so_far()
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fou-review-early-record")
            self._pages = self._pool.submit(self._make_pages, nb)
            self._pdf = self._pool.submit(self._make_pdf)

    def _executed_so_far(self) -> nbformat.NotebookNode:
        """The source notebook up to the record cell, each code cell replaced by its executed copy."""
        executed = iter(self._executed)
        cells = []
        for cell in self._source:
            runs = cell.get("cell_type") == "code" and "".join(cell.get("source", "")).strip()
            cells.append(next(executed) if runs else nbformat.from_dict(copy.deepcopy(cell)))  # type: ignore[no-untyped-call]
            if runs and RECORD_TAG in _tags(cell):
                break
        nb: nbformat.NotebookNode = nbformat.v4.new_notebook(cells=cells)  # type: ignore[no-untyped-call]
        return nb

    def _make_pages(self, nb: nbformat.NotebookNode) -> tuple[Content, dict[str, str]]:
        content = record_content(without_review_only(nb))
        return content, content_to_record_pages(content, lang=self._lang, title=self._title, dnr=self._dnr)

    def _make_pdf(self) -> tuple[str, bytes]:
        assert self._pages is not None
        page = self._pages.result()[1][MAIN_PAGE]
        return page, archive.record_pdf(page, decided=self._decided)

    def pages_for(self, content: Content, *, title: str, dnr: str) -> dict[str, str]:
        """The record's pages for the published notebook's `content`: the early ones if made from exactly it."""
        early: tuple[Content, dict[str, str]] | None = _result(self._pages)
        if early is not None and early[0] == content and (title, dnr) == (self._title, self._dnr):
            return early[1]
        return content_to_record_pages(content, lang=self._lang, title=title, dnr=dnr)

    def pdf_for(self, page: str, decided: dt.date) -> bytes:
        """The PDF of the published `page`: the early one if it was set from exactly this page and date."""
        early: tuple[str, bytes] | None = _result(self._pdf)
        if early is not None and early[0] == page and decided == self._decided:
            return early[1]
        return archive.record_pdf(page, decided=decided)

    def close(self) -> None:
        """Wait for the thread (if one was begun) and stop it."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _result(job: Future[Any] | None) -> Any:
    """A job's result, or None when there is no job or it failed (the thing is then made again)."""
    if job is None:
        return None
    try:
        return job.result()
    except Exception:  # noqa: BLE001 - the early guess failed: made again from the published notebook
        return None
