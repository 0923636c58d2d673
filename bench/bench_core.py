"""Benchmark: score + allocate synthetic calls of 10^3, 10^4 and 10^5 applications.

    .venv/bin/python bench/bench_core.py [--sizes 1000 10000 100000] [--repeats 3] [--pabutools-max 10000]

Each instance has two funds (LUM-like and MUL-like, with realistic caps: at most 500 000 kr and two
granted applications per administration, at most 25 000 kr and three), 5 reviewers x 4 criteria
(one conditional), about 5 % joint applications, some ineligible rows, and budgets that run out
before the ranking does. The timed step is the library's public path on DataFrames already in
memory: check_eligibility + score_applications + allocate, to the typed decisions table (best of
a few repeats; the texts are rendered only where they are shown, so they are not timed here). pabutools'
greedy rule (the additive, utilitarian variant) runs on the same instances for comparison, fed
with the same ranking order (utility = total score x cost, so its density order is our score order).
Goals: 10^5 applications in under 1 s; at least 100x faster than pabutools at 10^4.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import yaml

from fou_review.core.allocation import allocate
from fou_review.core.eligibility import check_eligibility
from fou_review.core.model import REASON_CODES, Allocation
from fou_review.core.params import Params, parse_params_from_string
from fou_review.core.scoring import score_applications

REVIEWERS = [f"r{i}" for i in range(1, 6)]
CRITERIA = [("strategisk", 2, None), ("forebyggande", 1, None), ("klientcentrering", 1, None),
            ("uppfoljning", 1, {"forebyggande": 4, "klientcentrering": 4})]


def synthetic_params(n: int) -> Params:
    """Parameters for a call of n applications: one administration per ~6 applications."""
    n_admin = max(14, n // 6)
    lum_share = 0.4
    lum_budget = int(n * lum_share * 285_000 * 0.35)  # about a third of what is asked
    mul_budget = int(n * (1 - lum_share) * 16_000 * 0.35)
    scale = {"min": 1, "max": 7, "descriptors_sv": {g: f"betyg {g}" for g in range(1, 8)},
             "descriptors_en": {g: f"grade {g}" for g in range(1, 8)}}

    def fund(budget: int, maximum: int, cap: int, excluded: list[str], years: int | None) -> dict[str, object]:
        f: dict[str, object] = {
            "name_sv": "Fond", "name_en": "Fund", "budget_kr": budget, "budget_source": "illustrative",
            "max_amount_kr": maximum, "over_max": "reject", "max_granted_per_applicant": cap,
            "joint_counts_for": "each_partner", "window": {"opens": "2021-05-05", "closes": "2021-09-17"},
            "excluded_purposes": excluded, "remainder": {"partial": False, "minimum_kr": 0},
            "title_label_sv": "Projekt", "title_label_en": "Project"}
        if years is not None:
            f["max_project_years"] = years
        return f

    raw = {
        "year": 2022,
        "decision": {"dnr": "1/2021", "date": "2021-12-14", "date_source": "illustrative",
                     "repayment_deadline": "2022-06-06", "repayment_address": "fou@example.org",
                     "title_sv": "Syntetisk", "title_en": "Synthetic"},
        "funds": {"LUM": fund(lum_budget, 500_000, 2, [], 3),
                  "MUL": fund(mul_budget, 25_000, 3, ["kurs", "konferens"], None)},
        "administrations": [f"Förvaltning {i:05d}" for i in range(n_admin)],
        "aliases": [],
        "reviewers": REVIEWERS,
        "scale": scale,
        "criteria": [{"code": c, "name_sv": c, "name_en": c, "weight": w, **({"requires_any": r} if r else {})}
                     for c, w, r in CRITERIA],
        "tie_break": ["total_score desc", "criterion:strategisk desc", "received asc", "id asc"],
    }
    return parse_params_from_string(yaml.safe_dump(raw, allow_unicode=True), "synthetic.yaml")


def synthetic_call(n: int, seed: int = 0) -> tuple[Params, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Applications, scores (5 x 4 per application, a few missing) and conflicts, built with numpy."""
    rng = np.random.default_rng(seed)
    params = synthetic_params(n)
    admins = np.array(params.administrations, dtype=object)
    is_lum = rng.random(n) < 0.4
    first = rng.integers(0, len(admins), n)
    joint = rng.random(n) < 0.05
    second = (first + 1 + rng.integers(0, len(admins) - 1, n)) % len(admins)
    applicants = [(admins[a], admins[b]) if j else (admins[a],)
                  for a, b, j in zip(first, second, joint, strict=True)]
    requested = np.where(is_lum, rng.integers(50, 520, n) * 1_000, rng.integers(5, 27, n) * 1_000)
    day = pd.Timestamp("2021-05-01") + pd.to_timedelta(rng.integers(0, 140, n), unit="D")
    purposes = np.array(["studiebesök", "studieresa", "kurs", "konferens"], dtype=object)
    purpose = np.where(is_lum, "", purposes[rng.choice(4, n, p=[0.5, 0.45, 0.03, 0.02])])
    years = np.where(is_lum, rng.integers(1, 5, n), 0)
    apps = pd.DataFrame({
        "id": [f"A{i:07d}" for i in range(n)], "fund": np.where(is_lum, "LUM", "MUL"),
        "applicants": applicants, "title": [f"Projekt {i}" for i in range(n)],
        "requested_kr": requested.astype(np.int64), "received": day.strftime("%Y-%m-%d").to_numpy(),
        "purpose": purpose, "project_year": pd.array(np.where(is_lum, 1, 0), dtype="Int64"),
        "planned_years": pd.array(years, dtype="Int64"),
        "last_report": np.where(rng.random(n) < 0.02, "ej inkommen", "godkänd"), "source": "illustrative",
    })
    apps.loc[~is_lum, ["project_year", "planned_years"]] = pd.NA
    n_rows = n * len(REVIEWERS) * len(CRITERIA)
    scores = pd.DataFrame({
        "reviewer": np.tile(np.repeat(REVIEWERS, len(CRITERIA)), n),
        "application_id": np.repeat(apps["id"].to_numpy(), len(REVIEWERS) * len(CRITERIA)),
        "criterion": np.tile([c for c, _, _ in CRITERIA], n * len(REVIEWERS)),
        "score": rng.integers(1, 8, n_rows).astype(np.int64),
        "comment": "",
    })
    scores = scores[rng.random(n_rows) > 0.001].reset_index(drop=True)  # a few not yet scored
    # The keys as `load_year` hands them over: categoricals over the year's reviewers, ids and criteria.
    scores = scores.assign(
        reviewer=pd.Categorical(scores["reviewer"], categories=REVIEWERS),
        application_id=pd.Categorical(scores["application_id"], categories=apps["id"].tolist()),
        criterion=pd.Categorical(scores["criterion"], categories=[c for c, _, _ in CRITERIA]))
    pick = rng.choice(n, max(1, n // 100), replace=False)
    conflicts = pd.DataFrame({"reviewer": rng.choice(REVIEWERS, len(pick)),
                              "application_id": apps["id"].to_numpy()[pick], "reason": "jäv"})
    return params, apps, scores, conflicts


def ours(params: Params, apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame) -> Allocation:
    """The core path: eligibility, scoring and allocation, to the typed (text-free) decisions."""
    eligibility = check_eligibility(apps, params)
    scoring = score_applications(apps, scores, conflicts, params)
    return allocate(apps, eligibility, scoring, params)


Candidates = dict[str, tuple[list[str], list[int], list[list[int]]]]


def pabutools_inputs(params: Params, apps: pd.DataFrame, scores: pd.DataFrame,
                     conflicts: pd.DataFrame) -> Candidates:
    """Per fund, pabutools' input for the same instance: each reviewer is a voter.

    The candidates are the eligible, scored applications; a voter's utility for project p is
    cost(p) x sum over the criteria that count for p of weight x the voter's score (a conflicted
    reviewer gives 0), so pabutools' greedy (utility per cost) ranks by our weighted total.
    Prepared outside the timing: pabutools is timed on building its objects and running the rule.
    """
    eligibility = check_eligibility(apps, params)
    scoring = score_applications(apps, scores, conflicts, params)
    ok = (eligibility["eligible"] & scoring["total_score"].notna()).to_numpy()
    counts = {c.code: scoring[f"{c.code}_counts"].to_numpy() for c in params.criteria}
    position = pd.Series(np.arange(len(apps)), index=apps["id"].to_numpy())
    weight = {c.code: c.weight for c in params.criteria}
    rows = scores.assign(p=position.reindex(scores["application_id"]).to_numpy())
    rows = rows[rows["p"].notna()].astype({"p": "int64"})
    counted = np.array([counts[c][p] for c, p in zip(rows["criterion"], rows["p"], strict=True)], dtype=bool)
    rows = rows.assign(u=np.where(counted, rows["score"] * rows["criterion"].map(weight), 0))
    blocked = set(zip(conflicts["reviewer"], conflicts["application_id"], strict=True))
    rows = rows[[(r, a) not in blocked for r, a in zip(rows["reviewer"], rows["application_id"], strict=True)]]
    utility = np.zeros((len(params.reviewers), len(apps)), dtype=np.int64)
    reviewer = {r: i for i, r in enumerate(params.reviewers)}
    np.add.at(utility, (rows["reviewer"].map(reviewer).to_numpy(), rows["p"].to_numpy()), rows["u"].to_numpy())
    out: Candidates = {}
    for code in params.funds:
        mine = np.flatnonzero(ok & (apps["fund"] == code).to_numpy())
        out[code] = (apps["id"].to_numpy()[mine].tolist(), apps["requested_kr"].to_numpy()[mine].tolist(),
                     utility[:, mine].tolist())
    return out


def pabutools_greedy(params: Params, candidates: Candidates) -> set[str]:
    """pabutools' greedy rule per fund, one voter per reviewer (no count cap, no partial grants)."""
    from pabutools.election import CardinalBallot, CardinalProfile, Instance, Project
    from pabutools.election.satisfaction import Additive_Cardinal_Sat
    from pabutools.rules import greedy_utilitarian_welfare

    chosen: set[str] = set()
    for code, fund in params.funds.items():
        ids, costs, utilities = candidates[code]
        projects = [Project(i, c) for i, c in zip(ids, costs, strict=True)]
        instance = Instance(projects, budget_limit=fund.budget_kr)
        profile = CardinalProfile([CardinalBallot({p: u * p.cost for p, u in zip(projects, voter, strict=True)})
                                   for voter in utilities])
        result = greedy_utilitarian_welfare(instance, profile, sat_class=Additive_Cardinal_Sat)
        chosen.update(p.name for p in result)
    return chosen


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best wall-clock and best CPU time (this process) over the repeats, in seconds."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pabutools-max", type=int, default=10_000, help="largest size run through pabutools")
    args = ap.parse_args()
    print(f"score + allocate (eligibility, scoring, allocation), best of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'n':>8} {'ours wall':>10} {'ours cpu':>9} {'pabutools':>10} {'ratio':>7}  decisions / note")
    for n in args.sizes:
        params, apps, scores, conflicts = synthetic_call(n)
        allocation = ours(params, apps, scores, conflicts)  # warm-up (imports, caches)
        wall, cpu = best_of(partial(ours, params, apps, scores, conflicts), args.repeats)
        codes = {REASON_CODES[c].value: int(k) for c, k in enumerate(np.bincount(allocation.table.code))}
        shown = ("granted", "rejected_cap", "rejected_budget")
        note = ", ".join(f"{c} {codes.get(c, 0)}" for c in shown)
        note += f", other {n - sum(codes.get(c, 0) for c in shown)}"
        if n >= 100_000:
            note += f"; {wall:.2f} s of the 1 s goal: {'met' if wall < 1.0 else 'MISSED'}"
        pabu, ratio = "-", "-"
        if n <= args.pabutools_max:
            candidates = pabutools_inputs(params, apps, scores, conflicts)
            t_pabu, cpu_pabu = best_of(partial(pabutools_greedy, params, candidates), 2 if n <= 10_000 else 1)
            pabu, ratio = f"{t_pabu:.3f}", f"{t_pabu / wall:.0f}x"
            note += f"; cpu ratio {cpu_pabu / cpu:.0f}x"
            if n == 10_000:
                note += (f"; goal >= 100x: {'met' if t_pabu / wall >= 100 else 'MISSED'} (wall), "
                         f"{'met' if cpu_pabu / cpu >= 100 else 'MISSED'} (cpu)")
        print(f"{n:>8} {wall:>10.3f} {cpu:>9.3f} {pabu:>10} {ratio:>7}  {note}")


if __name__ == "__main__":
    main()
