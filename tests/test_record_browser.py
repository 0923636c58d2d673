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

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from record_fixtures import chromium, edit_applications, record_page

from fou_review.core.pipeline import review_year

pytestmark = pytest.mark.browser

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
    with chromium() as launched:
        yield launched


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
    path = tmp_path / "allocation.html"
    path.write_text(record_page(review, MANIFEST, dnr=review.inputs.params.decision.dnr), encoding="utf-8")
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


# --- Accessibility, phone, print and hostile text (issue 12) ---

AXE = Path(os.environ.get("AXE_PATH", Path(__file__).resolve().parent.parent / ".venv" / "axe" / "node_modules"
                          / "axe-core" / "axe.min.js"))
A4_CONTENT_PX = 680  # 210 mm less 2 × 15 mm, at 96 px per inch


@contextmanager
def opened(browser: Browser, path: Path, width: int, *, bypass_csp: bool = False) -> Iterator[Visit]:
    """Like `visit`, at a given viewport width (and, for injecting axe in a test only, without the CSP)."""
    url = path.resolve().as_uri()
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=bypass_csp)
    page = context.new_page()
    seen = Visit(page, [], [], [])
    page.route("**/*", lambda r: r.continue_() if r.request.url == url else (seen.routed.append(r.request.url),
                                                                             r.abort())[-1])
    page.on("request", lambda req: None if req.url == url else seen.requests.append(req.url))
    try:
        page.goto(url, wait_until="load")
        yield seen
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_no_wcag_violation(browser: Browser, record_file: Path, width: int) -> None:
    assert AXE.is_file(), f"axe-core is missing: bash scripts/setup.sh --test installs it ({AXE})"
    with opened(browser, record_file, width, bypass_csp=True) as seen:
        page = seen.page
        assert page.locator("script").count() == 0  # the page has none; axe is added for the test only
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})""")
        violations = [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"]) for v in result["violations"]]
        assert violations == []
        assert len(result["passes"]) > 10  # axe ran
        assert seen.requests == [] and seen.routed == []


def test_phone_width_does_not_pan_and_chart_text_is_legible(browser: Browser, record_file: Path) -> None:
    with opened(browser, record_file, 390) as seen:
        page = seen.page
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        regions = page.evaluate("""() => [...document.querySelectorAll('.scroll')].map(d =>
            [d.getAttribute('role'), d.getAttribute('aria-label') || '', d.tabIndex, d.scrollWidth > d.clientWidth])""")
        assert regions and all(r[0] == "region" and r[1] and r[2] == 0 for r in regions)
        assert any(r[3] for r in regions)  # some do scroll sideways, inside their region
        sizes = page.evaluate("""() => [...document.querySelectorAll('svg.chart text')].map(t => {
            const svg = t.ownerSVGElement;
            return parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width
                   / svg.viewBox.baseVal.width; })""")
        assert sizes and min(sizes) >= 12


def test_print_fits_a4_with_one_total_per_table_and_a_running_head(browser: Browser, record_file: Path) -> None:
    import io

    import pypdf

    with opened(browser, record_file, A4_CONTENT_PX) as seen:
        page = seen.page
        page.emulate_media(media="print")
        clipped = page.evaluate("""() => [...document.querySelectorAll('td, th')]
            .filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent.slice(0, 40))""")
        assert clipped == []
        wide = page.evaluate("""() => [...document.querySelectorAll('table')]
            .filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(t => t.caption.textContent)""")
        assert wide == []
        totals = page.evaluate("""() => [...document.querySelectorAll('tfoot th')]
            .filter(th => th.textContent.startsWith('Totalt')).length""")
        assert page.evaluate("getComputedStyle(document.querySelector('tfoot')).display") == "table-row-group"
        pdf = page.pdf(format="A4", margin={side: "15mm" for side in ("top", "right", "bottom", "left")})
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    assert 3 <= len(pages) < 40
    for number, text in enumerate(pages, 1):
        assert "Dnr 3.2.2-547/2021" in text and f"Sida {number} ({len(pages)})" in text, number
    assert sum(text.count("Totalt") for text in pages) == totals > 5  # never repeated at a page break
    whole = "\n".join(pages)
    for last_row, total in (("MUL-13", "Totalt, 13 ansökningar"), ("LUM-10", "Totalt, 10 ansökningar")):
        assert whole.rindex(last_row) < whole.index(total)
    assert "Innehåll" in pages[0]


BIDI_TITLE = "Våga \u202eanmäla\u202c våga vittna\u200b"


def test_a_bidi_override_in_a_title_reorders_nothing(browser: Browser, tmp_path: Path,
                                                     request: pytest.FixtureRequest) -> None:
    root = tmp_path / "root"
    shutil.copytree(request.config.rootpath / "params", root / "params")
    shutil.copytree(request.config.rootpath / "data", root / "data")
    edit_applications(root / "data" / "2022" / "applications.csv",
                      lambda row: row.update(title=BIDI_TITLE) if row["id"] == "LUM-01" else None)
    review = review_year(root, 2022)
    page_file = tmp_path / "allocation.html"
    page_file.write_text(record_page(review, MANIFEST), encoding="utf-8")
    with opened(browser, page_file, 1280) as seen:
        page = seen.page
        raw = page.evaluate(r"""() => /[\u202a-\u202e\u2066-\u2069\u200b-\u200f]/.test(document.body.textContent)""")
        assert raw is False
        row = page.locator("table.granted tbody tr", has_text="⟨U+202E⟩anmäla").first
        cells = row.locator("th, td")
        expect(cells.nth(1)).to_have_text("Våga ⟨U+202E⟩anmäla⟨U+202C⟩ våga vittna⟨U+200B⟩")
        lefts = [cells.nth(i).bounding_box()["x"] for i in range(3)]  # type: ignore[index]
        assert lefts == sorted(lefts)  # the cells stand in their order
        # Within the cell, "anmäla" reads left to right: its first letter stands left of its last.
        xs = page.evaluate("""(cell) => {
            const node = [...cell.childNodes].find(n => n.nodeType === 3);
            const at = node.textContent.indexOf('anmäla');
            const box = (i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                                 return r.getBoundingClientRect().left; };
            return [box(at), box(at + 5)]; }""", cells.nth(1).element_handle())
        assert xs[0] < xs[1]
        amount = cells.nth(2)
        expect(amount).to_have_text("500\u00a0000\u00a0kr")
