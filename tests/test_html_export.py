# mypy: disable-error-code="no-untyped-call,no-any-return"
"""notebook_to_record_html: only markdown and text/html reach the page; nothing volatile does."""

from __future__ import annotations

import secrets
import uuid

import nbformat
import pytest

from fou_review.errors import FouReviewError
from fou_review.record.html_export import RecordError, notebook_to_record_html, static_problems

WIDGET = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"


def executed_notebook(seed: str) -> nbformat.NotebookNode:
    """A small executed notebook whose volatile parts (ids, times, widget ids, paths) depend on `seed`."""
    model_id = uuid.uuid5(uuid.NAMESPACE_URL, seed).hex
    nb = nbformat.v4.new_notebook()
    nb.metadata = nbformat.from_dict({
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python", "version": f"3.11.{len(seed)}"},
        "papermill": {"start_time": f"2026-01-01T00:00:{seed[:2]}", "end_time": seed, "duration": 1.5,
                      "input_path": "notebooks/review.ipynb", "output_path": f"/tmp/{seed}/review.ipynb",
                      "parameters": {"year": 2022}, "exception": None},
        "widgets": {STATE: {"state": {model_id: {"model_name": "IntSliderModel", "state": {"value": 3}}},
                            "version_major": 2, "version_minor": 0}},
        "title": f"review-{seed}",
    })
    md = nbformat.v4.new_markdown_cell("# Rubrik\n\nText med *betoning* och en tabell nedan.")
    injected = nbformat.v4.new_code_cell("year = 2022", metadata={"tags": ["injected-parameters"]})
    code = nbformat.v4.new_code_cell("show()", execution_count=int(seed[:2], 16))
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"STDOUT-LEAK {seed}\n"),
        nbformat.v4.new_output("stream", name="stderr", text="Kernel is running over TCP without encryption\n"),
        nbformat.v4.new_output("display_data", data={"text/html": "<section id=\"s\"><p>Hej &amp; välkommen</p>"
                                                                   "</section>", "text/plain": "<HTML>"}),
        nbformat.v4.new_output("display_data", data={WIDGET: {"model_id": model_id, "version_major": 2,
                                                              "version_minor": 0},
                                                     "text/plain": f"IntSlider(value=3) {seed}"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": f"PLAIN-ONLY {seed}"},
                               execution_count=int(seed[:2], 16)),
    ]
    hidden = nbformat.v4.new_code_cell("debug()", metadata={"tags": ["review-only"]})
    hidden.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<p>EXCLUDED</p>"})]
    nb.cells = [md, injected, code, hidden]
    for cell in nb.cells:
        cell.id = secrets.token_hex(4) + seed[:4]
        cell.metadata["execution"] = {"iopub.execute_input": f"2026-01-01T00:00:{seed[:2]}Z"}
        cell.metadata["papermill"] = {"duration": len(seed) / 10, "status": "completed", "exception": False}
    return nb


def test_volatile_parts_do_not_change_a_byte() -> None:
    first = notebook_to_record_html(executed_notebook(secrets.token_hex(8)), lang="sv", title="Beslut 2022")
    second = notebook_to_record_html(executed_notebook(secrets.token_hex(8)), lang="sv", title="Beslut 2022")
    assert first.encode() == second.encode()


def test_only_markdown_and_html_outputs_form_the_page() -> None:
    seed = secrets.token_hex(8)
    nb = executed_notebook(seed)
    page = notebook_to_record_html(nb, lang="sv", title="Beslut 2022")
    assert page.startswith("<!DOCTYPE html>\n")
    assert '<html lang="sv">' in page and "<title>Beslut 2022</title>" in page and "<main>" in page
    assert '<meta charset="utf-8">' in page
    assert "<p>Hej &amp; välkommen</p>" in page and "Rubrik" in page and "<em>betoning</em>" in page
    for volatile in (seed, "STDOUT-LEAK", "Kernel is running", "IntSlider", "PLAIN-ONLY", "EXCLUDED", "papermill",
                     "year = 2022", "show()", "widget", "model_id", "In&nbsp;[", "jp-", "uuid"):
        assert volatile not in page, volatile
    for cell in nb.cells:
        assert cell.id not in page
    assert "<script" not in page.lower() and "://" not in page
    assert static_problems(page) == []


def test_the_notebook_is_not_changed() -> None:
    nb = executed_notebook("ab" * 8)
    before = nbformat.writes(nb)
    notebook_to_record_html(nb, lang="en", title="Decision")
    assert nbformat.writes(nb) == before


def test_title_is_escaped_and_lang_set() -> None:
    page = notebook_to_record_html(executed_notebook("cd" * 8), lang="en", title="<b>A & B</b>")
    assert "<title>&lt;b&gt;A &amp; B&lt;/b&gt;</title>" in page and '<html lang="en">' in page
    with pytest.raises(ValueError):
        notebook_to_record_html(executed_notebook("cd" * 8), lang="de", title="x")


@pytest.mark.parametrize("fragment", [
    "<script>alert(1)</script>",
    '<img src="https://example.org/pixel.png" alt="">',
    '<a href="https://example.org/">länk</a>',
    '<p onclick="alert(1)">klick</p>',
    '<div style="background: url(//example.org/x.png)">x</div>',
    "<style>@import 'https://example.org/x.css';</style>",
    '<iframe src="about:blank"></iframe>',
    '<svg><image href="x.png"/></svg>',
])
def test_a_page_that_would_load_or_run_something_is_refused(fragment: str) -> None:
    nb = executed_notebook("ef" * 8)
    nb.cells[2].outputs.append(nbformat.v4.new_output("display_data", data={"text/html": fragment}))
    with pytest.raises(RecordError) as caught:
        notebook_to_record_html(nb, lang="sv", title="Beslut")
    assert isinstance(caught.value, FouReviewError)
    assert "statiskt" in str(caught.value)


def test_internal_links_are_allowed() -> None:
    nb = executed_notebook("01" * 8)
    nb.cells[2].outputs.append(nbformat.v4.new_output("display_data", data={"text/html":
                                                                            '<a href="#s">till början</a>'}))
    assert '<a href="#s">till början</a>' in notebook_to_record_html(nb, lang="sv", title="Beslut")


@pytest.mark.parametrize(("page", "found"), [
    ("<html><body><p>x</p></body></html><script>alert(1)</script>", ["<script>"]),
    ("<html><body></body></html><img src='https://example.org/x.png'>", ["<img>", "<img src='https://example.org/x.png'>"]),
    ("<html><body><p>x</p><body onload='x()'></body></html>", ["<body> ×2"]),
    ("<html><head></head><body><html lang='en' onclick='x()'></body></html>", ["<html> ×2"]),
])
def test_what_lies_outside_the_page_or_in_a_second_body_is_found(page: str, found: list[str]) -> None:
    # libxml2 puts what follows </html> beside the page and drops a second <body>'s attributes; a browser
    # runs both
    assert static_problems(page) == found


def test_text_about_a_body_tag_and_a_header_are_not_tags() -> None:
    page = "<!DOCTYPE html><html><head></head><body><header>&lt;body onload&gt;</header></body></html>"
    assert static_problems(page) == []


def test_record_content_leaves_out_the_workbook_cells_and_the_notebooks_own_outputs() -> None:
    # the executed 2022 notebook as published: review-only cells, and charts as images marked the notebook's only
    from pathlib import Path

    from fou_review.record.html_export import REVIEW_ONLY_TAG, record_content

    nb = nbformat.reads((Path(__file__).resolve().parent.parent / "reports" / "2022" / "review.ipynb").read_text(
        "utf-8"), as_version=4)
    record_cells = [c for c in nb.cells if REVIEW_ONLY_TAG not in c.metadata.get("tags", [])]
    outputs = [o for c in record_cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    marked = [o for o in outputs if o.get("metadata", {}).get("fou_review", {}).get("review_only")]
    workbook = [o for c in nb.cells if c not in record_cells for o in c.get("outputs", [])
                if "text/html" in o.get("data", {})]
    assert marked and workbook  # the 2022 notebook has both kinds
    kept = [o["data"]["text/html"] for o in outputs if o not in marked]
    assert [fragment for kind, fragment in record_content(nb) if kind == "html"] == kept
