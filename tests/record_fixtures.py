"""Shared by the record's tests: Chromium for the browser tests, a record page rendered without a
kernel (each section in its own cell, as the notebook shows it), and a copy's applications edited."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import Browser, sync_playwright

from fou_review.core.pipeline import Review
from fou_review.record.html_export import notebook_to_record_html
from fou_review.record.sections import record_title, render_record_sections

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by playwright (no `playwright install` needed)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def record_page(review: Review, manifest: Mapping[str, Any], lang: str = "sv", dnr: str = "") -> str:
    """The record page: each fragment displayed as text/html in its own cell, as the notebook does."""
    nb = nbformat.v4.new_notebook()
    for section_id, fragment in render_record_sections(review, manifest, lang):
        cell = nbformat.v4.new_code_cell(f"display(HTML(sections[{section_id!r}]))")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": fragment,
                                                                     "text/plain": "<IPython.core.display.HTML>"})]
        nb.cells.append(cell)
    return notebook_to_record_html(nb, lang=lang, title=record_title(review, lang), dnr=dnr)


def edit_applications(path: Path, edit: Callable[[dict[str, str]], None]) -> None:
    """Rewrite an applications.csv with `edit` applied to every row (a dict of its cells)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        edit(row)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
