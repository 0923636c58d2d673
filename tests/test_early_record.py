"""The record's pages and archival PDF begun while the kernel works (yearly/early_record.py): used only
when made from exactly the published notebook's record, made again from it otherwise."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from fou_review.record import archive, html_export
from fou_review.yearly import early_record as early_module
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


@pytest.fixture
def page_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The title of every set of record pages made."""
    calls: list[str] = []
    real = html_export.content_to_record_pages

    def counted(content: Any, **kw: Any) -> dict[str, str]:
        calls.append(kw["title"])
        return real(content, **kw)

    monkeypatch.setattr(early_module, "content_to_record_pages", counted)
    return calls


def test_the_early_pages_and_pdf_are_the_published_ones(root: Path, pdf_calls: list[tuple[str, dt.date]],
                                                        page_calls: list[str]) -> None:
    files = make_record(root, 2022, "sv", progress=False)
    assert len(page_calls) == 1  # made once, early, and used
    page = files["allocation.html"].decode("utf-8")
    assert len(pdf_calls) == 1  # begun after the record cell, and it was the published page
    assert pdf_calls[0][0] == page
    assert files["allocation.pdf"] == f"%PDF {len(page)} {pdf_calls[0][1]}".encode()


def test_a_wrong_guess_is_made_again_from_the_published_notebook(root: Path, pdf_calls: list[tuple[str, dt.date]],
                                                                 page_calls: list[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = early_module.EarlyRecord.__init__

    def wrong_title(self: Any, cells: list[Any], **kw: Any) -> None:
        real(self, cells, **(kw | {"title": "Ett annat beslut"}))

    monkeypatch.setattr(early_module.EarlyRecord, "__init__", wrong_title)
    files = make_record(root, 2022, "sv", progress=False)
    page = files["allocation.html"].decode("utf-8")
    assert page_calls[0] == "Ett annat beslut" and len(page_calls) == 2 and page_calls[1] != page_calls[0]
    assert len(pdf_calls) == 2 and pdf_calls[0][0] != page and pdf_calls[1][0] == page
    assert files["allocation.pdf"] == f"%PDF {len(page)} {pdf_calls[1][1]}".encode()


def test_a_failed_guess_is_set_again(root: Path, pdf_calls: list[tuple[str, dt.date]],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any, nb: Any) -> tuple[str, bytes]:
        raise RuntimeError("the early page could not be made")

    monkeypatch.setattr(early_module.EarlyRecord, "_make_pages", broken)
    files = make_record(root, 2022, "sv", progress=False)
    assert [call[0] for call in pdf_calls] == [files["allocation.html"].decode("utf-8")]


def test_a_record_added_to_after_the_record_cell_is_made_again(root: Path, pdf_calls: list[tuple[str, dt.date]],
                                                               page_calls: list[str]) -> None:
    import json

    path = root / "notebooks" / "review.ipynb"
    nb = json.loads(path.read_text("utf-8"))
    nb["cells"].append({"cell_type": "markdown", "id": "late", "metadata": {}, "source": ["## Ett tillägg"]})
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", "utf-8")
    files = make_record(root, 2022, "sv", progress=False)
    page = files["allocation.html"].decode("utf-8")
    assert "Ett tillägg" in page and len(page_calls) == 2 and [c[0] for c in pdf_calls][-1] == page


def test_the_record_cell_is_tagged() -> None:
    import json

    cells = json.loads((REPO / "notebooks" / "review.ipynb").read_text("utf-8"))["cells"]
    tagged = [c for c in cells if early_module.RECORD_TAG in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "render_record_sections" in "".join(tagged[0]["source"])
