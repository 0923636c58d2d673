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
(`allocation.rank_candidates`) and greedy walk on the precomputed keys (in array steps for large funds,
as in `allocate`), with the committee's overrides fixed first as in `allocate`. With all weights 1 it is
the computed allocation (tested against `pipeline.decide`). When the year allocates by calibrated totals,
each resample's scores are calibrated with the biases estimated from all reviewers.

A resample's outcome depends only on its weights, and a bootstrap over five reviewers draws at most 126
distinct multisets of them: each distinct row of weights is allocated once. With whole-number weights
and scores (the sums then exact in any order) a row's means are computed by themselves; otherwise
from the whole batch as one product, rows shared only where their sums are equal bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fou_review.core.allocation import (
    _ARRAY_WALK_FROM,
    _Applicants,
    _apply_overrides,
    _sort_columns,
    _sort_key,
    rank_candidates,
    walk_fund,
)
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
    sort_cols: tuple[str, ...]  # the tie-break columns
    mean_columns: dict[str, int]  # tie-break columns that are a criterion's mean -> the criterion's position
    who: _Applicants  # the applicants of the eligible rows without an override, coded (for the array walk)


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
    eligible = eligibility["eligible"].to_numpy(dtype=bool) & ~is_override
    codes = params.criterion_codes()
    mean_columns = {c: codes.index(c[:-5]) for c in sort_cols if c.endswith("_mean") and c[:-5] in codes}
    who = _Applicants.code(applicants, np.flatnonzero(eligible), params.administrations)
    return Prepared(params, sums, counts, n_apps, fixed, eligible, in_fund, applicants,
                    apps["requested_kr"].to_numpy().astype(np.int64), spent, used, override_funded, tuple(sort_cols),
                    mean_columns, who)


def funded_under(prepared: Prepared, weights: np.ndarray) -> np.ndarray:
    """Funded (bool, resamples × applications) when reviewer r's scores count `weights[b, r]` times.

    Equal rows of `weights` (a bootstrap draws the same multiset of reviewers many times) give the
    same means, and so the same allocation: each is allocated once.
    """
    p = prepared
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    out = np.zeros((len(w), p.n_apps), dtype=bool)
    out[:] = p.override_funded
    if not len(w):
        return out
    distinct, inverse = np.unique(w, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if _exact(p, distinct):
        # Every product and partial sum of the means' numerators and denominators is exact, so each
        # distinct row alone gives the same numbers, bit for bit, as the whole batch would.
        for k, row in enumerate(distinct):
            means, totals = _means_totals(p, p.sums @ row, p.counts @ row)
            out[inverse == k] = _funded(p, means, totals)
        return out
    num, den = p.sums @ w.T, p.counts @ w.T  # (cells, resamples), the whole batch at once as ever
    first, which = _same_columns(num, den, inverse)
    for k, b in enumerate(first.tolist()):
        means, totals = _means_totals(p, num[:, b], den[:, b])
        out[which == k] = _funded(p, means, totals)
    return out


def _exact(p: Prepared, w: np.ndarray) -> bool:
    """Are `p.sums @ w.T` and `p.counts @ w.T` exact in float64 whatever the order of the additions?

    So when the weights are whole numbers, the sums and counts multiples of 2⁻¹⁰, none negative (no
    -0.0), and every partial sum below 2⁵³·2⁻¹⁰.
    """
    if not (np.isfinite(w).all() and (w >= 0).all() and (w == np.floor(w)).all()):
        return False
    top = float(w.max()) if w.size else 0.0
    for x in (p.sums, p.counts):
        scaled = x * 1024.0
        if not (np.isfinite(scaled).all() and (scaled >= 0).all() and (scaled == np.round(scaled)).all()):
            return False
        if x.size and float(scaled.sum(axis=1).max()) * top >= 2.0**53:
            return False
    return True


def _means_totals(p: Prepared, num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The means (applications × criteria) and the totals (applications) of one resample's sums."""
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(den > 0, num / den, np.nan).reshape(p.n_apps, len(p.params.criteria))
    return means, totals_from_means(means, p.params)[1]


def _same_columns(num: np.ndarray, den: np.ndarray, inverse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Resamples with equal weights whose columns of `num` and `den` are also equal bit for bit, as
    groups: each group's first resample, and each resample's group (a resample whose columns differ
    from its group's first is a group of its own)."""
    _, first = np.unique(inverse, return_index=True)
    rep = first[inverse]  # each resample's group's first
    same = np.ones(len(inverse), dtype=bool)
    for x in (num, den):
        bits = x.view(np.int64)
        for lo in range(0, len(bits), 1024):  # a thousand cells at a time keeps memory small
            part = bits[lo:lo + 1024]
            same &= (part == part[:, rep]).all(axis=0)
    alone = np.flatnonzero(~same)
    which = inverse.astype(np.int64)
    which[alone] = len(first) + np.arange(len(alone))
    return np.concatenate((first, alone)).astype(np.int64), which


def _funded(p: Prepared, means: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Funded (bool per application) by the lean allocation on these means and totals."""
    params = p.params
    out = np.asarray(p.override_funded).copy()
    keys = dict(p.fixed_keys)
    for c in p.sort_cols:
        if c == "total_score":
            keys[c] = totals
        elif c in p.mean_columns:
            keys[c] = means[:, p.mean_columns[c]]
    ranked = p.eligible & ~np.isnan(totals)
    who = p.who if int(ranked.sum()) >= _ARRAY_WALK_FROM else None  # a large call: in array steps, as `allocate`
    for code, fund in params.funds.items():
        at = rank_candidates(keys, np.flatnonzero(p.in_fund[code] & ranked), params)
        got, _, _, _ = walk_fund(fund, at, p.requested[at], fund.budget_kr - p.spent[code], p.used[code],
                                 p.applicants, who)
        out[at] = got > 0
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

    @property
    def loo_kept(self) -> np.ndarray:
        """Per application, in how many of the leave-one-out runs it is funded (int64); with a single
        reviewer (no such run), 1 where funded in the computed allocation, as if it were one run."""
        return (self.leave_one_out.sum(axis=1) if self.leave_one_out.shape[1] else self.funded).astype(np.int64)

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
