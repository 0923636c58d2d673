"""The archival PDF begun while the kernel is still working: a guess at the page, checked at the end.

The PDF is the record page (`allocation.html`) set by WeasyPrint, the longest single step of a run.
The page depends only on the cells that are not `review-only`, and the last of those with outputs is
the cell tagged `record` (its outputs are the record's sections). So when papermill reports that cell
executed, the page is made from the cells executed so far, with the title, Dnr and decision date
the run validated, and set as a PDF in a background thread while the kernel runs the remaining
cells (the record's other files) and the run stops it and converts the notebook.

Nothing rests on the guess: at the end the run makes the page from the whole executed notebook as
always, and the early PDF is used only if its page and date are exactly those; otherwise (a cell after
`record` that adds to the record, a title changed by the snapshot) the PDF is set again from the
published page. Either way the PDF is the published page's.
"""

from __future__ import annotations

import copy
import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import nbformat

from fou_review.record import archive
from fou_review.record.html_export import MAIN_PAGE, notebook_to_record_pages
from fou_review.yearly.normalise import normalise_notebook, without_review_only

RECORD_TAG = "record"  # the notebook cell whose outputs are the record's sections


class EarlyPdf:
    """Collects the executed cells (papermill's `on_cell_executed` hook) and sets the PDF after the record cell."""

    def __init__(self, metadata: dict[str, Any], *, lang: str, title: str, dnr: str, decided: dt.date) -> None:
        self._metadata = copy.deepcopy(metadata)
        self._lang, self._title, self._dnr, self._decided = lang, title, dnr, decided
        self._cells: dict[int, Any] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._job: Future[tuple[str, bytes]] | None = None

    def on_cell_executed(self, cell: Any, cell_index: int, **_: Any) -> None:
        """nbclient's hook: keep a copy of the cell; after the record cell, start the PDF."""
        self._cells[cell_index] = copy.deepcopy(cell)  # papermill still adds timing metadata to the original
        if self._job is None and RECORD_TAG in cell.get("metadata", {}).get("tags", []):
            nb = nbformat.v4.new_notebook(cells=[self._cells[i] for i in sorted(self._cells)])  # type: ignore[no-untyped-call]
            nb.metadata = nbformat.from_dict(self._metadata)  # type: ignore[no-untyped-call]
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fou-review-early-pdf")
            self._job = self._pool.submit(self._render, nb)

    def _render(self, nb: nbformat.NotebookNode) -> tuple[str, bytes]:
        page = notebook_to_record_pages(without_review_only(normalise_notebook(nb, self._title)), lang=self._lang,
                                        title=self._title, dnr=self._dnr, main_only=True)[MAIN_PAGE]
        return page, archive.record_pdf(page, decided=self._decided)

    def pdf_for(self, page: str, decided: dt.date) -> bytes:
        """The PDF of the published `page`: the early one if it was set from exactly this page and date."""
        early = self.close()
        if early is not None and early[0] == page and decided == self._decided:
            return early[1]
        return archive.record_pdf(page, decided=decided)

    def close(self) -> tuple[str, bytes] | None:
        """Wait for the early PDF (if one was begun) and stop its thread; its page and bytes, or None if it failed."""
        if self._pool is None or self._job is None:
            return None
        try:
            return self._job.result()
        except Exception:  # noqa: BLE001 - the guess failed: the PDF is set from the published page instead
            return None
        finally:
            self._pool.shutdown(wait=True)
            self._pool = None
