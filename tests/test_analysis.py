"""Reviewer calibration, robustness of the decision and what-if (core/calibration, robustness, whatif)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from fou_review.core.calibration import calibrate, calibrated_scoring, estimate_biases
from fou_review.core.cube import score_cube
from fou_review.core.eligibility import check_eligibility
from fou_review.core.load import YearInputs, load_year
from fou_review.core.model import ReasonCode
from fou_review.core.params import Params, parse_params_from_string
from fou_review.core.pipeline import decide
from fou_review.core.robustness import funded_under, prepare, robustness
from fou_review.core.scoring import score_applications
from fou_review.core.whatif import apply_changes, baseline, what_if
from fou_review.errors import InputError

REVIEWERS = ["r1", "r2", "r3", "r4", "r5"]


def small_params(n_criteria: int = 4, budget: int = 1_000_000, reviewers: list[str] | None = None,
                 **extra: object) -> Params:
    """A one-fund call (LUM) with the given criteria (the last conditional when there are four)."""
    criteria: list[dict[str, object]] = [{"code": f"k{j}", "name_sv": f"k{j}", "name_en": f"k{j}",
                                          "weight": 2 if j == 0 else 1} for j in range(n_criteria)]
    if n_criteria == 4:
        criteria[3]["requires_any"] = {"k1": 4, "k2": 4}
    raw = {
        "year": 2022,
        "decision": {"dnr": "1/2021", "date": "2021-12-14", "date_source": "illustrative",
                     "repayment_deadline": "2022-06-06", "repayment_address": "fou@example.org",
                     "title_sv": "Test", "title_en": "Test"},
        "funds": {"LUM": {"name_sv": "Fond", "name_en": "Fund", "budget_kr": budget, "budget_source": "published",
                          "max_amount_kr": 500_000, "over_max": "reject", "max_granted_per_applicant": 2,
                          "joint_counts_for": "each_partner", "window": {"opens": "2021-05-05", "closes": "2021-09-10"},
                          "remainder": {"partial": False, "minimum_kr": 0},
                          "title_label_sv": "Projekt", "title_label_en": "Project"}},
        "administrations": [f"Förvaltning {i}" for i in range(40)],
        "aliases": [],
        "reviewers": reviewers or REVIEWERS,
        "scale": {"min": 1, "max": 7, "descriptors_sv": {g: f"b{g}" for g in range(1, 8)},
                  "descriptors_en": {g: f"g{g}" for g in range(1, 8)}},
        "criteria": criteria,
        "tie_break": ["total_score desc", "received asc", "id asc"],
        **extra,
    }
    return parse_params_from_string(yaml.safe_dump(raw, allow_unicode=True), "test.yaml")


def applications(n: int, requested: int = 100_000) -> pd.DataFrame:
    return pd.DataFrame({
        "id": [f"LUM-{i + 1}" for i in range(n)], "fund": "LUM",
        "applicants": [(f"Förvaltning {i}",) for i in range(n)], "title": [f"Projekt {i}" for i in range(n)],
        "requested_kr": np.full(n, requested, dtype=np.int64),
        "received": [f"2021-06-{i % 28 + 1:02d}" for i in range(n)], "purpose": "",
        "project_year": pd.array([1] * n, dtype="Int64"), "planned_years": pd.array([1] * n, dtype="Int64"),
        "last_report": "godkänd", "source": "illustrative", "illustrative_fields": "",
    })


def scores_frame(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["reviewer", "application_id", "criterion", "score"]).assign(comment="")


NO_CONFLICTS = pd.DataFrame(columns=["reviewer", "application_id", "reason"])


def planted(n_apps: int, bias: list[int], per_app: int, seed: int = 1, noise: float = 0.0) -> pd.DataFrame:
    """Scores = application effect (2..5) + the reviewer's planted bias (+ rare ±1 noise), clipped to 1..7;
    each application scored by `per_app` reviewers chosen at random."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_apps):
        who = rng.choice(len(REVIEWERS), per_app, replace=False)
        for c in range(4):
            effect = int(rng.integers(2, 6))
            for r in who:
                jitter = int(rng.choice([-1, 1])) if rng.random() < noise else 0
                rows.append((REVIEWERS[r], f"LUM-{a + 1}", f"k{c}", int(np.clip(effect + bias[r] + jitter, 1, 7))))
    return scores_frame(rows)


def test_calibration_recovers_a_planted_bias_exactly_without_noise() -> None:
    params = small_params()
    apps = applications(40)
    bias = [1, 0, 0, 0, -1]
    scores = planted(40, bias, per_app=3)
    found = estimate_biases(score_cube(apps, scores, NO_CONFLICTS, params))
    assert np.allclose(found, bias, atol=1e-9)


def test_calibration_recovers_a_planted_bias_with_noise_within_its_interval() -> None:
    params = small_params(robustness={"bootstrap_resamples": 300, "seed": 7})
    apps = applications(60)
    bias = [1, 0, 0, 0, -1]
    scores = planted(60, bias, per_app=3, noise=0.3)
    elig = check_eligibility(apps, params)
    cal = calibrate(apps, elig, scores, NO_CONFLICTS, params)
    got = np.array([r.bias for r in cal.reviewers])
    assert np.abs(got - bias).max() < 0.2
    for r, true in zip(cal.reviewers, bias, strict=True):
        assert r.bias_low <= r.bias <= r.bias_high
        assert r.bias_low - 0.05 <= true <= r.bias_high + 0.05
        assert 0 < r.bias_se < 0.2 and r.spread > 0
    assert abs(float(got.sum())) < 1e-9
    assert cal.bias_sd == pytest.approx(float(np.std(got)))
    # Unbalanced design: calibration moves the totals towards the applications' own effects.
    raw, calibrated = cal.totals["total_raw"].to_numpy(), cal.totals["total_calibrated"].to_numpy()
    assert not np.allclose(raw, calibrated)


def test_conflicted_scores_are_left_out_of_the_calibration() -> None:
    params = small_params()
    apps = applications(40)
    scores = planted(40, [1, 0, 0, 0, -1], per_app=3)
    # A wild reviewer r2 on one application, declared conflicted there: the biases do not move.
    wild = scores_frame([("r2", "LUM-1", f"k{c}", 7) for c in range(4)])
    wild_scores = pd.concat([scores[~((scores["reviewer"] == "r2") & (scores["application_id"] == "LUM-1"))], wild])
    conflicts = pd.DataFrame({"reviewer": ["r2"], "application_id": ["LUM-1"], "reason": ["jäv"]})
    clean = estimate_biases(score_cube(apps, scores[~((scores["reviewer"] == "r2")
                                                      & (scores["application_id"] == "LUM-1"))], NO_CONFLICTS, params))
    assert np.allclose(estimate_biases(score_cube(apps, wild_scores, conflicts, params)), clean)


def test_zero_biases_give_the_raw_scoring() -> None:
    params = small_params()
    apps = applications(30)
    scores = planted(30, [1, 0, 0, 0, -1], per_app=3)
    raw = score_applications(apps, scores, NO_CONFLICTS, params)
    pd.testing.assert_frame_equal(calibrated_scoring(apps, scores, NO_CONFLICTS, params, np.zeros(5)), raw)


def test_allocation_scores_calibrated_changes_the_ranking_input() -> None:
    params = small_params(budget=1_000_000)
    apps = applications(30)
    scores = planted(30, [2, 0, 0, 0, -2], per_app=2, seed=3)
    elig = check_eligibility(apps, params)
    raw = decide(apps, elig, scores, NO_CONFLICTS, params)
    calibrated_params = dataclasses.replace(params, allocation_scores="calibrated")
    cal = decide(apps, elig, scores, NO_CONFLICTS, calibrated_params)
    expected = calibrated_scoring(apps, scores, NO_CONFLICTS, params)["total_score"]
    pd.testing.assert_series_equal(cal.scoring["total_score"], expected)
    assert not raw.scoring["total_score"].equals(cal.scoring["total_score"])
    # The ranking follows the calibrated totals, and some decision changes.
    ranked = cal.allocation.ranked
    assert list(ranked["total_score"]) == sorted(ranked["total_score"], reverse=True)
    assert (raw.allocation.table.granted_kr != cal.allocation.table.granted_kr).any()
    # The same through params/<year>.yaml, and calibrate() reports the changes.
    assert small_params(allocation_scores="calibrated").allocation_scores == "calibrated"
    report = calibrate(apps, elig, scores, NO_CONFLICTS, calibrated_params)
    changed = {c.id for c in report.changes if c.delta_kr}
    assert changed == set(apps["id"][raw.allocation.table.granted_kr != cal.allocation.table.granted_kr])
    assert report.applied


def test_analysis_parameters_are_validated_with_their_key() -> None:
    with pytest.raises(InputError) as err:
        small_params(allocation_scores="median", robustness={"bootstrap_resamples": 0})
    keys = {p.key for p in err.value.problems}
    assert keys == {"allocation_scores", "robustness.bootstrap_resamples"}
    assert "expected one of raw, calibrated, got 'median'" in err.value.problems[0].text("en") + \
        err.value.problems[1].text("en")


def test_2022_params_keep_the_raw_default(repo_root: Path) -> None:
    params = load_year(repo_root, 2022).params
    assert params.allocation_scores == "raw"
    assert (params.robustness.bootstrap_resamples, params.robustness.seed) == (1000, 2022)


def tiny() -> tuple[Params, pd.DataFrame, pd.DataFrame]:
    """Three applications, three reviewers, one criterion, a budget for one.

    A: 5 5 5 (mean 5), B: 7 3 4 (4.67), C: 1 1 1. Without r1: A 5 > B 3.5; without r2: B 5.5 > A 5;
    without r3: A 5 = B 5, A received first. So A is funded in 2 of 3 leave-one-out runs, B in 1.
    """
    params = small_params(n_criteria=1, budget=100_000, reviewers=["r1", "r2", "r3"],
                          robustness={"bootstrap_resamples": 200, "seed": 5})
    apps = applications(3)
    apps["id"] = ["A", "B", "C"]
    apps["received"] = ["2021-06-01", "2021-06-02", "2021-06-03"]
    rows = [(r, app, "k0", s) for app, given in (("A", (5, 5, 5)), ("B", (7, 3, 4)), ("C", (1, 1, 1)))
            for r, s in zip(("r1", "r2", "r3"), given, strict=True)]
    return params, apps, scores_frame(rows)


def test_robustness_counts_on_a_tiny_example() -> None:
    params, apps, scores = tiny()
    rob = robustness(apps, check_eligibility(apps, params), scores, NO_CONFLICTS, params)
    assert rob.funded.tolist() == [True, False, False]
    assert rob.leave_one_out.tolist() == [[True, False, True], [False, True, False], [False, False, False]]
    assert rob.loo_share.tolist() == pytest.approx([2 / 3, 1 / 3, 0])
    assert rob.uncertain.tolist() == [True, True, False]
    # Bootstrap: count by hand over the same seeded draws, each resample decided by the core.
    draws = np.random.default_rng(5).integers(0, 3, size=(200, 3))
    funded_a = 0
    for draw in draws:
        picked = pd.concat([scores[scores["reviewer"] == f"r{k + 1}"] for k in draw])
        decided = decide(apps, check_eligibility(apps, params), picked, NO_CONFLICTS, params)
        funded_a += int(decided.allocation.table.granted_kr[0] > 0)
    assert rob.bootstrap_share[0] == pytest.approx(funded_a / 200)
    assert rob.bootstrap_share[2] == 0
    frame = rob.frame()
    assert list(frame["without_r2"]) == [False, True, False]


def test_the_lean_allocation_matches_decide_on_random_instances() -> None:
    """Any reviewer weights: the same funded set as the core's decide on the scores repeated that often."""
    from bench.bench_core import synthetic_call

    for seed in range(3):
        params, apps, scores, conflicts = synthetic_call(300, seed=seed)
        scores = scores.astype({"reviewer": object, "application_id": object, "criterion": object})
        elig = check_eligibility(apps, params)
        prepared = prepare(apps, elig, scores, conflicts, params)
        rng = np.random.default_rng(seed)
        weights = np.vstack([np.ones(5), 1 - np.eye(5)[seed], rng.integers(0, 3, size=(3, 5))])
        weights[weights.sum(axis=1) == 0] = 1
        ours = funded_under(prepared, weights)
        for w, got in zip(weights, ours, strict=True):
            picked = pd.concat([scores[scores["reviewer"] == r] for k, r in enumerate(params.reviewers)
                                for _ in range(int(w[k]))])
            decided = decide(apps, elig, picked, conflicts, params)
            assert (got == (decided.allocation.table.granted_kr > 0)).all()


def test_robustness_2022_is_fast_and_funds_as_decided(repo_root: Path) -> None:
    inputs = load_year(repo_root, 2022)
    elig = check_eligibility(inputs.applications, inputs.params)
    rob = robustness(inputs.applications, elig, inputs.scores, inputs.conflicts, inputs.params, inputs.overrides)
    decided = decide(inputs.applications, elig, inputs.scores, inputs.conflicts, inputs.params, inputs.overrides)
    assert (rob.funded == (decided.allocation.table.granted_kr > 0)).all()
    assert rob.leave_one_out.shape == (23, 5)


def test_what_if_2022_mul_cap_two_shows_the_losers(repo_root: Path) -> None:
    base = baseline(load_year(repo_root, 2022))
    result = what_if(base, {"funds.MUL.max_granted_per_applicant": 2})
    assert [c.id for c in result.losses] == ["MUL-09", "MUL-11", "MUL-12"]
    assert not result.gains
    for c in result.losses:
        assert (c.before.granted_kr, c.after.granted_kr, c.delta_kr) == (25_000, 0, -25_000)
        assert c.after.code is ReasonCode.REJECTED_CAP and c.after.cap_count == 2
        assert c.after.rank == c.before.rank
    frame = result.frame("en")
    assert frame["reason_after"].str.contains("already has 2 granted applications in MUL").all()
    assert result.frame("sv")["reason_after"].str.contains("har redan beviljats 2 ansökningar").all()
    assert what_if(base, {}).changes == ()


def test_what_if_equals_a_full_decide_with_the_changed_parameters(repo_root: Path) -> None:
    inputs = load_year(repo_root, 2022)
    base = baseline(inputs)
    for changes in ({"criteria.strategisk.weight": 6, "funds.LUM.budget_kr": 3_000_000},
                    {"funds.LUM.remainder": {"partial": True, "minimum_kr": 10_000}, "funds.MUL.budget_kr": 200_000},
                    {"funds.LUM.max_amount_kr": 400_000, "funds.LUM.over_max": "reduce"},
                    {"allocation_scores": "calibrated"}):
        result = what_if(base, changes)
        params = apply_changes(inputs.params, changes)
        full = decide(inputs.applications, check_eligibility(inputs.applications, params), inputs.scores,
                      inputs.conflicts, params, inputs.overrides)
        assert (result.decided.allocation.table.granted_kr == full.allocation.table.granted_kr).all(), changes
        assert (result.decided.allocation.table.code == full.allocation.table.code).all(), changes
        assert result.decided.summary.checks == full.summary.checks
        assert result.decided.summary.funds == full.summary.funds


def test_bad_changes_name_their_keys(repo_root: Path) -> None:
    params = load_year(repo_root, 2022).params
    with pytest.raises(InputError) as err:
        apply_changes(params, {"funds.MUL.max_granted_per_applicant": 0, "funds.MUL.nope": 1, "funds.XX.budget_kr": 1,
                               "criteria.strategisk.weight": 2.5, "weights": 1, "funds.LUM.remainder.partial": "ja"})
    keys = {p.key for p in err.value.problems}
    assert keys == {"funds.MUL.max_granted_per_applicant", "funds.MUL.nope", "funds.XX.budget_kr",
                    "criteria.strategisk.weight", "weights", "funds.LUM.remainder.partial"}
    texts = [p.text("en") for p in err.value.problems]
    assert any("must be greater than zero, got 0" in x for x in texts)
    assert any("expected an integer" in x for x in texts)
    assert apply_changes(params, {}) == params


def test_a_part_of_a_remainder_set_to_a_plain_value_names_that_value(repo_root: Path) -> None:
    params = load_year(repo_root, 2022).params
    with pytest.raises(InputError) as err:
        apply_changes(params, {"funds.LUM.remainder": 5, "funds.LUM.remainder.partial": True})
    assert [p.key for p in err.value.problems] == ["funds.LUM.remainder"]
    assert "expected a mapping, got an integer" in err.value.message("en")


def test_inputs_built_in_memory_work_too() -> None:
    params = small_params()
    apps = applications(10)
    inputs = YearInputs(params, apps, planted(10, [0, 0, 0, 0, 0], per_app=5), NO_CONFLICTS, ())
    assert what_if(baseline(inputs), {"funds.LUM.budget_kr": 100_000}).losses


def test_agreement_is_computed_once_per_review_and_anew_for_a_new_one() -> None:
    from fou_review.core.agreement import agreement
    from fou_review.core.pipeline import review_year

    root = Path(__file__).resolve().parents[1]
    review = review_year(root, 2022)
    first = agreement(review)
    assert agreement(review) is first  # the workbook's view and the record's section share it
    inputs = review.inputs
    args = (inputs.applications, review.eligibility, inputs.scores, inputs.conflicts, inputs.params,
            inputs.overrides)
    assert first.calibration.bias_sd == calibrate(*args).bias_sd
    np.testing.assert_array_equal(first.robustness.bootstrap_share, robustness(*args).bootstrap_share)
    again = review_year(root, 2022)  # read again (say, after a save): computed anew
    assert agreement(again) is not first
    assert agreement(again).robustness.ids.tolist() == first.robustness.ids.tolist()
