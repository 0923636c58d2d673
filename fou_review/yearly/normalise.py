"""Normalising an executed notebook: the same inputs give the same bytes.

Two papermill runs differ in papermill's and the kernel's timing metadata, in the random id of the
injected-parameters cell, in saved widget state and widget model ids, and in the Python version
recorded in `language_info`. All of that is stripped or fixed here; the outputs themselves are left
alone (they are deterministic, or the record would not be).
"""

from __future__ import annotations

import copy

import nbformat
from nbformat import NotebookNode

INJECTED_TAG = "injected-parameters"
REVIEW_ONLY_TAG = "review-only"  # cells shown in review.ipynb but left out of allocation.html
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def normalise_notebook(nb: NotebookNode, title: str) -> NotebookNode:
    """A copy of `nb` without volatile metadata, with fixed cell ids and a fixed title."""
    out = copy.deepcopy(nb)
    meta = out.metadata
    for key in ("papermill", "widgets"):
        meta.pop(key, None)
    if "language_info" in meta:
        meta["language_info"].pop("version", None)
    meta["title"] = title
    for i, cell in enumerate(out.cells):
        for key in ("execution", "papermill", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        if INJECTED_TAG in cell.metadata.get("tags", []):
            cell["id"] = INJECTED_TAG
        elif not cell.get("id"):
            cell["id"] = f"cell-{i}"
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    return out


def notebook_bytes(nb: NotebookNode) -> bytes:
    """nbformat's canonical JSON (sorted keys, one-space indent) with a trailing newline."""
    text: str = nbformat.writes(nb)  # type: ignore[no-untyped-call]
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def without_review_only(nb: NotebookNode) -> NotebookNode:
    """The notebook as the record shows it: cells tagged `review-only` removed."""
    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if REVIEW_ONLY_TAG not in c.metadata.get("tags", [])]
    return out
