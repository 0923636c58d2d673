"""Properties of the allocation on random calls (hypothesis), through the public functions.

Random parameters (budgets, maxima, caps, reduce or reject, joint counting, partial remainders) and
random applications, scores and conflicts, built directly as DataFrames. Checked on every instance:
never over a budget, never over the count cap (a joint application counting for each partner when
the fund says so), never over the maximum or the request, only eligible applications granted, whole
kronor as int64, deterministic, independent of the order of the input rows, summary checks all met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fou_review.core.allocation import allocate
from fou_review.core.eligibility import check_eligibility
from fou_review.core.params import Params
from fou_review.core.scoring import score_applications
from fou_review.core.summary import Summary, summarise

ADMINISTRATIONS = ["Alfa", "Beta", "Gamma", "Delta", "Epsilon"]
NAMES = [*ADMINISTRATIONS, "Okänd"]  # "Okänd" is no administration: ineligible as unknown_applicant
REVIEWERS = ["r1", "r2", "r3"]
CRITERIA = [{"code": "k1", "name_sv": "K1", "name_en": "C1", "weight": 2},
            {"code": "k2", "name_sv": "K2", "name_en": "C2", "weight": 1},
            {"code": "k3", "name_sv": "K3", "name_en": "C3", "weight": 1, "requires_any": {"k2": 4}}]
REPORTS = ["godkänd", "ej aktuell", "ej godkänd", "ej inkommen"]
FIRST_DAY = dt.date(2021, 4, 20)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def fund_settings(draw: st.DrawFn) -> dict[str, Any]:
    maximum = draw(st.integers(1, 60)) * 1_000
    return {"budget_kr": draw(st.integers(1, 300)) * 1_000, "max_amount_kr": maximum,
            "over_max": draw(st.sampled_from(["reject", "reduce"])),
            "max_granted_per_applicant": draw(st.integers(1, 4)),
            "joint_counts_for": draw(st.sampled_from(["each_partner", "lead_only"])),
            "excluded_purposes": draw(st.sampled_from([[], ["kurs"]])),
            "remainder": {"partial": draw(st.booleans()), "minimum_kr": draw(st.integers(0, 20)) * 1_000}}


@st.composite
def calls(draw: st.DrawFn, make_params: Callable[..., Params]) -> tuple[Params, pd.DataFrame, pd.DataFrame,
                                                                          pd.DataFrame]:
    funds = {"A": draw(fund_settings()), "B": draw(fund_settings())}
    params = make_params(funds, administrations=ADMINISTRATIONS, reviewers=REVIEWERS, criteria=CRITERIA,
                         tie_break=draw(st.sampled_from([["total_score desc", "id asc"],
                                                         ["total_score desc", "criterion:k1 desc", "received asc",
                                                          "requested_kr asc", "id desc"]])))
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        group = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
        rows.append({
            "id": f"X-{i:03d}", "fund": draw(st.sampled_from(["A", "B"])), "applicants": tuple(group),
            "title": f"Projekt {i}", "requested_kr": draw(st.integers(1, 80)) * 1_000 + draw(st.integers(0, 999)),
            "received": (FIRST_DAY + dt.timedelta(days=draw(st.integers(0, 170)))).isoformat(),
            "purpose": draw(st.sampled_from(["", "studiebesök", "kurs"])),
            "project_year": pd.NA, "planned_years": pd.NA,
            "last_report": draw(st.sampled_from(REPORTS)), "source": "illustrative"})
    apps = pd.DataFrame(rows).astype({"requested_kr": "int64", "project_year": "Int64", "planned_years": "Int64"})
    scale = st.one_of(st.none(), st.integers(1, 7), st.integers(1, 7), st.integers(1, 7))  # mostly scored
    scores = pd.DataFrame(
        [(r, a, c["code"], s, "") for a in apps["id"] for r in REVIEWERS for c in CRITERIA
         if (s := draw(scale)) is not None],
        columns=["reviewer", "application_id", "criterion", "score", "comment"]).astype({"score": "int64"})
    pairs = draw(st.lists(st.tuples(st.sampled_from(REVIEWERS), st.sampled_from(list(apps["id"]))), max_size=4))
    conflicts = pd.DataFrame([(r, a, "jäv") for r, a in pairs], columns=["reviewer", "application_id", "reason"])
    return params, apps, scores, conflicts


def run(params: Params, apps: pd.DataFrame, scores: pd.DataFrame,
        conflicts: pd.DataFrame) -> tuple[pd.DataFrame, Summary, pd.DataFrame]:
    eligibility = check_eligibility(apps, params)
    scoring = score_applications(apps, scores, conflicts, params)
    allocation = allocate(apps, eligibility, scoring, params)
    summary = summarise(allocation.table, set(apps.loc[eligibility["eligible"], "id"]), params)
    return allocation.decisions, summary, eligibility


def _granted_per_applicant(apps: pd.DataFrame, decisions: pd.DataFrame, params: Params) -> dict[tuple[str, str], int]:
    """Recount from the inputs' applicant tuples (not from the decisions' joined text)."""
    count: dict[tuple[str, str], int] = {}
    granted = dict(zip(decisions["id"], decisions["granted_kr"], strict=True))
    for app_id, fund, group in zip(apps["id"], apps["fund"], apps["applicants"], strict=True):
        if granted[app_id] > 0:
            counted = group if params.funds[fund].joint_counts_for == "each_partner" else group[:1]
            for name in counted:
                count[(fund, name)] = count.get((fund, name), 0) + 1
    return count


def test_properties_hold_on_random_calls(make_params: Callable[..., Params]) -> None:
    @SETTINGS
    @given(calls(make_params))
    def check(call: tuple[Params, pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
        params, apps, scores, conflicts = call
        decisions, summary, eligibility = run(params, apps, scores, conflicts)
        assert list(decisions["id"]) == list(apps["id"])
        assert decisions["granted_kr"].dtype == np.int64 and decisions["requested_kr"].dtype == np.int64
        for code, fund in params.funds.items():
            assert decisions.loc[decisions["fund"] == code, "granted_kr"].sum() <= fund.budget_kr
        for (code, _), n in _granted_per_applicant(apps, decisions, params).items():
            assert n <= params.funds[code].max_granted_per_applicant
        limit = [min(params.funds[f].max_amount_kr, int(r)) for f, r in zip(apps["fund"], apps["requested_kr"],
                                                                            strict=True)]
        assert (decisions["granted_kr"].to_numpy() <= np.array(limit)).all()
        assert (decisions["granted_kr"] >= 0).all()
        assert not (decisions["granted_kr"].to_numpy() > 0)[~eligibility["eligible"].to_numpy()].any()
        assert summary.all_met, [c for c in summary.checks if not c.met]

    check()


def test_same_input_same_output(make_params: Callable[..., Params]) -> None:
    @SETTINGS
    @given(calls(make_params))
    def check(call: tuple[Params, pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
        first, _, _ = run(*call)
        second, _, _ = run(*call)
        pd.testing.assert_frame_equal(first, second)

    check()


def test_independent_of_the_order_of_input_rows(make_params: Callable[..., Params]) -> None:
    @SETTINGS
    @given(calls(make_params), st.randoms(use_true_random=False))
    def check(call: tuple[Params, pd.DataFrame, pd.DataFrame, pd.DataFrame], rnd: Any) -> None:
        params, apps, scores, conflicts = call

        def shuffled(frame: pd.DataFrame, fresh_index: bool) -> pd.DataFrame:
            order = list(range(len(frame)))
            rnd.shuffle(order)
            out = frame.iloc[order]
            return out.reset_index(drop=True) if fresh_index else out

        before, _, _ = run(params, apps, scores, conflicts)
        after, _, _ = run(params, shuffled(apps, rnd.random() < 0.5), shuffled(scores, True),
                          shuffled(conflicts, True))
        pd.testing.assert_frame_equal(before.sort_values("id").reset_index(drop=True),
                                      after.sort_values("id").reset_index(drop=True))

    check()


def test_a_joint_grant_counts_for_each_partner(make_params: Callable[..., Params]) -> None:
    """A directed property: cap 1, a joint grant first, then each partner alone -> both stopped by the cap."""
    @SETTINGS
    @given(st.lists(st.sampled_from(ADMINISTRATIONS), min_size=2, max_size=4, unique=True))
    def check(partners: list[str]) -> None:
        params = make_params({"A": {"max_granted_per_applicant": 1, "budget_kr": 1_000_000}},
                             administrations=ADMINISTRATIONS, reviewers=["r1"], criteria=CRITERIA[:1])
        ids = ["J-0", *[f"J-{i + 1}" for i in range(len(partners))]]
        apps = pd.DataFrame({"id": ids, "fund": "A", "applicants": [tuple(partners), *[(p,) for p in partners]],
                             "title": ids, "requested_kr": np.full(len(ids), 10_000, dtype=np.int64),
                             "received": "2021-09-01", "purpose": "", "project_year": pd.NA, "planned_years": pd.NA,
                             "last_report": "godkänd", "source": "illustrative"})
        apps = apps.astype({"project_year": "Int64", "planned_years": "Int64"})
        scores = pd.DataFrame({"reviewer": "r1", "application_id": ids, "criterion": "k1",
                               "score": np.arange(7, 7 - len(ids), -1, dtype=np.int64), "comment": ""})
        conflicts = pd.DataFrame(columns=["reviewer", "application_id", "reason"])
        decisions, summary, _ = run(params, apps, scores, conflicts)
        assert list(decisions["reason_code"]) == ["granted", *["rejected_cap"] * len(partners)]
        assert summary.all_met

    check()
