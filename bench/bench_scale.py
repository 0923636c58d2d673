"""Benchmark: the yearly run and the record at 10^4 applications against the 2022 run (issue 12).

    .venv/bin/python bench/bench_scale.py [--apps 10000] [--repeats 1] [--repeats-2022 3]

1. Writes a synthetic year as files into a temporary project folder: params/2022.yaml from the real
   2022 parameters (every section of the decision, the same funds, criteria and rules) with one
   administration per about 6 applications (the 2022 names numbered: "Bromma 12"), budgets of about
   a third of what is asked; data/2022/ from bench_core's `synthetic_call` (5 reviewers x 4 criteria,
   5 % joint applications, 0.1 % scores missing, 1 % conflicts, about 20 % ineligible).
2. Times `fou-review run 2022` in-process (`run_year`, a fresh kernel each time, as the CLI does) on
   that folder and on a copy of the repository's own 2022 inputs, the two taking turns; once as is,
   once with the archival PDF replaced by nothing (to show the run "leaving the PDF aside").
3. Opens each record's first page (allocation.html, from file://) in Debian's Chromium (playwright)
   and times it to the `load` event, best of 3.
Printed: the times, the ratios (goals: <= 5x the 2022 run without the PDF, <= 15x with it), the load
time (goal <= 2 s), the sizes of both records' pages and PDFs (2022: <= 300 KB and <= 1 MB).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import REVIEWERS as CORE_REVIEWERS
from bench_core import synthetic_call

REPO = Path.cwd()
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def write_scale_year(root: Path, n: int, seed: int = 0, repo: Path = REPO) -> None:
    """A synthetic year of `n` applications as the project's input files under `root` (see the module)."""
    params, apps, scores, conflicts = synthetic_call(n, seed)
    raw = yaml.safe_load((repo / "params" / "2022.yaml").read_text("utf-8"))
    base = raw["administrations"]
    names = {a: f"{base[i % len(base)]} {i // len(base) + 1}" for i, a in enumerate(params.administrations)}
    raw["administrations"] = list(names.values())
    raw["aliases"] = []
    for key in ("published_totals", "one_off", "predecessor_names"):
        raw.pop(key, None)  # the real year's totals and one-off rules do not hold for this one
    for code in ("LUM", "MUL"):
        raw["funds"][code]["budget_kr"] = params.funds[code].budget_kr
    reviewers = dict(zip(CORE_REVIEWERS, raw["reviewers"], strict=True))
    (root / "params").mkdir(parents=True, exist_ok=True)
    (root / "params" / "2022.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    data = root / "data" / "2022"
    (data / "scores").mkdir(parents=True, exist_ok=True)
    with (data / "applications.csv").open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["id", "fund", "applicants", "title", "requested_kr", "received", "purpose", "project_year",
                      "planned_years", "last_report", "source"])
        for row in apps.itertuples(index=False):
            out.writerow([row.id, row.fund, " & ".join(names[a] for a in row.applicants), row.title,
                          int(row.requested_kr), row.received, row.purpose,
                          "" if str(row.project_year) == "<NA>" else int(row.project_year),
                          "" if str(row.planned_years) == "<NA>" else int(row.planned_years),
                          row.last_report, "illustrative"])
    named = scores.assign(reviewer=scores["reviewer"].astype(str).map(reviewers))
    for reviewer, part in named.groupby("reviewer", observed=True):
        part[["application_id", "criterion", "score", "comment"]].assign(source="illustrative").to_csv(
            data / "scores" / f"{reviewer}.csv", index=False, lineterminator="\n")
    conflicts.assign(reviewer=conflicts["reviewer"].map(reviewers), source="illustrative").to_csv(
        data / "conflicts.csv", index=False, lineterminator="\n")
    shutil.copytree(repo / "notebooks", root / "notebooks", dirs_exist_ok=True)


@contextmanager
def pdf_left_aside() -> Iterator[None]:
    """The run with `archive.record_pdf` making nothing (an empty allocation.pdf)."""
    from fou_review.record import archive

    real = archive.record_pdf
    archive.record_pdf = lambda html, *, decided: b""
    try:
        yield
    finally:
        archive.record_pdf = real


def load_time(page: Path, repeats: int = 3) -> float:
    """Best time from navigation to the `load` event of `page` (file://) in Chromium, in seconds."""
    from playwright.sync_api import sync_playwright

    best = float("inf")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeats):
                tab = browser.new_page(viewport={"width": 1280, "height": 900})
                start = time.perf_counter()
                tab.goto(page.resolve().as_uri(), wait_until="load", timeout=120_000)
                best = min(best, time.perf_counter() - start)
                tab.close()
        finally:
            browser.close()
    return best


def best_of(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apps", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=1, help="runs of the large year (each takes a while)")
    ap.add_argument("--repeats-2022", type=int, default=3)
    args = ap.parse_args(argv)
    if not (REPO / "params" / "2022.yaml").is_file():
        print("run from the repository root (params/ and data/ must be here)", file=sys.stderr)
        return 2
    from fou_review.cli import skip_unused_imports

    skip_unused_imports()
    from fou_review.yearly.run import run_year

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="fou-scale-") as tmp_name:
        tmp = Path(tmp_name)
        small, large = tmp / "y2022", tmp / f"y{args.apps}"
        for part in ("params", "data", "notebooks"):
            shutil.copytree(REPO / part, small / part)
        write_scale_year(large, args.apps)

        def run(root: Path) -> Callable[[], object]:
            def go() -> None:
                shutil.rmtree(root / "reports", ignore_errors=True)
                run_year(root, 2022, "sv", progress=False)
            return go

        run(small)()  # warm-up: imports, templates, the first kernel
        from fou_review.record import archive

        archive.prepare()  # WeasyPrint's import and fonts, once (else each run's fork pays for them)
        with pdf_left_aside():
            t_small_nopdf = best_of(args.repeats_2022, run(small))
            t_large_nopdf = best_of(args.repeats, run(large))
        t_small = best_of(args.repeats_2022, run(small))
        t_large = best_of(args.repeats, run(large))
        sizes = {}
        for name, root in (("2022", small), (str(args.apps), large)):
            folder = root / "reports" / "2022"
            pages = sorted(p.name for p in folder.glob("*.html"))
            sizes[name] = ((folder / "allocation.html").stat().st_size / 1000,
                           (folder / "allocation.pdf").stat().st_size / 1000, pages,
                           sum((folder / p).stat().st_size for p in pages) / 1000)
        load_small = load_time(small / "reports" / "2022" / "allocation.html")
        load_large = load_time(large / "reports" / "2022" / "allocation.html")

    def verdict(ok: bool) -> str:
        return "OK" if ok else "OVER"

    r_nopdf, r_pdf = t_large_nopdf / t_small_nopdf, t_large / t_small
    print(f"fou-review run 2022 (23 applications), PDF left aside: {t_small_nopdf:7.2f} s; "
          f"with the PDF: {t_small:7.2f} s")
    print(f"fou-review run, {args.apps} applications, PDF left aside: {t_large_nopdf:7.2f} s; "
          f"with the PDF: {t_large:7.2f} s")
    print(f"ratio without the PDF: {r_nopdf:.1f}x (goal <= 5x) {verdict(r_nopdf <= 5)}")
    print(f"ratio with the PDF:    {r_pdf:.1f}x (goal <= 15x) {verdict(r_pdf <= 15)}")
    print(f"first page in Chromium to `load`: {args.apps}: {load_large:.3f} s (goal <= 2 s) "
          f"{verdict(load_large <= 2)}; 2022: {load_small:.3f} s")
    for name, (html_kb, pdf_kb, pages, all_kb) in sizes.items():
        print(f"record {name}: allocation.html {html_kb:.1f} KB, allocation.pdf {pdf_kb:.1f} KB, "
              f"{len(pages)} page(s) {all_kb:.0f} KB in all: {', '.join(pages)}")
    html_kb, pdf_kb, _, _ = sizes["2022"]
    print(f"2022 record <= 300 KB: {verdict(html_kb <= 300)}; its PDF <= 1 MB: {verdict(pdf_kb <= 1000)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
