"""The fast paths of the reviewer analysis give the plain formulas' numbers bit for bit.

- `robustness.funded_under` allocates each distinct row of weights once (a bootstrap over five
  reviewers draws at most 126 multisets) and walks large funds in array steps: the same funded sets as
  allocating every row of the whole batch one by one, with whole-number weights (exact sums) and with
  weights or calibrated sums that are not (then rows are shared only where their sums are equal).
- `calibration._spread` sums a reviewer's squared residuals pattern by pattern as Σ w d² + 2 c Σ w d + c² Σ w
  (three sums per application, weighted by every resample in one product): the plain formula's numbers
  to within rounding (12 significant digits), its degrees of freedom exactly, the same bytes every time,
  and never a negative sum of squares.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from fou_review.core import calibration
from fou_review.core.allocation import _greedy, _sort_columns, rank_candidates
from fou_review.core.calibration import totals_from_means
from fou_review.core.cube import ScoreCube, score_cube
from fou_review.core.eligibility import check_eligibility
from fou_review.core.params import Params
from fou_review.core.robustness import Prepared, funded_under, prepare


def _call(n: int, seed: int) -> tuple[Params, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from bench.bench_core import synthetic_call

    params, apps, scores, conflicts = synthetic_call(n, seed=seed)
    return params, apps, scores.astype({"reviewer": object, "application_id": object, "criterion": object}), conflicts


def _funded_plain(p: Prepared, weights: np.ndarray) -> np.ndarray:
    """Every row of the batch allocated by itself, with the one-by-one walk."""
    params = p.params
    w = np.atleast_2d(weights)
    n_crit = len(params.criteria)
    with np.errstate(invalid="ignore", divide="ignore"):
        num, den = p.sums @ w.T, p.counts @ w.T
        means = np.where(den > 0, num / den, np.nan)
    means = means.T.reshape(len(w), p.n_apps, n_crit)
    totals = totals_from_means(means.reshape(-1, n_crit), params)[1].reshape(len(w), p.n_apps)
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
        for code, fund in params.funds.items():
            at = rank_candidates(keys, np.flatnonzero(p.in_fund[code] & p.eligible & ~np.isnan(totals[b])), params)
            got, _, _, _ = _greedy(fund, p.applicants[at].tolist(), p.requested[at], fund.budget_kr - p.spent[code],
                                   dict(p.used[code]))
            out[b, at] = np.asarray(got, dtype=np.int64) > 0
    return out


def _bootstrap_weights(rng: np.random.Generator, resamples: int, n_rev: int) -> np.ndarray:
    draws = rng.integers(0, n_rev, size=(resamples, n_rev))
    weights = np.zeros((resamples, n_rev))
    np.add.at(weights, (np.repeat(np.arange(resamples), n_rev), draws.ravel()), 1.0)
    return weights


def test_funded_under_allocates_each_distinct_row_once_with_the_same_result() -> None:
    for seed, n in ((0, 300), (1, 2_600)):  # 2 600: the array walk of large funds
        params, apps, scores, conflicts = _call(n, seed)
        for scored in ("raw", "calibrated"):  # calibrated: the sums are not whole numbers
            year = dataclasses.replace(params, allocation_scores=scored)
            prepared = prepare(apps, check_eligibility(apps, year), scores, conflicts, year)
            rng = np.random.default_rng(seed)
            weights = np.vstack([np.ones(5), 1 - np.eye(5), _bootstrap_weights(rng, 150, 5)])
            assert len(np.unique(weights, axis=0)) < len(weights)
            assert (funded_under(prepared, weights) == _funded_plain(prepared, weights)).all()
        halves = np.vstack([weights[:20], weights[:20] / 2])  # not whole numbers
        assert (funded_under(prepared, halves) == _funded_plain(prepared, halves)).all()


def _spread_plain(cube: ScoreCube, b: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The spread as a formula over all scores at once (64 resamples at a time)."""
    m, _, n = calibration._design(cube)
    _, n_crit, n_rev = cube.shape
    cell = cube.app * n_crit + cube.crit
    shared = n[cell] >= 2
    cell, rev, app, score = cell[shared], cube.rev[shared], cube.app[shared], cube.score[shared]
    y_cell = cube.sums.reshape(-1, n_rev).sum(axis=1)
    d = score - y_cell[cell] / n[cell]
    dof = 1.0 - 1.0 / n[cell]
    p = m / np.where(n > 0, n, 1.0)[:, None]
    batch = np.atleast_2d(b)
    w = np.ones((len(batch), int(cube.sums.shape[0]))) if weights is None else weights
    out = np.empty_like(batch)
    for start in range(0, len(batch), 64):
        bb, ww = batch[start:start + 64], w[start:start + 64]
        mean_bias = bb @ p.T
        e = d[None, :] - bb[:, rev] + mean_bias[:, cell]
        wa = ww[:, app]
        for r in range(n_rev):
            mine = rev == r
            rss = (wa[:, mine] * e[:, mine] ** 2).sum(axis=1)
            df = (wa[:, mine] * dof[mine]).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[start:start + 64, r] = np.sqrt(np.where(df > 0, rss / df, np.nan))
    return out[0] if np.ndim(b) == 1 else out


def _same(actual: np.ndarray, expected: np.ndarray) -> None:
    """The plain formula's spreads to within rounding, NaN where it has NaN."""
    assert actual.shape == expected.shape
    assert (np.isnan(actual) == np.isnan(expected)).all()
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


def test_spread_is_the_plain_formula() -> None:
    params, apps, scores, conflicts = _call(400, 3)
    scores = scores[~((scores["reviewer"] == "r5") & (scores["application_id"].str.endswith("7")))]
    cube = score_cube(apps, scores, conflicts, params)
    b = calibration.estimate_biases(cube)
    _same(calibration._spread(cube, b), _spread_plain(cube, b))
    rng = np.random.default_rng(3)
    n_apps = len(apps)
    for resamples in (1, 2, 64, 65, 130, 257, 300):
        batch = rng.normal(0.0, 0.3, size=(resamples, 5))
        weights = np.zeros((resamples, n_apps))
        np.add.at(weights, (np.repeat(np.arange(resamples), n_apps), rng.integers(0, n_apps, resamples * n_apps)),
                  1.0)
        got = calibration._spread(cube, batch, weights)
        _same(got, _spread_plain(cube, batch, weights))
        assert got.tobytes() == calibration._spread(cube, batch, weights).tobytes()  # the same bytes every time


def test_spread_with_a_reviewer_who_shares_nothing() -> None:
    params, apps, scores, conflicts = _call(120, 4)
    r2, own = scores["reviewer"] == "r2", scores["application_id"].isin(apps["id"][:30])
    scores = scores[(r2 & own) | (~r2 & ~own)]  # r2 alone on 30 applications, and only there
    cube = score_cube(apps, scores, conflicts, params)
    assert np.isnan(calibration._spread(cube, np.zeros(5))[1])
    batch = np.random.default_rng(4).normal(0.0, 0.3, size=(3, 5))
    weights = np.random.default_rng(5).integers(0, 3, size=(3, len(apps))).astype(np.float64)
    _same(calibration._spread(cube, batch, weights), _spread_plain(cube, batch, weights))


def test_spread_of_a_reviewer_fully_explained_by_their_bias_is_zero() -> None:
    # r1 always scores r0's grade + 1/3: once the biases are taken off, no residual is left, and the
    # expanded sum of squares (which may round below zero) is 0, not NaN
    rng = np.random.default_rng(7)
    n_apps = 50
    grades = rng.integers(1, 6, size=n_apps).astype(np.float64)
    app = np.repeat(np.arange(n_apps), 2)
    rev = np.tile([0, 1], n_apps)
    score = np.column_stack([grades, grades + 1 / 3]).ravel()
    flat = app * 2 + rev
    sums = np.bincount(flat, weights=score, minlength=2 * n_apps).reshape(n_apps, 1, 2)
    counts = np.bincount(flat, minlength=2 * n_apps).astype(np.int64).reshape(n_apps, 1, 2)
    cube = ScoreCube(("r0", "r1"), ("c0",), sums, counts, app, np.zeros(len(app), dtype=np.int64), rev, score)
    b = calibration.estimate_biases(cube)
    np.testing.assert_allclose(b, [-1 / 6, 1 / 6], atol=1e-12)
    batch = np.vstack([b, b + 1e-9, [-1 / 6, 1 / 6]])
    weights = np.vstack([np.ones(n_apps), rng.integers(0, 4, size=n_apps), np.full(n_apps, 3.0)])
    got = calibration._spread(cube, batch, weights)
    assert not np.isnan(got).any()
    assert (got >= 0).all() and (got <= 1e-6).all()


def test_bootstrap_counts_the_draws_as_before() -> None:
    params, apps, scores, conflicts = _call(200, 6)
    cube = score_cube(apps, scores, conflicts, params)
    b, spread = calibration._bootstrap(cube, params)
    n_apps = len(apps)
    settings = params.robustness
    draws = np.random.default_rng(settings.seed).integers(0, n_apps, size=(settings.bootstrap_resamples, n_apps))
    weights = np.zeros((len(draws), n_apps))
    np.add.at(weights, (np.repeat(np.arange(len(draws)), n_apps), draws.ravel()), 1.0)
    m, y, n = calibration._design(cube)
    a_cells, g_cells = calibration._normal_parts(m, y, n)
    a_apps = a_cells.reshape(n_apps, 4, 5, 5).sum(axis=1).reshape(n_apps, -1)
    g_apps = g_cells.reshape(n_apps, 4, 5).sum(axis=1)
    expected, _ = calibration._solve((weights @ a_apps).reshape(-1, 5, 5), weights @ g_apps)
    expected = np.round(expected, 12) + 0.0
    assert expected.tobytes() == b.tobytes()
    _same(spread, _spread_plain(cube, expected, weights))


def _random_cube(n_apps: int, n_crit: int, n_rev: int, seed: int) -> ScoreCube:
    """Scores of `n_rev` reviewers on most cells, in a shuffled order (whole and tenth grades)."""
    rng = np.random.default_rng(seed)
    app, crit, rev = np.nonzero(rng.random((n_apps, n_crit, n_rev)) < 0.8)
    order = rng.permutation(len(app))
    app, crit, rev = app[order], crit[order], rev[order]
    score = np.where(rng.random(len(app)) < 0.7, rng.integers(1, 6, len(app)), np.round(rng.uniform(0, 5, len(app)), 1))
    flat = (app * n_crit + crit) * n_rev + rev
    size = n_apps * n_crit * n_rev
    sums = np.bincount(flat, weights=score, minlength=size).reshape(n_apps, n_crit, n_rev)
    counts = np.bincount(flat, minlength=size).astype(np.int64).reshape(n_apps, n_crit, n_rev)
    return ScoreCube(tuple(f"r{r}" for r in range(n_rev)), tuple(f"c{c}" for c in range(n_crit)), sums, counts,
                     app, crit, rev, score.astype(np.float64))


def test_spread_with_odd_sizes_is_the_plain_formula() -> None:
    # shuffled scores, whole and tenth grades, some cells with fewer reviewers, 4 to 7 reviewers
    for seed, (n_apps, n_crit, n_rev) in enumerate(((1037, 1, 5), (1111, 1, 4), (250, 3, 7))):
        cube = _random_cube(n_apps, n_crit, n_rev, seed)
        rng = np.random.default_rng(seed)
        for resamples in (1, 65, 300):
            batch = np.round(rng.normal(0.0, 0.4, size=(resamples, n_rev)), 12) + 0.0
            weights = np.zeros((resamples, n_apps))
            for k, drawn in enumerate(rng.integers(0, n_apps, size=(resamples, n_apps))):
                weights[k] = np.bincount(drawn, minlength=n_apps)
            _same(calibration._spread(cube, batch, weights), _spread_plain(cube, batch, weights))


def _renamed(apps: pd.DataFrame, scores: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ids of several patterns, some equal in natural order ("Y-07", "Y-7"), in no order by row."""
    rng = np.random.default_rng(seed)
    prefixes, widths = rng.choice(["X-", "Y-", "x", "Z-10-"], len(apps)), rng.integers(1, 5, len(apps))
    numbers = rng.permutation(len(apps)) // 2  # each number twice: the prefix or the zeros tell them apart
    names: dict[str, str] = {}
    for old, p, w, k in zip(apps["id"], prefixes, widths, numbers, strict=True):
        name = f"{p}{k:0{w}d}"
        names[old] = name if name not in names.values() else f"{name}b"
    return apps.assign(id=apps["id"].map(names)), scores.assign(application_id=scores["application_id"].map(names))


def test_ranked_all_ranks_each_resample_as_rank_candidates() -> None:
    from fou_review.core.params import TieBreakKey
    from fou_review.core.robustness import _ranked_all

    params, apps, scores, conflicts = _call(900, 8)
    apps, scores = _renamed(apps, scores, 8)
    orders = (["total_score desc", "criterion:strategisk desc", "received asc", "id asc"],
              ["total_score desc", "id desc"],
              ["received desc", "total_score asc", "requested_kr desc", "id asc"],
              ["criterion:forebyggande asc", "total_score desc", "id asc", "received asc"])
    rng = np.random.default_rng(8)
    for order in orders:
        year = dataclasses.replace(params, tie_break=tuple(TieBreakKey(k.split()[0], k.split()[1] == "desc")
                                                             for k in order))
        p = prepare(apps, check_eligibility(apps, year), scores, conflicts, year)
        assert p.one_sort is not None
        g, n_crit = 6, len(year.criteria)
        means = rng.integers(1, 8, size=(g, p.n_apps, n_crit)) / rng.integers(1, 4, size=(g, p.n_apps, n_crit))
        means[rng.random(means.shape) < 0.02] = np.nan
        means[..., 0][rng.random((g, p.n_apps)) < 0.1] = 0.0
        means[..., 0][rng.random((g, p.n_apps)) < 0.1] = -0.0  # equal to 0.0 as a key
        totals = totals_from_means(means.reshape(-1, n_crit), year)[1].reshape(g, p.n_apps)
        ranked = _ranked_all(p, p.one_sort, means, totals)
        assert ranked is not None
        for k in range(g):
            keys = dict(p.fixed_keys)
            keys["total_score"] = totals[k]
            for c, j in p.mean_columns.items():
                keys[c] = means[k, :, j]
            for f, code in enumerate(year.funds):
                candidates = np.flatnonzero(p.in_fund[code] & p.eligible & ~np.isnan(totals[k]))
                assert ranked[k][f].tolist() == rank_candidates(keys, candidates, year).tolist()
    year = dataclasses.replace(params, tie_break=(TieBreakKey("total_score", True),))
    assert prepare(apps, check_eligibility(apps, year), scores, conflicts, year).one_sort is None  # ties: an error


def _totals_plain(means: np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """`totals_from_means` as first written: whole-array steps, `sum` across the criteria."""
    index = {c.code: j for j, c in enumerate(params.criteria)}
    counts = np.ones(means.shape, dtype=bool)
    for j, c in enumerate(params.criteria):
        if c.requires_any:
            ok = np.zeros(means.shape[0], dtype=bool)
            for other, threshold in c.requires_any:
                ok |= np.nan_to_num(means[:, index[other]], nan=-np.inf) >= threshold
            counts[:, j] = ok
    weights = np.array([c.weight for c in params.criteria], dtype=np.float64)
    total = np.where(counts, means * weights, 0.0).sum(axis=1)
    total[np.isnan(means).any(axis=1)] = np.nan
    return counts, np.round(total, calibration.TOTAL_DECIMALS)


def test_totals_from_means_are_the_plain_sums_bit_for_bit() -> None:
    params, _, _, _ = _call(10, 9)
    rng = np.random.default_rng(9)
    for _ in range(10):
        means = rng.normal(0.0, 3.0, size=(5_000, len(params.criteria))) * rng.choice([1.0, 1e-9, 1e6], (5_000, 4))
        for value, share in ((np.nan, 0.05), (0.0, 0.05), (-0.0, 0.05), (4.0, 0.05)):
            means[rng.random(means.shape) < share] = value
        counts, total = totals_from_means(means, params)
        plain_counts, plain_total = _totals_plain(means, params)
        assert (counts == plain_counts).all() and total.tobytes() == plain_total.tobytes()
