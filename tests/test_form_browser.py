"""The workbook in a real JupyterLab, used like a person uses it (headless Chromium).

Run:  .venv/bin/python -m pytest -m browser tests/test_form_browser.py

A scratch project (params/, data/, notebooks/ and the committed reports/2022/) gets its workbook from
the documented command, `fou-review workbook 2022`, with the test server's Jupyter data folder (so the
command's trust is the server's). JupyterLab is started on `workbook/2022/` alone, as the command
says. The test checks that the grade radio groups render from the stored widget state before any cell
runs; runs all cells; picks ledamot-a with the keyboard; changes one grade with the arrow key and
waits for the score file and its log line; sees the calibration, robustness and what-if views and a
what-if change updating the gains and losses; times click-to-preview; closes the notebook and
checks `fou-review verify 2022` in the repository and `git status`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from jupyterlab_fixtures import KERNEL, JupyterLab, chromium_page, console_errors, jupyterlab_server  # noqa: F401
from playwright.sync_api import Page, expect

from fou_review.workbook.scorestore import read_log

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REVIEWER = "ledamot-a"
SCORES = f"data/2022/scores/{REVIEWER}.csv"


def _saved_score(root: Path, app: str, criterion: str) -> str | None:
    rows = csv.DictReader(io.StringIO((root / SCORES).read_text(encoding="utf-8")))
    return next((r["score"] for r in rows if (r["application_id"], r["criterion"]) == (app, criterion)), None)


def _wait_until(check: Callable[[], object], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _wait_kernel_idle(page: Page) -> None:
    idle = re.compile(rf"^{re.escape(KERNEL)} \| Idle$")
    page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text=idle).wait_for(timeout=60_000)


def _server_env(lab: JupyterLab) -> dict[str, str]:
    """The server's Jupyter folders (the fixture keeps them beside its root)."""
    tmp = lab.root.parent
    return {**os.environ, "JUPYTER_DATA_DIR": str(tmp / "data"), "JUPYTER_CONFIG_DIR": str(tmp / "config")}


def _run_all_and_pick_reviewer(page: Page) -> str:
    """Run all cells, type the reviewer into the form and press Enter; the first application's id."""
    _wait_kernel_idle(page)
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    reviewer = page.locator(".fou-reviewer input")
    expect(reviewer).to_be_visible(timeout=60_000)
    _wait_kernel_idle(page)
    reviewer.click()
    reviewer.type(REVIEWER)
    reviewer.press("Enter")
    expect(page.locator(".fou-app-id")).to_be_visible(timeout=15_000)
    return page.locator(".fou-app-id").inner_text()


def _preview_count(page: Page) -> int:
    """How many times the form's preview was computed, as the page shows it (`data-preview`)."""
    return int(page.locator(".fou-preview .fou-preview-body").last.get_attribute("data-preview") or 0)


@pytest.mark.browser
def test_the_workbook_in_jupyterlab(jupyterlab_server: JupyterLab,  # noqa: F811
                                    chromium_page: Page,  # noqa: F811
                                    console_errors: list[str], tmp_path: Path) -> None:  # noqa: F811
    lab, page = jupyterlab_server, chromium_page
    project = lab.root
    for part in ("params", "data", "notebooks"):
        shutil.copytree(REPO / part, project / part)
    shutil.copytree(REPO / "reports" / "2022", project / "reports" / "2022")
    made = subprocess.run([str(BIN / "fou-review"), "--root", str(project), "workbook", "2022"], env=_server_env(lab),
                          capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr
    assert "workbook/2022/review.ipynb" in made.stdout and "--allow-root" in made.stdout
    workbook = project / "workbook" / "2022" / "review.ipynb"
    before_open = workbook.read_bytes()
    record_before = {p: p.read_bytes() for p in (project / "reports" / "2022").rglob("*") if p.is_file()}

    page.goto(f"{lab.url}/lab/tree/workbook/2022/review.ipynb?token={lab.token}")
    # Before any cell runs: the stored widgets render (the workbook is trusted), grades included.
    expect(page.locator(".fou-crit-strategisk input[type=radio]").first).to_be_attached(timeout=60_000)
    expect(page.locator(".fou-whatif-table, .fou-whatif-summary").first).to_be_attached()
    expect(page.locator(".fou-eligibility")).to_contain_text("MUL-13")
    # Trusted, the record's inline SVG charts show and the images added for untrusted readers are hidden.
    expect(page.locator(".jp-OutputArea-output svg.chart")).to_have_count(2)
    expect(page.locator(".fou-chart-image").first).to_be_hidden()
    _wait_kernel_idle(page)
    assert workbook.read_bytes() == before_open  # opening changed nothing

    app = _run_all_and_pick_reviewer(page)
    old = _saved_score(project, app, "strategisk")
    assert old is not None
    new = "7" if old != "7" else "1"

    # The keyboard: Tab from the navigation reaches the grades of the first criterion at one stop (the
    # checked grade), → twice moves and selects (each saved and logged), Tab leaves for the next group.
    options = ["–", "1", "2", "3", "4", "5", "6", "7"]
    page.locator(".fou-nav button").last.focus()
    page.keyboard.press("Tab")
    focused = page.locator(".fou-crit-strategisk input:focus")
    expect(focused).to_have_attribute("data-value", old)
    expect(focused).to_be_checked()
    expect(page.locator(".fou-crit-strategisk [role=radiogroup]")).to_have_attribute(
        "aria-label", re.compile(r"^Betyg för Strategisk"))
    outline = focused.evaluate("e => getComputedStyle(e.closest('label')).outlineStyle")
    assert outline == "solid"  # focus is visible
    expected = old
    for _ in range(2):
        expected = options[(options.index(expected) + 1) % len(options)]
        page.keyboard.press("ArrowRight")
        _wait_until(lambda g=expected: _saved_score(project, app, "strategisk") == (None if g == "–" else g),
                    f"grade {expected} on disk after →")
        expect(page.locator(".fou-crit-strategisk input:checked")).to_have_attribute("data-value", expected)
    log = read_log(project, 2022, REVIEWER)
    grade_of = {"–": None, **{g: int(g) for g in options[1:]}}
    assert [(e["application_id"], e["criterion"], e["new"]) for e in log][-2:] == [
        (app, "strategisk", grade_of[options[(options.index(old) + 1) % 8]]), (app, "strategisk", grade_of[expected])]
    checked = page.locator(".fou-crit-strategisk label:has(input:checked)")
    assert checked.evaluate("e => getComputedStyle(e).fontWeight") == "700"  # more than colour
    assert "underline" in checked.evaluate("e => getComputedStyle(e).textDecorationLine")
    page.keyboard.press("Tab")  # one tab stop per criterion: the next Tab is in the next group
    expect(page.locator(".fou-crit-forebyggande input:focus")).to_have_count(1)
    page.locator(".fou-crit-strategisk input[data-value='" + old + "']").click()  # back to where it was
    _wait_until(lambda: _saved_score(project, app, "strategisk") == old, "the old grade back on disk")

    # A click on a grade saves it, with a log line; the preview is computed again (timed: click to the
    # updated preview in the page, median of the clicks; bench/bench_form_click.py times it on the page's clock).
    timings = []
    for grade in (new, old, new, old, new, old):
        radio = page.locator(f".fou-crit-strategisk input[data-value='{grade}']").first
        before = _preview_count(page)
        start = time.perf_counter()
        radio.click()
        page.wait_for_function(f"""() => {{
            const b = document.querySelectorAll('.fou-preview .fou-preview-body');
            const last = b[b.length - 1];
            return last && Number(last.dataset.preview) > {before}
                && last.dataset.change === '{app} strategisk {grade}'; }}""", timeout=15_000)
        timings.append(time.perf_counter() - start)
        assert _saved_score(project, app, "strategisk") == grade  # saved before the preview was computed
        expect(page.locator(".fou-status")).to_contain_text(f"→ {grade}", timeout=15_000)
    log = read_log(project, 2022, REVIEWER)
    assert [(e["application_id"], e["criterion"]) for e in log][-1] == (app, "strategisk")
    assert len(log) == 9
    print(f"click to updated preview: median {statistics.median(timings) * 1000:.0f} ms")
    expect(page.locator(".fou-crit-strategisk input:checked")).to_have_count(1)

    # Calibration and robustness, and what-if: a changed cap updates the gains and losses.
    expect(page.locator(".fou-calibration-table")).to_be_visible()
    expect(page.locator(".fou-robustness-table")).to_be_visible()
    summary = page.locator(".fou-whatif-summary").last
    expect(summary).to_contain_text("Inget ändrat")
    cap = page.locator(".fou-whatif-funds-LUM-max-granted-per-applicant input").last
    cap.fill("1")
    cap.press("Enter")
    expect(summary).to_contain_text("Ändrade värden: 1", timeout=15_000)
    expect(page.locator(".fou-whatif-loss").first).to_contain_text("förlorar")
    page.screenshot(path=tmp_path / "workbook.png", full_page=True)

    # Close without saving; the record and the repository stay as they were.
    page.close()
    assert {p: p.read_bytes() for p in (project / "reports" / "2022").rglob("*") if p.is_file()} == record_before
    verify = subprocess.run([str(BIN / "fou-review"), "--root", str(REPO), "verify", "2022", "--quiet"],
                            capture_output=True, text=True, timeout=600, check=False)
    assert verify.returncode == 0, verify.stderr
    status = subprocess.run(["git", "status", "--porcelain", "--", "reports", "notebooks", "data", "params"],
                            cwd=REPO, capture_output=True, text=True, check=True)
    assert status.stdout == ""
    print(f"screenshot: {tmp_path}; console errors: {console_errors}")
    assert not [e for e in console_errors if "widget" in e.lower()], console_errors


@pytest.mark.browser
def test_the_published_notebook_shows_its_charts_and_tables_untrusted(jupyterlab_server: JupyterLab,  # noqa: F811
                                                                     chromium_page: Page) -> None:  # noqa: F811
    """The published reports/2022/review.ipynb opened as anyone opens it: not trusted (papermill does not
    sign it). JupyterLab then strips inline SVG; the charts show as the images the notebook adds for this
    (workbook/chart_image.py), and the tables render. Opening it changes nothing."""
    lab, page = jupyterlab_server, chromium_page
    published = lab.root / "review.ipynb"
    shutil.copyfile(REPO / "reports" / "2022" / "review.ipynb", published)
    before = published.read_bytes()
    page.goto(f"{lab.url}/lab/tree/review.ipynb?token={lab.token}")
    images = page.locator(".jp-OutputArea-output .fou-chart-image img")
    expect(images.first).to_be_attached(timeout=60_000)
    assert images.count() == 2  # LUM and MUL
    for i in range(2):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        expect(image).to_be_visible()
        _wait_until(lambda im=image: im.evaluate("e => e.complete && e.naturalWidth > 0"), "the chart image decoded")
        assert image.evaluate("e => e.getBoundingClientRect().width") > 300
        assert "Sökt och beviljat per förvaltning" in (image.get_attribute("alt") or "")
    # Untrusted indeed: the record's inline SVG was stripped (so without the images there would be no chart).
    assert page.locator(".jp-OutputArea-output svg.chart").count() == 0
    # The tables render, with grouped amounts.
    tables = page.locator(".jp-OutputArea-output table")
    assert tables.count() > 5
    granted = page.locator(".jp-OutputArea-output table.granted.fund-LUM")
    granted.scroll_into_view_if_needed()
    expect(granted).to_be_visible()
    assert re.search(r"\d{1,3}(?:[\u00a0\u202f ]\d{3})+[\u00a0\u202f ]kr", granted.inner_text())
    _wait_kernel_idle(page)
    assert published.read_bytes() == before
