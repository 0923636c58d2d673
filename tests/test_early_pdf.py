"""The archival PDF begun while the kernel works (yearly/early_pdf.py): used only when its page is the
published page, set again from the published page otherwise."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from fou_review.record import archive
from fou_review.yearly import early_pdf as early_module
from fou_review.yearly.run import make_record

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the repository's 2022 inputs."""
    for part in ("params", "data", "notebooks"):
        shutil.copytree(REPO / part, tmp_path / part)
    return tmp_path


@pytest.fixture
def pdf_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dt.date]]:
    """Every page the run sets as a PDF (a cheap stand-in PDF naming the page's length and date)."""
    calls: list[tuple[str, dt.date]] = []

    def fake(page: str, *, decided: dt.date) -> bytes:
        calls.append((page, decided))
        return f"%PDF {len(page)} {decided}".encode()

    monkeypatch.setattr(archive, "record_pdf", fake)
    return calls


def test_the_early_pdf_is_the_published_pages(root: Path, pdf_calls: list[tuple[str, dt.date]]) -> None:
    files = make_record(root, 2022, "sv", progress=False)
    page = files["allocation.html"].decode("utf-8")
    assert len(pdf_calls) == 1  # begun after the record cell, and it was the published page
    assert pdf_calls[0][0] == page
    assert files["allocation.pdf"] == f"%PDF {len(page)} {pdf_calls[0][1]}".encode()


def test_a_wrong_guess_is_set_again_from_the_published_page(root: Path, pdf_calls: list[tuple[str, dt.date]],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    real = early_module.EarlyPdf.__init__

    def wrong_title(self: Any, metadata: dict[str, Any], **kw: Any) -> None:
        real(self, metadata, **(kw | {"title": "Ett annat beslut"}))

    monkeypatch.setattr(early_module.EarlyPdf, "__init__", wrong_title)
    files = make_record(root, 2022, "sv", progress=False)
    page = files["allocation.html"].decode("utf-8")
    assert len(pdf_calls) == 2 and pdf_calls[0][0] != page and pdf_calls[1][0] == page
    assert files["allocation.pdf"] == f"%PDF {len(page)} {pdf_calls[1][1]}".encode()


def test_a_failed_guess_is_set_again(root: Path, pdf_calls: list[tuple[str, dt.date]],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any, nb: Any) -> tuple[str, bytes]:
        raise RuntimeError("the early page could not be made")

    monkeypatch.setattr(early_module.EarlyPdf, "_render", broken)
    files = make_record(root, 2022, "sv", progress=False)
    assert [call[0] for call in pdf_calls] == [files["allocation.html"].decode("utf-8")]


def test_the_record_cell_is_tagged() -> None:
    import json

    cells = json.loads((REPO / "notebooks" / "review.ipynb").read_text("utf-8"))["cells"]
    tagged = [c for c in cells if early_module.RECORD_TAG in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "render_record_sections" in "".join(tagged[0]["source"])
