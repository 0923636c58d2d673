"""Robustness of the decision: is an application funded when the reviewers change?

API (for the workbook and the record):
- `robustness(apps, eligibility, scores, conflicts, params, overrides=()) -> Robustness`: per
  application, funded or not in the computed allocation (`funded`), with each reviewer in turn left
  out (`leave_one_out`, applications × reviewers; `loo_share`), the share of
  `params.robustness.bootstrap_resamples` seeded resamples of the reviewers (drawn with replacement)
  in which it is funded (`bootstrap_share`), and `uncertain`: around the funding line, it cannot be
  told apart from its neighbours (fewer than `confidence` of the leave-one-out runs, or of the
  resamples, put it on the side of the line it got). `Robustness.frame()` is the same as a DataFrame.
- `funded_under(prepared, weights) -> np.ndarray`: the lean allocation behind it (see below), for any
  reviewer weights (resamples × reviewers; a reviewer's weight is how many times their scores count).

How: the counted scores (conflicts left out) are summed per application, criterion and reviewer once
(`core.cube`); a resample's means are then one matrix product (sums · weights / counts · weights), its
totals follow the rule of `core.scoring` and its allocation reuses the core's own ranking
(`allocation.rank_candidates`) and greedy walk on the precomputed keys, with the committee's overrides
fixed first as in `allocate`. With all weights 1 it is the computed allocation (tested against
`pipeline.decide`). When the year allocates by calibrated totals, each resample's scores are calibrated
with the biases estimated from all reviewers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fou_review.core.allocation import _apply_overrides, _greedy, _sort_columns, _sort_key, rank_candidates
from fou_review.core.calibration import estimate_biases, totals_from_means
from fou_review.core.cube import score_cube
from fou_review.core.model import Override
from fou_review.core.params import Params


@dataclass(frozen=True)
class Prepared:
    """What every resample shares: the score cube as matrices, fixed keys, overrides, candidates."""

    params: Params
    sums: np.ndarray  # (applications × criteria, reviewers)
    counts: np.ndarray  # same shape, float64
    n_apps: int
    fixed_keys: dict[str, np.ndarray]  # tie-break columns that do not depend on the scores, coded
    eligible: np.ndarray  # eligible and not fixed by an override
    in_fund: dict[str, np.ndarray]
    applicants: np.ndarray
    requested: np.ndarray
    spent: dict[str, int]  # per fund, what the overrides use
    used: dict[str, dict[str, int]]  # per fund, the overrides' counts per applicant
    override_funded: np.ndarray  # bool: an override grants something


def prepare(apps: pd.DataFrame, eligibility: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
            params: Params, overrides: Sequence[Override] = ()) -> Prepared:
    """Everything the resamples share (computed once)."""
    cube = score_cube(apps, scores, conflicts, params)
    n_apps, _, n_rev = cube.shape
    sums = cube.sums.reshape(-1, n_rev)
    counts = cube.counts.reshape(-1, n_rev).astype(np.float64)
    if params.allocation_scores == "calibrated":
        sums = sums - counts * estimate_biases(cube)[None, :]
    ids = apps["id"].to_numpy()
    sort_cols, _ = _sort_columns(params)
    fixed = {c: _sort_key(apps[c].to_numpy()) for c in sort_cols if c in ("received", "requested_kr")}
    fixed["id"] = ids
    by_id = {o.id: o for o in overrides}
    is_override = np.isin(ids, list(by_id)) if by_id else np.zeros(n_apps, dtype=bool)
    funds = apps["fund"].to_numpy()
    applicants = apps["applicants"].to_numpy()
    in_fund, spent, used = {}, {}, {}
    for code, fund in params.funds.items():
        in_fund[code] = funds == code
        mine: dict[str, int] = {}
        rows = np.flatnonzero(in_fund[code] & is_override)
        spent[code] = _apply_overrides(fund, [(ids[p], applicants[p]) for p in rows], by_id, mine, params)
        used[code] = mine
    override_funded = np.array([by_id[i].granted_kr > 0 if i in by_id else False for i in ids.tolist()], dtype=bool)
    return Prepared(params, sums, counts, n_apps, fixed, eligibility["eligible"].to_numpy(dtype=bool) & ~is_override,
                    in_fund, applicants, apps["requested_kr"].to_numpy().astype(np.int64), spent, used,
                    override_funded)


def funded_under(prepared: Prepared, weights: np.ndarray) -> np.ndarray:
    """Funded (bool, resamples × applications) when reviewer r's scores count `weights[b, r]` times."""
    p = prepared
    params = p.params
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    n_crit = len(params.criteria)
    with np.errstate(invalid="ignore", divide="ignore"):
        num, den = p.sums @ w.T, p.counts @ w.T  # (cells, resamples)
        means = np.where(den > 0, num / den, np.nan)
    means = means.T.reshape(len(w), p.n_apps, n_crit)
    _, totals = totals_from_means(means.reshape(-1, n_crit), params)
    totals = totals.reshape(len(w), p.n_apps)
    sort_cols, _ = _sort_columns(params)
    codes = params.criterion_codes()
    out = np.zeros((len(w), p.n_apps), dtype=bool)
    out[:] = p.override_funded
    for b in range(len(w)):
        keys = dict(p.fixed_keys)
        for c in sort_cols:
            if c == "total_score":
                keys[c] = totals[b]
            elif c.endswith("_mean") and c[:-5] in codes:
                keys[c] = means[b, :, codes.index(c[:-5])]
        scored = ~np.isnan(totals[b])
        for code, fund in params.funds.items():
            candidates = np.flatnonzero(p.in_fund[code] & p.eligible & scored)
            at = rank_candidates(keys, candidates, params)
            got, _, _, _ = _greedy(fund, p.applicants[at].tolist(), p.requested[at], fund.budget_kr - p.spent[code],
                                   dict(p.used[code]))
            out[b, at] = np.asarray(got, dtype=np.int64) > 0
    return out


@dataclass(frozen=True)
class Robustness:
    """How the decision holds up when the reviewers change (see the module docstring)."""

    reviewers: tuple[str, ...]
    ids: np.ndarray
    funds: np.ndarray
    funded: np.ndarray  # bool: funded in the computed allocation
    leave_one_out: np.ndarray  # bool (applications, reviewers): funded with that reviewer left out
    loo_share: np.ndarray  # share of the leave-one-out runs in which it is funded
    bootstrap_share: np.ndarray  # share of the resamples in which it is funded
    ranked: np.ndarray  # bool: a ranked candidate (eligible, scored, no override)
    uncertain: np.ndarray  # bool: cannot be told apart from the other side of the funding line
    resamples: int
    seed: int
    confidence: float

    def frame(self) -> pd.DataFrame:
        """One row per application: id, fund, funded, loo_share, bootstrap_share, uncertain, and
        `without_<reviewer>` (funded with that reviewer left out)."""
        columns: dict[str, object] = {"id": self.ids, "fund": self.funds, "funded": self.funded,
                                      "loo_share": self.loo_share, "bootstrap_share": self.bootstrap_share,
                                      "uncertain": self.uncertain}
        for r, name in enumerate(self.reviewers):
            columns[f"without_{name}"] = self.leave_one_out[:, r]
        return pd.DataFrame(columns)


def robustness(apps: pd.DataFrame, eligibility: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
               params: Params, overrides: Sequence[Override] = ()) -> Robustness:
    """Leave-one-reviewer-out and a seeded bootstrap over reviewers (see the module docstring)."""
    settings = params.robustness
    prepared = prepare(apps, eligibility, scores, conflicts, params, overrides)
    n_rev = len(params.reviewers)
    funded = funded_under(prepared, np.ones((1, n_rev)))[0]
    loo = funded_under(prepared, 1.0 - np.eye(n_rev)).T if n_rev > 1 else np.zeros((len(apps), 0), dtype=bool)
    rng = np.random.default_rng(settings.seed)
    draws = rng.integers(0, n_rev, size=(settings.bootstrap_resamples, n_rev))
    weights = np.zeros((settings.bootstrap_resamples, n_rev))
    np.add.at(weights, (np.repeat(np.arange(len(draws)), n_rev), draws.ravel()), 1.0)
    boot = funded_under(prepared, weights)
    loo_share = loo.mean(axis=1) if loo.shape[1] else funded.astype(np.float64)
    boot_share = boot.mean(axis=0)
    ranked = prepared.eligible & ~np.isnan(_all_totals(prepared))
    same_loo = np.where(funded, loo_share, 1.0 - loo_share)
    same_boot = np.where(funded, boot_share, 1.0 - boot_share)
    uncertain = ranked & ((same_loo < settings.confidence) | (same_boot < settings.confidence))
    return Robustness(tuple(params.reviewers), apps["id"].to_numpy(dtype=object), apps["fund"].to_numpy(dtype=object),
                      funded, loo, loo_share, boot_share, ranked, uncertain, settings.bootstrap_resamples,
                      settings.seed, settings.confidence)


def _all_totals(prepared: Prepared) -> np.ndarray:
    """The totals with every reviewer counted once (NaN = not scored)."""
    p = prepared
    n_crit = len(p.params.criteria)
    n = p.counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(n > 0, p.sums.sum(axis=1) / n, np.nan).reshape(p.n_apps, n_crit)
    return totals_from_means(means, p.params)[1]
