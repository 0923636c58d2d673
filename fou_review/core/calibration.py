"""Reviewer calibration: each reviewer's additive bias against co-reviewers on the same applications.

API (for the workbook and the record):
- `estimate_biases(cube: ScoreCube) -> np.ndarray`: one bias per reviewer (grade points, summing to 0).
- `calibrated_scoring(apps, scores, conflicts, params, biases=None) -> pd.DataFrame`: `score_applications`'
  frame with `<criterion>_mean`, `<criterion>_counts` and `total_score` computed from calibrated
  scores (score − the reviewer's bias); medians and spreads stay raw. `pipeline.decide` uses it when
  the year's `allocation_scores` is `calibrated`.
- `calibrate(apps, eligibility, scores, conflicts, params, overrides=()) -> Calibration`: the biases with
  their uncertainty (`Calibration.reviewers`: `ReviewerBias`), raw and calibrated totals and ranks side by
  side (`Calibration.totals`, a DataFrame with `TOTALS_COLUMNS`), and the decisions that would change
  under calibration (`Calibration.changes`: `core.compare.Change`, raw → calibrated).

Method (`METHOD`): additive bias by least squares over the reviewer × application design, as in
revNorm (Roos, Rothe, Scheuermann 2011): score(r, a, c) = μ(a, c) + b(r) + ε, one effect per
application and criterion, one bias per reviewer common to all criteria (four times the data of a
bias per criterion, which with five reviewers is what makes it estimable), biases summing to zero.
Only applications a reviewer scored together with at least one other reviewer inform the biases;
conflicted reviewers' scores are left out, as in scoring. A reviewer's *spread* is the standard
deviation of their scores around the calibrated consensus (what is left after the bias). The
uncertainty of both: the least-squares standard error of the bias, and a seeded bootstrap over
applications (`params.robustness.bootstrap_resamples`, `seed`; interval at `confidence`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from fou_review.core.allocation import allocate
from fou_review.core.compare import Change, diff_tables
from fou_review.core.cube import ScoreCube, score_cube
from fou_review.core.model import Override
from fou_review.core.params import Params
from fou_review.core.scoring import TOTAL_DECIMALS, score_applications

METHOD = "additive_least_squares"  # its name in words is in the catalogues ("calibration.method")
TOTALS_COLUMNS = ("id", "fund", "total_raw", "total_calibrated", "rank_raw", "rank_calibrated",
                  "granted_raw_kr", "granted_calibrated_kr")


@dataclass(frozen=True)
class ReviewerBias:
    """One reviewer's calibration: bias and spread in grade points, with their uncertainty."""

    reviewer: str
    n_scores: int  # counted scores on applications shared with another reviewer
    bias: float  # mean difference to co-reviewers on the same applications (biases sum to 0)
    bias_se: float  # least-squares standard error (NaN when it cannot be estimated)
    bias_low: float  # bootstrap interval over applications
    bias_high: float
    spread: float  # standard deviation around the calibrated consensus
    spread_low: float
    spread_high: float


@dataclass(frozen=True)
class Calibration:
    """The year's reviewer calibration (see the module docstring)."""

    method: str
    reviewers: tuple[ReviewerBias, ...]
    biases: np.ndarray  # per reviewer of params.reviewers, in that order
    bias_sd: float  # how much the biases differ: their standard deviation across reviewers
    resamples: int
    seed: int
    confidence: float
    totals: pd.DataFrame  # TOTALS_COLUMNS, one row per application in the input's order
    changes: tuple[Change, ...]  # raw -> calibrated
    applied: bool  # does this year's allocation use the calibrated totals?


def _design(cube: ScoreCube) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts M and sums Y per cell (application × criterion) and reviewer, cells with at least 2 scores;
    and the cells' numbers of scores n."""
    _, _, n_rev = cube.shape
    m = cube.counts.reshape(-1, n_rev).astype(np.float64)
    y = cube.sums.reshape(-1, n_rev)
    n = m.sum(axis=1)
    shared = n >= 2
    return np.where(shared[:, None], m, 0.0), np.where(shared[:, None], y, 0.0), np.where(shared, n, 0.0)


def _normal_parts(m: np.ndarray, y: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the contributions to the reduced normal equations A b = g (application effects eliminated)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n[:, None] > 0, m / np.where(n > 0, n, 1.0)[:, None], 0.0)  # M / n
        mean = np.where(n > 0, y.sum(axis=1) / np.where(n > 0, n, 1.0), 0.0)
    a_cells = np.einsum("kr,rs->krs", m, np.eye(m.shape[1])) - np.einsum("kr,ks->krs", m, p)
    g_cells = y - m * mean[:, None]
    return a_cells, g_cells


class _Shared:
    """What one cube's estimates share, each part computed once, on first use: the design (`_design`),
    the normal equations' parts per cell (`_normal_parts`), each cell's share of its scores per reviewer
    and the spread's per-application sums (`_parts`)."""

    def __init__(self, cube: ScoreCube) -> None:
        self.cube = cube
        self.m, self.y, self.n = _design(cube)

    @cached_property
    def normal(self) -> tuple[np.ndarray, np.ndarray]:
        """`_normal_parts` of the design."""
        return _normal_parts(self.m, self.y, self.n)

    @cached_property
    def p(self) -> np.ndarray:
        """M / n: per cell, each reviewer's share of its scores."""
        return self.m / np.where(self.n > 0, self.n, 1.0)[:, None]

    @cached_property
    def spread(self) -> tuple[np.ndarray, np.ndarray]:
        """Each pattern's first cell (`_patterns`) and `_parts`."""
        pattern, first = _patterns(self.m, self.p)
        return first, _parts(self.cube, self.n, pattern, len(first))


def _bordered(a: np.ndarray) -> np.ndarray:
    """[[A, 1], [1ᵀ, 0]] (batched over leading axes): the normal equations with Σ b = 0."""
    r = a.shape[-1]
    out = np.zeros((*a.shape[:-2], r + 1, r + 1))
    out[..., :r, :r] = a
    out[..., :r, r] = 1.0
    out[..., r, :r] = 1.0
    return out


def _solve(a: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Biases (batched) and the bordered matrix's pseudo-inverse (its top-left block / σ² is Cov(b))."""
    inv = np.linalg.pinv(_bordered(a))
    rhs = np.concatenate([g, np.zeros((*g.shape[:-1], 1))], axis=-1)
    b = np.einsum("...ij,...j->...i", inv, rhs)[..., :-1]
    return b, inv


def estimate_biases(cube: ScoreCube, shared: _Shared | None = None) -> np.ndarray:
    """Each reviewer's additive bias (grade points; they sum to zero). A reviewer who shares no
    application with another gets 0. (`shared`: the cube's parts when already at hand.)"""
    a_cells, g_cells = (shared or _Shared(cube)).normal
    b, _ = _solve(a_cells.sum(axis=0), g_cells.sum(axis=0))
    return np.round(np.asarray(b, dtype=np.float64), 12) + 0.0  # no float noise, no -0.0


def _spread(cube: ScoreCube, b: np.ndarray, weights: np.ndarray | None = None,
            shared: _Shared | None = None) -> np.ndarray:
    """Per reviewer, the standard deviation of their scores around the calibrated consensus.

    `b` may be a batch (B, R), with `weights` (B, n_apps) the applications' multiplicities.

    A score's residual is its raw deviation from its cell's mean, d, plus c = (the mean bias of the
    cell's reviewers) − (its reviewer's bias); cells with the same reviewers (a *pattern*) share their mean
    bias. So a reviewer's weighted sum of squares is, pattern by pattern, Σ w d² + 2 c Σ w d + c² Σ w:
    three sums per application, reviewer and pattern (`_parts`), weighted by the resamples in one
    matrix product, whatever the number of scores. The weights' sums (Σ w, the degrees of freedom) are
    whole numbers when the weights are, and so exact.
    """
    shared = shared or _Shared(cube)
    m, p = shared.m, shared.p
    n_rev = cube.shape[2]
    first, parts = shared.spread  # parts: (n_apps, R × P × 3)
    n_pat = len(first)
    batch = np.atleast_2d(np.asarray(b, dtype=np.float64))
    if weights is None:
        sums = np.broadcast_to(parts.sum(axis=0), (len(batch), parts.shape[1]))
    else:
        sums = np.asarray(weights, dtype=np.float64) @ parts
    sums = sums.reshape(len(batch), n_rev, n_pat, 3)
    count, sum_d, sum_d2 = sums[..., 0], sums[..., 1], sums[..., 2]
    mean_bias = np.zeros((len(batch), n_pat))  # per pattern: Σ_r b_r m_r / n, term by term in a fixed order
    for r in range(n_rev):
        mean_bias += batch[:, r, None] * p[first, r]
    c = mean_bias[:, None, :] - batch[:, :, None]  # (B, R, P)
    rss = np.maximum((sum_d2 + 2.0 * c * sum_d + c * c * count).sum(axis=2), 0.0)  # a sum of squares
    pattern_n = m[first].sum(axis=1)
    dof = np.where(pattern_n > 0, 1.0 - 1.0 / np.where(pattern_n > 0, pattern_n, 1.0), 0.0)
    df = (count * dof).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(np.where(df > 0, rss / np.where(df > 0, df, 1.0), np.nan))
    return out[0] if np.ndim(b) == 1 else out


def _parts(cube: ScoreCube, n: np.ndarray, pattern: np.ndarray, n_pat: int) -> np.ndarray:
    """Per application (rows) and per reviewer, pattern and (1, d, d²) (columns): the sums over the scores in
    cells of at least two scores, d being a score's deviation from its cell's raw mean."""
    n_apps, n_crit, n_rev = cube.shape
    cell = cube.app * n_crit + cube.crit
    shared = n[cell] >= 2
    cell, rev, app, score = cell[shared], cube.rev[shared], cube.app[shared], cube.score[shared]
    y_cell = cube.sums.reshape(-1, n_rev).sum(axis=1)
    d = score - y_cell[cell] / n[cell]
    slot = (app * n_rev + rev) * n_pat + pattern[cell]
    size = n_apps * n_rev * n_pat
    out = np.empty((size, 3))
    out[:, 0] = np.bincount(slot, minlength=size)
    out[:, 1] = np.bincount(slot, weights=d, minlength=size)
    out[:, 2] = np.bincount(slot, weights=d * d, minlength=size)
    return out.reshape(n_apps, n_rev * n_pat * 3)


def _patterns(m: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cells with the same counts per reviewer `m` (so the same row of `p`, m / n): each cell's pattern,
    and each pattern's first cell."""
    if not m.size:
        return np.zeros(len(m), dtype=np.int64), np.zeros(min(len(m), 1), dtype=np.int64)
    top = float(m.max()) + 1.0
    if (m >= 0).all() and (m == np.floor(m)).all() and top ** m.shape[1] < 2.0**53:
        code = np.zeros(len(m))  # the counts as the digits of one whole number (exact)
        for column in m.T:
            code = code * top + column
        _, first, pattern = np.unique(code, return_index=True, return_inverse=True)
    else:
        _, first, pattern = np.unique(p.view(np.int64), axis=0, return_index=True, return_inverse=True)
    return pattern.reshape(-1).astype(np.int64), first.astype(np.int64)


def _bootstrap(cube: ScoreCube, params: Params, shared: _Shared | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Biases and spreads over `bootstrap_resamples` resamples of the applications (seeded)."""
    settings = params.robustness
    shared = shared or _Shared(cube)
    a_cells, g_cells = shared.normal
    n_apps, n_crit, n_rev = cube.shape
    a_apps = a_cells.reshape(n_apps, n_crit, n_rev, n_rev).sum(axis=1).reshape(n_apps, -1)
    g_apps = g_cells.reshape(n_apps, n_crit, n_rev).sum(axis=1)
    rng = np.random.default_rng(settings.seed)
    draws = rng.integers(0, n_apps, size=(settings.bootstrap_resamples, n_apps)) if n_apps else \
        np.zeros((settings.bootstrap_resamples, 0), dtype=np.int64)
    weights = np.empty((len(draws), n_apps))  # how many times each application is drawn, per resample
    for k, drawn in enumerate(draws):
        weights[k] = np.bincount(drawn, minlength=n_apps)
    b, _ = _solve((weights @ a_apps).reshape(-1, n_rev, n_rev), weights @ g_apps)
    b = np.round(b, 12) + 0.0
    return b, _spread(cube, b, weights, shared)


def _standard_errors(cube: ScoreCube, b: np.ndarray, shared: _Shared | None = None) -> np.ndarray:
    shared = shared or _Shared(cube)
    m, n, p = shared.m, shared.n, shared.p
    a_cells, _ = shared.normal
    _, inv = _solve(a_cells.sum(axis=0), np.zeros(len(b)))
    _, n_crit, n_rev = cube.shape
    cell = cube.app * n_crit + cube.crit
    counted = n[cell] >= 2
    cells_used = int((n >= 2).sum())
    active = int((m.sum(axis=0) > 0).sum())
    dof = int(counted.sum()) - cells_used - max(active - 1, 0)
    if dof <= 0:
        return np.full(n_rev, np.nan)
    y_cell = cube.sums.reshape(-1, n_rev).sum(axis=1)
    c, r = cell[counted], cube.rev[counted]
    e = cube.score[counted] - y_cell[c] / n[c] - b[r] + (p @ b)[c]
    sigma2 = float((e ** 2).sum()) / dof
    variance = np.clip(np.diag(inv)[:n_rev] * sigma2, 0.0, None)
    return np.where(m.sum(axis=0) > 0, np.sqrt(variance), np.nan)


def calibrated_means(cube: ScoreCube, raw_means: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """Per application and criterion, the mean of the calibrated scores (score − reviewer's bias)."""
    counts = cube.counts.astype(np.float64)
    n = counts.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = (counts @ biases) / n
    return np.asarray(raw_means - shift, dtype=np.float64)


def totals_from_means(means: np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Whether each criterion counts, and the weighted total, from means (applications × criteria;
    NaN = no score): the rule of `core.scoring`, on any means. Totals rounded as there."""
    criteria = params.criteria
    n_apps = means.shape[0]
    counts = np.ones(means.shape, dtype=bool)
    index = {c.code: j for j, c in enumerate(criteria)}
    for j, c in enumerate(criteria):
        if c.requires_any:
            ok = np.zeros(n_apps, dtype=bool)
            for other, threshold in c.requires_any:
                ok |= np.greater_equal(means[:, index[other]], threshold)  # NaN (no score) never reaches it
            counts[:, j] = ok
    if len(criteria) < 8:  # a few: added column by column from 0.0, the order `sum` adds fewer than 8 in
        total = np.zeros(n_apps)
        missing = np.zeros(n_apps, dtype=bool)
        for j, c in enumerate(criteria):
            total += np.where(counts[:, j], means[:, j] * float(c.weight), 0.0)
            missing |= np.isnan(means[:, j])
    else:
        weights = np.array([c.weight for c in criteria], dtype=np.float64)
        total = np.where(counts, means * weights, 0.0).sum(axis=1)
        missing = np.isnan(means).any(axis=1)
    total[missing] = np.nan
    return counts, np.round(total, TOTAL_DECIMALS)


def calibrated_scoring(apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame, params: Params,
                       biases: np.ndarray | None = None, raw: pd.DataFrame | None = None,
                       cube: ScoreCube | None = None) -> pd.DataFrame:
    """`score_applications` with the means, the conditional criteria and the totals of calibrated scores.

    `biases` (per reviewer of `params.reviewers`) default to `estimate_biases` of these scores; `raw`
    is `score_applications` of the same inputs and `cube` their `score_cube` when already at hand.
    """
    raw = score_applications(apps, scores, conflicts, params) if raw is None else raw
    cube = score_cube(apps, scores, conflicts, params) if cube is None else cube
    b = estimate_biases(cube) if biases is None else np.asarray(biases, dtype=np.float64)
    codes = params.criterion_codes()
    raw_means = np.column_stack([raw[f"{c}_mean"].to_numpy(dtype=np.float64) for c in codes]) if codes \
        else np.zeros((len(apps), 0))
    means = calibrated_means(cube, raw_means, b)
    counts, total = totals_from_means(means, params)
    out = raw.copy()
    for j, c in enumerate(codes):
        out[f"{c}_mean"] = means[:, j]
        out[f"{c}_counts"] = counts[:, j]
    out["total_score"] = total
    return out


def _ranks(table_rank: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Ranks as nullable integers (<NA> where not ranked; held as 1 there, as `pd.array` of a list holds it)."""
    rank = np.asarray(table_rank, dtype=np.int64)
    return pd.arrays.IntegerArray(np.where(rank > 0, rank, 1), rank <= 0)


def calibrate(apps: pd.DataFrame, eligibility: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
              params: Params, overrides: Sequence[Override] = ()) -> Calibration:
    """The reviewers' biases and spreads with their uncertainty, raw against calibrated totals, and the
    decisions that calibration would change (see the module docstring)."""
    cube = score_cube(apps, scores, conflicts, params)
    shared = _Shared(cube)
    b = estimate_biases(cube, shared)
    se = _standard_errors(cube, b, shared)
    spread = _spread(cube, b, None, shared)
    boot_b, boot_s = _bootstrap(cube, params, shared)
    settings = params.robustness
    tail = (1.0 - settings.confidence) / 2 * 100
    with np.errstate(invalid="ignore"):
        b_low, b_high = np.nanpercentile(boot_b, [tail, 100 - tail], axis=0) if len(boot_b) else (b, b)
        s_low, s_high = np.nanpercentile(boot_s, [tail, 100 - tail], axis=0) if len(boot_s) else (spread, spread)
    shared_scores = shared.m.sum(axis=0).astype(np.int64)
    reviewers = tuple(ReviewerBias(name, int(shared_scores[r]), float(b[r]), float(se[r]), float(b_low[r]),
                                   float(b_high[r]), float(spread[r]), float(s_low[r]), float(s_high[r]))
                      for r, name in enumerate(params.reviewers))
    raw = score_applications(apps, scores, conflicts, params)
    cal = calibrated_scoring(apps, scores, conflicts, params, b, raw, cube)
    before = allocate(apps, eligibility, raw, params, overrides).table
    after = allocate(apps, eligibility, cal, params, overrides).table
    totals = pd.DataFrame({
        "id": apps["id"].to_numpy(dtype=object), "fund": apps["fund"].to_numpy(dtype=object),
        "total_raw": raw["total_score"].to_numpy(dtype=np.float64),
        "total_calibrated": cal["total_score"].to_numpy(dtype=np.float64),
        "rank_raw": _ranks(before.rank), "rank_calibrated": _ranks(after.rank),
        "granted_raw_kr": before.granted_kr.astype(np.int64),
        "granted_calibrated_kr": after.granted_kr.astype(np.int64),
    })
    return Calibration(METHOD, reviewers, b, float(np.std(b)) if len(b) else 0.0, settings.bootstrap_resamples,
                       settings.seed, settings.confidence, totals, diff_tables(before, after, list(params.funds)),
                       params.allocation_scores == "calibrated")
