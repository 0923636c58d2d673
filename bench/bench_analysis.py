"""Benchmark: what-if recompute, and leave-one-out plus bootstrap robustness, at the sizes of issue 9.

    .venv/bin/python bench/bench_analysis.py [--repeats 5] [--resamples 1000]

- what-if: `core.whatif.what_if` after one change (the MUL cap, a weight, the LUM budget) against a
  prepared `baseline`, at 1 000 applications × 5 reviewers × 4 criteria (bench_core's synthetic call);
  goal at most 50 ms (median of the repeats).
- robustness: `core.robustness.robustness` (leave each of the 5 reviewers out, then 1 000 seeded
  bootstrap resamples of the reviewers, each allocated with the core's ranking and walk) on the 2022
  inputs (goal at most 1 s) and on 1 000 applications (goal at most 10 s); best of the repeats.
Each line shows the time and its ratio to the goal (below 1 = met).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_core import synthetic_call

from fou_review.core.eligibility import check_eligibility
from fou_review.core.load import YearInputs, load_year
from fou_review.core.params import RobustnessSettings
from fou_review.core.robustness import robustness
from fou_review.core.whatif import baseline, what_if


def line(label: str, seconds: float, goal: float) -> None:
    ratio = seconds / goal
    print(f"{label:<58} {seconds * 1000:>9.1f} ms  goal {goal * 1000:>6.0f} ms  ratio {ratio:.2f}  "
          f"{'met' if ratio <= 1 else 'MISSED'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--resamples", type=int, default=1000)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    params, apps, scores, conflicts = synthetic_call(1000)
    settings = RobustnessSettings(args.resamples, 2022, 0.95)
    params = dataclasses.replace(params, robustness=settings)
    base = baseline(YearInputs(params, apps, scores, conflicts, ()))
    for change in ({"funds.MUL.max_granted_per_applicant": 2}, {"criteria.strategisk.weight": 3},
                   {"funds.LUM.budget_kr": params.funds["LUM"].budget_kr // 2}):
        what_if(base, change)  # warm-up
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = what_if(base, change)
            times.append(time.perf_counter() - start)
        (key, value), = change.items()
        line(f"what-if {key}={value} ({len(result.changes)} changes), median", statistics.median(times), 0.050)

    year = load_year(ROOT, 2022)
    year_params = dataclasses.replace(year.params, robustness=settings)
    for label, run_args, goal in (
            ("robustness 2022 (23 applications)",
             (year.applications, check_eligibility(year.applications, year_params), year.scores, year.conflicts,
              year_params, year.overrides), 1.0),
            ("robustness 1 000 applications",
             (apps, check_eligibility(apps, params), scores, conflicts, params, ()), 10.0)):
        times = []
        for _ in range(max(1, min(args.repeats, 3))):
            start = time.perf_counter()
            robustness(*run_args)
            times.append(time.perf_counter() - start)
        line(f"{label}: leave-one-out + {args.resamples} bootstrap, best", min(times), goal)


if __name__ == "__main__":
    main()
