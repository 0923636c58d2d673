"""Independent cross-check: our allocation selects what pabutools' greedy rule selects.

On random calls where the count cap cannot bind (cap above the number of applications), nothing is
over the maximum, partial grants are off and every application is eligible and scored, our rule is
the classic greedy: take the applications in score order, skip one that does not fit the remaining
budget. pabutools (https://pypi.org/project/pabutools/) implements that greedy rule on its own.

The translation: each reviewer is a voter whose cardinal ballot gives project p the utility
cost(p) x sum_c weight_c x score_rc, computed here from the raw scores. pabutools' additive greedy
orders projects by total utility / cost = (number of reviewers) x (our weighted total), so its order
is our score order; ties are broken lexicographically on the project name in pabutools and by
`id asc` in ours, which agree. Budgets and costs are whole kronor (ints).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pabutools.election import CardinalBallot, CardinalProfile, Instance, Project
from pabutools.election.satisfaction import Additive_Cardinal_Sat
from pabutools.rules import greedy_utilitarian_welfare

from fou_review.core.allocation import allocate
from fou_review.core.eligibility import check_eligibility
from fou_review.core.params import Params
from fou_review.core.scoring import score_applications

ADMINISTRATIONS = ["Alfa", "Beta", "Gamma"]
WEIGHTS = {"k1": 2, "k2": 1}
CRITERIA = [{"code": c, "name_sv": c, "name_en": c, "weight": w} for c, w in WEIGHTS.items()]
MAXIMUM = 60_000


@st.composite
def instances(draw: st.DrawFn) -> tuple[dict[str, int], list[str], pd.DataFrame, pd.DataFrame]:
    budgets = {"A": draw(st.integers(1_000, 400_000)), "B": draw(st.integers(1_000, 400_000))}
    reviewers = [f"r{i}" for i in range(draw(st.integers(1, 5)))]
    n = draw(st.integers(1, 30))
    ids = [f"P-{i:03d}" for i in range(n)]  # zero-padded: string order == pabutools' name order
    apps = pd.DataFrame({
        "id": ids, "fund": [draw(st.sampled_from(["A", "B"])) for _ in ids],
        "applicants": [tuple(draw(st.lists(st.sampled_from(ADMINISTRATIONS), min_size=1, max_size=2, unique=True)))
                       for _ in ids],
        "title": ids, "requested_kr": np.array([draw(st.integers(1, MAXIMUM)) for _ in ids], dtype=np.int64),
        "received": "2021-09-01", "purpose": "", "project_year": pd.NA, "planned_years": pd.NA,
        "last_report": "godkänd", "source": "illustrative"}).astype({"project_year": "Int64", "planned_years": "Int64"})
    scores = pd.DataFrame([(r, a, c, draw(st.integers(1, 7)), "") for a in ids for r in reviewers for c in WEIGHTS],
                          columns=["reviewer", "application_id", "criterion", "score", "comment"])
    return budgets, reviewers, apps, scores.astype({"score": "int64"})


def pabutools_selection(budgets: dict[str, int], apps: pd.DataFrame, scores: pd.DataFrame) -> set[str]:
    weighted = scores.assign(w=scores["score"] * scores["criterion"].map(WEIGHTS))
    per_voter = weighted.groupby(["reviewer", "application_id"])["w"].sum()
    chosen: set[str] = set()
    for fund, budget in budgets.items():
        rows = apps[apps["fund"] == fund]
        projects = {i: Project(i, int(c)) for i, c in zip(rows["id"], rows["requested_kr"], strict=True)}
        instance = Instance(projects.values(), budget_limit=budget)
        ballots = [CardinalBallot({p: int(per_voter[(r, i)]) * p.cost for i, p in projects.items()})
                   for r in per_voter.index.get_level_values(0).unique()]
        result = greedy_utilitarian_welfare(instance, CardinalProfile(ballots), sat_class=Additive_Cardinal_Sat)
        chosen.update(p.name for p in result)
    return chosen


def test_same_selection_as_pabutools_greedy(make_params: Callable[..., Params]) -> None:
    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(instances())
    def check(instance: tuple[dict[str, int], list[str], pd.DataFrame, pd.DataFrame]) -> None:
        budgets, reviewers, apps, scores = instance
        funds = {code: {"budget_kr": budget, "max_amount_kr": MAXIMUM, "max_granted_per_applicant": len(apps) + 1,
                        "remainder": {"partial": False, "minimum_kr": 0}} for code, budget in budgets.items()}
        params = make_params(funds, administrations=ADMINISTRATIONS, reviewers=reviewers, criteria=CRITERIA,
                             tie_break=["total_score desc", "id asc"])
        eligibility = check_eligibility(apps, params)
        scoring = score_applications(apps, scores, pd.DataFrame(columns=["reviewer", "application_id", "reason"]),
                                     params)
        assert eligibility["eligible"].all() and scoring["total_score"].notna().all()
        decisions = allocate(apps, eligibility, scoring, params).decisions
        ours = set(decisions.loc[decisions["granted_kr"] > 0, "id"])
        assert ours == pabutools_selection(budgets, apps, scores)
        granted = decisions[decisions["granted_kr"] > 0]
        assert (granted["granted_kr"] == granted["requested_kr"]).all()
        assert set(decisions["reason_code"]) <= {"granted", "rejected_budget"}

    check()
