"""The scoring form in a real JupyterLab, used like a person uses it (headless Chromium).

Run:  .venv/bin/python -m pytest -m browser tests/test_form_browser.py

The server root gets a copy of notebooks/score.ipynb, params/ and data/. No one has yet scored the
follow-up plan (`uppfoljning`) of LUM-08, so the preview shows LUM-08 losing its grant compared with
the last run's record (reports/2022/decisions.csv, made from the complete data). The test picks
ledamot-a, goes to the next unscored application (LUM-08), clicks the grade 5, and waits for the
score file, the change log and the preview. Then it kills the kernel (SIGKILL, by PID), checks the
file on disk, runs the notebook again and finds the saved grade in the new form.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from jupyterlab_fixtures import KERNEL, JupyterLab, chromium_page, console_errors, jupyterlab_server  # noqa: F401
from playwright.sync_api import Locator, Page, expect

from fou_review.core.load import load_year
from fou_review.core.pipeline import review_year
from fou_review.record.decisions_file import write_decisions_csv
from fou_review.workbook.review_rules import review_order
from fou_review.workbook.scorestore import read_log

REPO = Path(__file__).resolve().parents[1]
REVIEWER = "ledamot-a"
SCORES = f"data/2022/scores/{REVIEWER}.csv"


def _prepare(root: Path) -> None:
    (root / "notebooks").mkdir()
    shutil.copy(REPO / "notebooks" / "score.ipynb", root / "notebooks" / "score.ipynb")
    shutil.copytree(REPO / "params", root / "params")
    shutil.copytree(REPO / "data", root / "data")
    write_decisions_csv(review_year(root, 2022).decisions, root / "reports" / "2022" / "decisions.csv")
    for path in (root / "data" / "2022" / "scores").glob("*.csv"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(x for x in lines if not x.startswith("LUM-08,uppfoljning,")), encoding="utf-8")


def _saved_score(root: Path, app: str, criterion: str) -> str | None:
    rows = csv.DictReader(io.StringIO((root / SCORES).read_text(encoding="utf-8")))
    return next((r["score"] for r in rows if (r["application_id"], r["criterion"]) == (app, criterion)), None)


def _wait_until(check: Callable[[], object], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _wait_kernel_idle(page: Page) -> None:
    idle = re.compile(rf"^{re.escape(KERNEL)} \| Idle$")
    page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text=idle).wait_for(timeout=60_000)


def _run_all_and_pick(page: Page) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    reviewer = page.locator(".fou-reviewer select")
    expect(reviewer).to_be_visible(timeout=30_000)
    reviewer.select_option(REVIEWER)
    expect(page.locator(".fou-app-id")).to_be_visible(timeout=15_000)


def _grade_button(page: Page, criterion: str, grade: str) -> Locator:
    return page.locator(f".fou-crit-{criterion} button", has_text=re.compile(rf"^{grade}$"))


@pytest.mark.browser
def test_score_in_jupyterlab_survives_a_kernel_crash(jupyterlab_server: JupyterLab,  # noqa: F811
                                                      chromium_page: Page,  # noqa: F811
                                                      console_errors: list[str], tmp_path: Path) -> None:  # noqa: F811
    lab, page = jupyterlab_server, chromium_page
    _prepare(lab.root)
    assert _saved_score(lab.root, "LUM-08", "uppfoljning") is None
    page.goto(f"{lab.url}/lab/tree/notebooks/score.ipynb?token={lab.token}")
    _wait_kernel_idle(page)
    _run_all_and_pick(page)
    preview = page.locator(".fou-preview")
    expect(preview).to_contain_text("LUM-08 (Skarpnäck) förlorar medel", timeout=15_000)

    page.locator("button", has_text="Nästa ej bedömda").click()
    expect(page.locator(".fou-app-id")).to_have_text("LUM-08", timeout=15_000)
    expect(page.locator(".fou-progress")).to_contain_text("21 av 22 bedömda")
    button = _grade_button(page, "uppfoljning", "5")
    button.click()  # a person clicks the grade

    _wait_until(lambda: _saved_score(lab.root, "LUM-08", "uppfoljning") == "5", "the grade in the score file")
    _wait_until(lambda: read_log(lab.root, 2022, REVIEWER), "the change log")
    [entry] = read_log(lab.root, 2022, REVIEWER)
    assert (entry["application_id"], entry["criterion"], entry["old"], entry["new"]) == ("LUM-08", "uppfoljning",
                                                                                          None, 5)
    expect(page.locator(".fou-status")).to_contain_text("Sparat", timeout=15_000)
    expect(preview).to_contain_text("Inga förändringar", timeout=15_000)
    expect(preview).not_to_contain_text("förlorar medel")
    expect(page.locator(".fou-progress")).to_contain_text("22 av 22 bedömda")
    expect(button).to_have_class(re.compile(r"\bmod-active\b"))
    comment = page.locator(".fou-comment textarea")
    comment.fill("Tydlig plan för uppföljning, åäö")
    comment.press("Tab")  # the comment is saved when the field is left
    _wait_until(lambda: read_log(lab.root, 2022, REVIEWER)[-1]["criterion"] == "comment", "the comment in the log")
    assert read_log(lab.root, 2022, REVIEWER)[-1]["new"] == "Tydlig plan för uppföljning, åäö"
    page.screenshot(path=tmp_path / "form-saved.png", full_page=True)
    saved_bytes = (lab.root / SCORES).read_bytes()

    # A crash: kill the kernel by its PID. JupyterLab restarts it; every widget is gone.
    kernels = [p for p in psutil.Process(lab.pid).children(recursive=True)
               if "ipykernel_launcher" in " ".join(p.cmdline())]
    assert len(kernels) == 1
    kernels[0].kill()
    psutil.wait_procs(kernels, timeout=10)
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=30_000)  # "The kernel appears to have died. It will restart automatically."
    dialog.locator("button.jp-mod-accept").click()
    _wait_kernel_idle(page)
    assert (lab.root / SCORES).read_bytes() == saved_bytes
    load_year(lab.root, 2022)  # still a valid year

    _run_all_and_pick(page)
    steps = review_order([f"LUM-{i:02d}" for i in range(1, 11)] + [f"MUL-{i:02d}" for i in range(1, 14)],
                         REVIEWER, 2022).index("LUM-08")
    for i in range(steps):
        expect(page.locator(".widget-html", has_text=f"Ansökan {i + 1} av 23")).to_be_visible(timeout=15_000)
        page.locator("button", has_text="Nästa ▶").first.click()
    expect(page.locator(".fou-app-id")).to_have_text("LUM-08", timeout=15_000)
    expect(_grade_button(page, "uppfoljning", "5")).to_have_class(re.compile(r"\bmod-active\b"))
    expect(page.locator(".fou-progress")).to_contain_text("22 av 22 bedömda")
    expect(page.locator(".fou-comment textarea")).to_have_value("Tydlig plan för uppföljning, åäö")
    page.screenshot(path=tmp_path / "form-restored.png", full_page=True)
    print(f"screenshots: {tmp_path}; console errors: {console_errors}")
    assert not [e for e in console_errors if "widget" in e.lower()], console_errors
