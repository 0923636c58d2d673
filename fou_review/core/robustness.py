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
totals follow the rule of `core.scoring` and its allocation ranks the candidates as the core's own ranking
(`allocation.rank_candidates`) does and reuses its greedy walk on the precomputed keys (in array steps for
large funds, as in `allocate`), with the committee's overrides fixed first as in `allocate`. Resamples
are taken a few at a time: their means and totals in array steps, and, when the ids are unique and the
keys fit, their candidates ranked in one sort of one integer per candidate (resample, fund, each key's
place among its values, the id's place in natural order). With all weights 1 it is
the computed allocation (tested against `pipeline.decide`). When the year allocates by calibrated totals,
each resample's scores are calibrated with the biases estimated from all reviewers.

A resample's outcome depends only on its weights, and a bootstrap over five reviewers draws at most 126
distinct multisets of them: each distinct row of weights is allocated once. With whole-number weights
and scores (the sums then exact in any order) the distinct rows' means are computed by themselves;
otherwise from the whole batch as one product, rows shared only where their sums are equal bit for bit.
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
    _natural_ranks,
    _sort_columns,
    _sort_key,
    rank_candidates,
    walk_grants,
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
    fund_slot: np.ndarray  # per application, its fund's position in params.funds (len(params.funds): none)
    one_sort: _OneSort | None  # how every resample's candidates are ranked in one sort (None: fund by fund)


@dataclass(frozen=True)
class _OneSort:
    """The tie-break keys before `id` (`keys`), for ranking the candidates of many resamples in one sort:
    each a key of the resample (`source` -1: the total, j >= 0: criterion j's mean) or of the application
    (`source`: its dense codes over all applications, `count` of them), with its direction; then `id`:
    each application's place in natural order (`id_code`; reversed when descending) and the application
    at each place (`by_code`). Ids are unique, so they leave no tie."""

    keys: tuple[tuple[int | np.ndarray, bool, int], ...]  # (source, descending, count)
    id_code: np.ndarray
    by_code: np.ndarray


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
    fund_slot = np.full(n_apps, len(params.funds), dtype=np.int64)
    for k, code in enumerate(params.funds):
        fund_slot[in_fund[code]] = k
    return Prepared(params, sums, counts, n_apps, fixed, eligible, in_fund, applicants,
                    apps["requested_kr"].to_numpy().astype(np.int64), spent, used, override_funded, tuple(sort_cols),
                    mean_columns, who, fund_slot, _one_sort(ids, fixed, params, mean_columns))


def _one_sort(ids: np.ndarray, fixed: dict[str, np.ndarray], params: Params,
              mean_columns: dict[str, int]) -> _OneSort | None:
    """The keys of `_ranked_all`; None when the candidates must be ranked fund by fund (`rank_candidates`,
    which tells a tie left or a key it lacks): no `id` key, a repeated id, or a key of the application
    that is not a plain integer."""
    cols, ascending = _sort_columns(params)
    texts = [str(i) for i in ids.tolist()]
    if "id" not in cols or not texts or len(set(texts)) < len(texts):
        return None
    head = cols.index("id")
    keys: list[tuple[int | np.ndarray, bool, int]] = []
    for c, asc in zip(cols[:head], ascending[:head], strict=True):
        if c == "total_score":
            keys.append((-1, not asc, 0))
        elif c in mean_columns:
            keys.append((mean_columns[c], not asc, 0))
        elif c in fixed and fixed[c].dtype.kind == "i" and int(fixed[c].min()) > np.iinfo(np.int64).min:
            uniques, codes = np.unique(fixed[c], return_inverse=True)
            keys.append((codes.reshape(-1).astype(np.int64), not asc, len(uniques)))
        else:
            return None
    n = len(texts)
    place = _natural_ranks(texts, np.arange(n))
    id_code = place if ascending[head] else n - 1 - place
    by_code = np.empty(n, dtype=np.int64)
    by_code[id_code] = np.arange(n)
    return _OneSort(tuple(keys), id_code, by_code)


def funded_under(prepared: Prepared, weights: np.ndarray) -> np.ndarray:
    """Funded (bool, resamples × applications) when reviewer r's scores count `weights[b, r]` times.

    Equal rows of `weights` (a bootstrap draws the same multiset of reviewers many times) give the
    same means, and so the same allocation: each is allocated once. The rows are taken `_BATCH` at a
    time: their means and totals in array steps, their candidates ranked in one sort (`_ranked_all`).
    """
    p = prepared
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if not len(w):
        return np.zeros((0, p.n_apps), dtype=bool)
    distinct, inverse = np.unique(w, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if _exact(p, distinct):
        # Every product and partial sum of the means' numerators and denominators is exact, so the
        # distinct rows alone, summed in any order, give the same numbers, bit for bit, as the whole batch.
        funded = [_funded_batch(p, _weighted(rows, p.sums), _weighted(rows, p.counts))
                  for rows in np.split(distinct, range(_BATCH, len(distinct), _BATCH))]
        which = inverse
    else:
        num, den = p.sums @ w.T, p.counts @ w.T  # (cells, resamples), the whole batch at once as ever
        first, which = _same_columns(num, den, inverse)
        funded = [_funded_batch(p, num[:, cols].T, den[:, cols].T)
                  for cols in np.split(first, range(_BATCH, len(first), _BATCH))]
    result: np.ndarray = np.concatenate(funded)[which]
    return result


def _weighted(rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """`rows @ x.T` (resamples × cells), row by row (a matrix-vector product each: the threads of a
    matrix product would spin for longer than it takes)."""
    out = np.empty((len(rows), len(x)))
    for k, row in enumerate(rows):
        np.dot(x, row, out=out[k])
    return out


_BATCH = 16  # resamples allocated together (their arrays stay small)


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


def _funded_batch(p: Prepared, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Funded (bool, resamples × applications) for some resamples' sums `num` and `den` (resamples × cells, one
    resample at least): each resample's means (applications × criteria) and totals are computed element by
    element as for one alone (`totals_from_means` on the rows one after another)."""
    g, n_crit = num.shape[0], len(p.params.criteria)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(den > 0, num / den, np.nan).reshape(g, p.n_apps, n_crit)
    totals = totals_from_means(means.reshape(g * p.n_apps, n_crit), p.params)[1].reshape(g, p.n_apps)
    ranked = _ranked_all(p, p.one_sort, means, totals) if p.one_sort is not None else None
    return np.stack([_funded(p, means[k], totals[k], None if ranked is None else ranked[k]) for k in range(g)])


def _ranked_all(p: Prepared, one: _OneSort, means: np.ndarray, totals: np.ndarray) -> list[list[np.ndarray]] | None:
    """Per resample (`means`: resamples × applications × criteria, `totals`) and fund, its candidates in
    rank order, as `rank_candidates` ranks them: every resample's keys, each coded by its distinct
    values' order, made one integer (resample, fund, the keys in order, the id's place) and sorted once.
    None when that does not fit in 63 bits."""
    g, n = totals.shape
    n_funds = len(p.params.funds)
    where = np.flatnonzero((p.eligible & (p.fund_slot < n_funds) & ~np.isnan(totals)).reshape(-1))
    app = where % n
    group = where // n * n_funds + p.fund_slot[app]  # resample, then fund
    key = group.copy()
    size = g * n_funds
    for source, descending, count in one.keys:
        if isinstance(source, np.ndarray):
            codes = source[app]
        else:
            values = (totals if source < 0 else means[:, :, source]).reshape(-1)[where]
            codes, uniques = pd.factorize(values, sort=True)  # equal values (0.0 and -0.0 too) share a code
            count = len(uniques)
        size *= max(count, 1)
        if size * n >= 2**63:
            return None
        key *= max(count, 1)
        key += count - 1 - codes if descending else codes
    key *= n
    key += one.id_code[app]
    key.sort()
    ranked = one.by_code[key % n]
    ends = np.cumsum(np.bincount(group, minlength=g * n_funds)).tolist()
    starts = [0, *ends[:-1]]
    return [[ranked[starts[k * n_funds + f]:ends[k * n_funds + f]] for f in range(n_funds)] for k in range(g)]


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


def _funded(p: Prepared, means: np.ndarray, totals: np.ndarray, ranked_at: list[np.ndarray] | None = None
            ) -> np.ndarray:
    """Funded (bool per application) by the lean allocation on these means and totals (each fund's
    candidates in rank order `ranked_at` when already known)."""
    params = p.params
    out = np.asarray(p.override_funded).copy()
    ranked = p.eligible & ~np.isnan(totals)
    if ranked_at is None:
        keys = dict(p.fixed_keys)
        for c in p.sort_cols:
            if c == "total_score":
                keys[c] = totals
            elif c in p.mean_columns:
                keys[c] = means[:, p.mean_columns[c]]
        ranked_at = [rank_candidates(keys, np.flatnonzero(p.in_fund[code] & ranked), params) for code in params.funds]
    who = p.who if int(ranked.sum()) >= _ARRAY_WALK_FROM else None  # a large call: in array steps, as `allocate`
    for (code, fund), at in zip(params.funds.items(), ranked_at, strict=True):
        got = walk_grants(fund, at, p.requested[at], fund.budget_kr - p.spent[code], p.used[code], p.applicants, who)
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
