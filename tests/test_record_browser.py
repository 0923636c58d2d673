# mypy: disable-error-code="no-untyped-call,no-any-return"
"""The 2022 record as a person sees it: headless Chromium, every network request blocked and counted.

Run:  pytest -m browser tests/test_record_browser.py   (needs Debian's chromium at /usr/bin/chromium,
or CHROMIUM_PATH; the playwright package drives it, no `playwright install` needed).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from fou_review.core.pipeline import review_year
from fou_review.record.html_export import notebook_to_record_html
from fou_review.record.sections import record_title, render_record_sections

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
MANIFEST = {"year": 2022, "package_version": "0.1.0",
            "notebook": {"path": "notebooks/review.ipynb", "sha256": "0" * 64},
            "parameters": {"year": 2022, "lang": "sv"},
            "inputs": [{"path": "params/2022.yaml", "sha256": "1" * 64}], "supersedes": None}


class Visit(NamedTuple):
    page: Page
    routed: list[str]  # every request other than the page itself that reached the route (each was aborted)
    requests: list[str]  # every request other than the page itself that the page made at all
    errors: list[str]  # console errors, e.g. a blocked load or a CSP violation


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def visit(browser: Browser, path: Path) -> Iterator[Visit]:
    """Open a file with every request but the page itself aborted, counted twice (route and event)."""
    url = path.resolve().as_uri()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Visit(page, [], [], [])

    def route(r: Route) -> None:
        if r.request.url == url:
            r.continue_()
        else:
            seen.routed.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: None if req.url == url else seen.requests.append(req.url))
    page.on("console", lambda msg: seen.errors.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        yield seen
    finally:
        context.close()


@pytest.fixture(params=["rendered", "committed"])
def record_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The 2022 record: rendered now from the inputs, or the one published in reports/2022/."""
    if request.param == "committed":
        path = tmp_path / "allocation.html"
        shutil.copyfile(request.config.rootpath / "reports" / "2022" / "allocation.html", path)
        return path
    review = review_year(request.config.rootpath, 2022)
    nb = nbformat.v4.new_notebook()
    for _, fragment in render_record_sections(review, MANIFEST, "sv"):
        cell = nbformat.v4.new_code_cell("")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": fragment})]
        nb.cells.append(cell)
    path = tmp_path / "allocation.html"
    path.write_text(notebook_to_record_html(nb, lang="sv", title=record_title(review, "sv")), encoding="utf-8")
    return path


def test_record_opens_offline_with_zero_requests(browser: Browser, record_file: Path, tmp_path: Path) -> None:
    with visit(browser, record_file) as seen:
        page = seen.page
        for caption in ("Förslag till fördelning av lokala utvecklingsmedel 2022",
                        "Förslag till fördelning av medel för utveckling och lärande 2022"):
            table = page.locator("table", has=page.locator("caption", has_text=caption))
            expect(table).to_be_visible()
            expect(table.locator("tfoot")).to_contain_text("Totalt")
        lum = page.locator("table", has=page.locator("caption", has_text="lokala utvecklingsmedel 2022"))
        expect(lum.locator("tbody tr")).to_have_count(8)
        expect(lum.locator("tfoot")).to_contain_text("3\u00a0705\u00a0000\u00a0kr")
        expect(page.locator("svg[role=img]")).to_have_count(2)
        expect(page.locator("html")).to_have_attribute("lang", "sv")
        expect(page).to_have_title("Förslag till fördelning av medel till lokala utvecklingsprojekt och studiebesök "
                                   "2022 – Dnr 3.2.2-547/2021")
        assert page.locator("script").count() == 0
        shot = tmp_path / "record_2022.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000
        assert seen.routed == [] and seen.requests == [], (seen.routed, seen.requests)
        assert seen.errors == [], seen.errors
    print(f"record size: {record_file.stat().st_size} bytes")


COLOURS_JS = """() => {
  const bg = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const out = new Set();
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const fg = el instanceof SVGElement ? getComputedStyle(el).fill : getComputedStyle(el).color;
    out.add(fg + '|' + bg(el instanceof SVGElement ? el.closest('figure') : el));
  }
  return [...out];
}"""


def _luminance(rgb: str) -> float:
    values = [int(v) / 255 for v in re.findall(r"\d+", rgb)[:3]]
    lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_contrast_is_at_least_4_5(browser: Browser, record_file: Path) -> None:
    """WCAG 2.1 AA: every piece of text, as rendered, against the background it sits on."""
    with visit(browser, record_file) as seen:
        pairs = [p.split("|") for p in seen.page.evaluate(COLOURS_JS)]
    assert len(pairs) >= 5  # body text, headings, table heads, badges, outcome words, chart labels
    low = [(fg, bg, round(contrast(fg, bg), 2)) for fg, bg in pairs if contrast(fg, bg) < 4.5]
    assert low == []
    assert contrast("rgb(119, 119, 119)", "rgb(255, 255, 255)") < 4.5  # the measure is not blind


def test_the_request_counter_sees_a_load(browser: Browser, tmp_path: Path) -> None:
    """The counter above is not blind: a page that loads an image is caught."""
    path = tmp_path / "leaky.html"
    path.write_text('<!DOCTYPE html><html lang="sv"><body><img src="https://example.invalid/x.png" alt="x">'
                    "</body></html>", encoding="utf-8")
    with visit(browser, path) as seen:
        assert seen.routed == ["https://example.invalid/x.png"]
        assert seen.requests == ["https://example.invalid/x.png"]
