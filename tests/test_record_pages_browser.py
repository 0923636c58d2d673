# mypy: disable-error-code="no-untyped-call"
"""The record's separate pages (issue 12) in Chromium: axe-core WCAG 2.1 A/AA finds nothing on any
page at 1280 and 390 px, no page loads anything, none pans sideways on a phone, and the links between
the pages lead where they say. Uses the 2022 record split as a large year's would be."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Browser, Request
from record_fixtures import chromium

from fou_review.core.pipeline import review_year
from fou_review.record.html_export import MAIN_PAGE, notebook_to_record_pages
from fou_review.record.sections import record_title, render_record_sections

pytestmark = pytest.mark.browser

AXE = Path(os.environ.get("AXE_PATH", Path(__file__).resolve().parent.parent / ".venv" / "axe" / "node_modules"
                          / "axe-core" / "axe.min.js"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    review = review_year(pytestconfig.rootpath, 2022)
    manifest = {"year": 2022, "inputs": [], "parameters": {"lang": "sv", "year": 2022}}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": html})
        for _, html in render_record_sections(review, manifest, "sv", separate=True)])])
    out = tmp_path_factory.mktemp("pages")
    for name, page in notebook_to_record_pages(nb, lang="sv", title=record_title(review, "sv"),
                                               dnr=review.inputs.params.decision.dnr).items():
        (out / name).write_text(page, encoding="utf-8")
    return out


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_passes_axe_loads_nothing_and_does_not_pan(browser: Browser, folder: Path, width: int) -> None:
    assert AXE.is_file(), f"axe-core is missing: bash scripts/setup.sh --test installs it ({AXE})"
    pages = sorted(folder.glob("*.html"))
    assert len(pages) == 7
    for path in pages:
        url = path.resolve().as_uri()
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        requests: list[str] = []

        def note(req: Request, url: str = url, requests: list[str] = requests) -> None:
            if req.url != url:
                requests.append(req.url)

        page.on("request", note)
        try:
            page.goto(url, wait_until="load")
            assert page.locator("script").count() == 0
            if width == 390:
                assert page.evaluate("document.documentElement.scrollWidth") <= 390, path.name
            page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
            result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})""")
            violations = [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"])
                          for v in result["violations"]]
            assert violations == [], path.name
            assert requests == [], path.name
        finally:
            context.close()


def test_links_lead_from_the_main_page_to_each_page_and_back(browser: Browser, folder: Path) -> None:
    page = browser.new_page()
    try:
        page.goto((folder / MAIN_PAGE).resolve().as_uri(), wait_until="load")
        page.click('a[href="rangordning.html"]')
        page.wait_for_load_state("load")
        assert page.url.endswith("/rangordning.html")
        assert page.locator("table.ranking").count() >= 1
        page.click('a[href="bilaga-2.html"]')
        page.wait_for_load_state("load")
        assert page.url.endswith("/bilaga-2.html") and page.locator("#bilaga-2-rubrik").count() == 1
        page.click('a[href="allocation.html"]')
        page.wait_for_load_state("load")
        assert page.url.endswith("/allocation.html") and page.locator("#fordelning").count() == 1
    finally:
        page.close()
