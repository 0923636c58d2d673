# mypy: disable-error-code="no-untyped-call"
"""Benchmark: the yearly run end to end against the floor of the same tools doing nothing.

    .venv/bin/python bench/bench_run.py [--repeats 5] [--year 2022]

In one process (imports paid once, before any timing):
  (a) `fou-review run 2022` end to end: the repository's params/, data/ and notebooks/ copied to a
      temporary root, then `run_year` (validation, papermill executing the review notebook in a fresh
      kernel, normalisation, HTML, CSV, Excel, manifest, publishing); best of N;
  (b) the floor: papermill executing a one-cell notebook (`1+1`) in-process, plus nbconvert's
      HTMLExporter turning the executed notebook into HTML; best of N;
  (c) for scale, the floor whose one cell also imports pandas (which the review's kernel must);
  (d) the run of (a) without the archival PDF (its warm-up and rendering stubbed out): the goal of
      1.5x leaves the PDF out.
The four take turns (best of N each), so a busy moment on a shared machine hits all of them.
Printed: both times, the ratio (goal <= 2.5x with the PDF, <= 1.5x without it) and the record's size
(goal <= 300 KB); then the archival PDF's size (goal <= 1 MB) and the time of rendering it alone (best
of N, WeasyPrint already imported), as a share of the run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path.cwd()


def best_of_interleaved(repeats: int, *works: Callable[[], object]) -> list[float]:
    """Best time of each job, the jobs taking turns, so that a busy moment on a shared machine
    does not fall on one of them only."""
    best = [float("inf")] * len(works)
    for _ in range(repeats):
        for i, work in enumerate(works):
            start = time.perf_counter()
            work()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--year", type=int, default=2022)
    args = ap.parse_args(argv)
    if not (REPO / "params" / f"{args.year}.yaml").is_file():
        print("run from the repository root (params/ and data/ must be here)", file=sys.stderr)
        return 2

    from fou_review.cli import skip_unused_imports

    skip_unused_imports()  # before anything imports nbformat
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    from fou_review.yearly.run import run_year

    with tempfile.TemporaryDirectory(prefix="fou-bench-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "root"
        for part in ("params", "data", "notebooks"):
            shutil.copytree(REPO / part, root / part)
        floor_nb = tmp / "floor.ipynb"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1+1")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, floor_nb)
        pandas_nb = tmp / "floor_pandas.ipynb"
        nb.cells = [nbformat.v4.new_code_cell("import pandas\n1+1")]
        nbformat.write(nb, pandas_nb)

        def floor(path: Path = floor_nb) -> None:
            executed = papermill.execute_notebook(str(path), None, kernel_name="python3", progress_bar=False,
                                                  request_save_on_cell_execute=False)
            HTMLExporter().from_notebook_node(executed)

        def floor_pandas() -> None:
            floor(pandas_nb)

        def run() -> None:
            run_year(root, args.year, "sv", progress=False)

        from fou_review.record import archive

        def run_without_pdf() -> None:  # the same run with the PDF left out: no WeasyPrint warm-up, a stub PDF
            real, warm_up = archive.record_pdf, archive.prepare
            archive.record_pdf = lambda *_a, **_k: b"%PDF-1.7 stub"  # type: ignore[assignment]
            archive.prepare = lambda *_a, **_k: None  # type: ignore[assignment]
            try:
                run_year(root, args.year, "sv", progress=False)
            finally:
                archive.record_pdf, archive.prepare = real, warm_up

        floor()  # warm-up: imports, templates, the first kernel start
        # Imports are paid once, before any timing, by the floor and the run alike: WeasyPrint's too (a run's
        # fork makes the PDF and imports it there if this process has not; a one-off `fou-review run` does).
        archive.prepare()
        run()
        floor_pandas()
        t_floor, t_run, t_pandas, t_bare = best_of_interleaved(args.repeats, floor, run, floor_pandas,
                                                               run_without_pdf)
        run()  # the record as published (with its PDF) for the sizes below
        record = root / "reports" / str(args.year) / "allocation.html"
        size_kb = record.stat().st_size / 1000
        pdf_kb = record.with_suffix(".pdf").stat().st_size / 1000
        from fou_review.core.params import load_params
        from fou_review.record.archive import record_pdf

        page, decided = record.read_text("utf-8"), load_params(root, args.year).decision.date
        (t_pdf,) = best_of_interleaved(args.repeats, lambda: record_pdf(page, decided=decided))
        floor_html_kb = len(HTMLExporter().from_notebook_node(
            papermill.execute_notebook(str(floor_nb), None, kernel_name="python3", progress_bar=False))[0]) / 1000

    ratio = t_run / t_floor
    print(f"floor (papermill 1-cell + nbconvert HTML): {t_floor:.3f} s (its HTML: {floor_html_kb:.0f} KB)")
    print(f"fou-review run {args.year} end to end:        {t_run:.3f} s")
    print(f"(for scale: the floor with `import pandas` in its one cell: {t_pandas:.3f} s, "
          f"{t_pandas / t_floor:.2f}x the floor)")
    print(f"ratio: {ratio:.2f}x (goal with the PDF <= 2.5x) {'OK' if ratio <= 2.5 else 'OVER'}")
    print(f"the run without the PDF (stubbed): {t_bare:.3f} s, {t_bare / t_floor:.2f}x the floor "
          f"(goal <= 1.5x) {'OK' if t_bare <= 1.5 * t_floor else 'OVER'}")
    print(f"record allocation.html: {size_kb:.1f} KB (goal <= 300 KB) {'OK' if size_kb <= 300 else 'OVER'}")
    print(f"allocation.pdf: {pdf_kb:.1f} KB (goal <= 1000 KB) {'OK' if pdf_kb <= 1000 else 'OVER'}; "
          f"rendering it alone (WeasyPrint imported): {t_pdf:.3f} s, {t_pdf / t_run:.0%} of the run, "
          f"{t_pdf / t_floor:.2f} floors (goal: the run with it <= 2.5x the floor: "
          f"{'OK' if ratio <= 2.5 else 'OVER'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
