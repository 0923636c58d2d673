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

import itertools
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from fou_review.core.allocation import allocate
from fou_review.core.compare import Change, diff_tables
from fou_review.core.cube import ScoreCube, score_cube
from fou_review.core.model import Override
from fou_review.core.params import Params
from fou_review.core.scoring import TOTAL_DECIMALS, score_applications

METHOD = "additive_least_squares"  # its name in words is in the catalogues ("calibration.method")
_T = TypeVar("_T")
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


def estimate_biases(cube: ScoreCube) -> np.ndarray:
    """Each reviewer's additive bias (grade points; they sum to zero). A reviewer who shares no
    application with another gets 0."""
    m, y, n = _design(cube)
    a_cells, g_cells = _normal_parts(m, y, n)
    b, _ = _solve(a_cells.sum(axis=0), g_cells.sum(axis=0))
    return np.round(np.asarray(b, dtype=np.float64), 12) + 0.0  # no float noise, no -0.0


_BLOCK = 64  # resamples whose mean biases are one matrix product (the product's shape is part of its result)
_SPAN = 4 * _BLOCK  # resamples whose spreads are computed at once (keeps memory small)
_ROWS = 512  # scores at a time in `_reviewer_spread` (a few blocks of this many rows stay in the cache)
_THREADED_FROM = 2_000_000  # scores × resamples from which the reviewers' spans run in threads


def _spread(cube: ScoreCube, b: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Per reviewer, the standard deviation of their scores around the calibrated consensus.

    `b` may be a batch (B, R), with `weights` (B, n_apps) the applications' multiplicities.

    One matrix product per `_BLOCK` resamples gives the mean bias of every cell's reviewers (this thread
    makes every product, so its rounding is always the same). A score's squared residual depends only on
    its raw deviation from the cell's mean and on its cell's mean bias, which cells with the same reviewers
    share: it is computed once per distinct pair (`_scores`, `_mean_biases`). Each reviewer's sums over a
    span of resamples are a task (`_reviewer_spread`), in threads for large inputs (numpy lets go of the
    interpreter while it computes).
    """
    m, _, n = _design(cube)
    _, n_crit, n_rev = cube.shape
    cell = cube.app * n_crit + cube.crit
    shared = n[cell] >= 2
    cell, rev, app, score = cell[shared], cube.rev[shared], cube.app[shared], cube.score[shared]
    y_cell = cube.sums.reshape(-1, n_rev).sum(axis=1)
    d = score - y_cell[cell] / n[cell]  # the score against the cell's raw mean
    dof = 1.0 - 1.0 / n[cell]
    p = m / np.where(n > 0, n, 1.0)[:, None]
    # The scores grouped by reviewer, in their order within a reviewer: a reviewer's scores are a slice.
    by_rev = np.argsort(rev, kind="stable")
    cell, app, d, dof = cell[by_rev], app[by_rev], d[by_rev], dof[by_rev]
    bounds = list(itertools.pairwise(np.searchsorted(rev[by_rev], np.arange(n_rev + 1)).tolist()))
    pattern, first = _patterns(m, p)
    scores = _scores(cell, app, d, dof, pattern)
    batch = np.atleast_2d(b)
    w = np.ones((len(batch), int(cube.sums.shape[0]))) if weights is None else weights
    out = np.empty_like(batch)
    threads = _threads(len(d) * len(batch))
    pool = ThreadPoolExecutor(threads, thread_name_prefix="fou-review-spread") if threads > 1 else _Inline()
    with pool:
        waiting: deque[tuple[int, int, list[Future[np.ndarray]]]] = deque()
        for start, stop, table, group in _spans(batch, p, pattern, first):
            w_apps = np.ascontiguousarray(w[start:stop].T)
            waiting.append((start, stop, [pool.submit(_reviewer_spread, batch[start:stop, r], table, group, w_apps,
                                                      scores, lo, hi) for r, (lo, hi) in enumerate(bounds)]))
            while waiting and (len(waiting) > threads or stop == len(batch)):  # a few spans at a time in memory
                at, to, tasks = waiting.popleft()
                for r, task in enumerate(tasks):
                    out[at:to, r] = task.result()
    return out[0] if np.ndim(b) == 1 else out


def _spans(batch: np.ndarray, p: np.ndarray, pattern: np.ndarray,
           first: np.ndarray) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """The resamples `_spread` takes at once (start, stop), with their mean biases by group of cells and
    each cell's group (`_mean_biases`): consecutive blocks whose cells are grouped alike, up to `_SPAN`
    resamples; a last block of one resample stays alone (it was always summed pairwise, as numpy sums a
    single row).

    Every product is made first, one after the other (the tables are small): the matrix library's own
    threads then wait for work while the sums run, not between them.
    """
    n = len(batch)
    product = np.empty((min(n, _BLOCK), len(p)))  # reused: a new array per block costs more than the product
    spans: list[tuple[int, int, list[np.ndarray], np.ndarray]] = []
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        table, group = _mean_biases(np.matmul(batch[start:stop], p.T, out=product[:stop - start]), pattern, first)
        last = spans[-1] if spans else None
        if last is not None and stop - last[0] <= _SPAN and stop - start > 1 and (
                last[3] is group or np.array_equal(last[3], group)):
            spans[-1] = (last[0], stop, [*last[2], table], last[3])
        else:
            spans.append((start, stop, [table], group))
    return [(start, stop, np.concatenate(tables, axis=1), group) for start, stop, tables, group in spans]


def _threads(work: int) -> int:
    """How many threads `_spread` uses for `work` (scores × resamples): one for small inputs."""
    if work < _THREADED_FROM:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, 4))


class _Inline(Executor):
    """An executor that runs each task at once, in this thread (small inputs)."""

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """`fn(*args, **kwargs)`, done."""
        done: Future[_T] = Future()
        done.set_result(fn(*args, **kwargs))
        return done


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


def _mean_biases(product: np.ndarray, pattern: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A block's mean biases `product` (resamples × cells) as a table with a row per group of cells whose
    columns are equal bit for bit, and each cell's group.

    A group is a pattern of reviewers (its first cell's column); a cell whose column differs from its
    pattern's anywhere (the product's rounding may depend on where a cell is) is a group of its own. The
    commonest pattern's column is compared with every column as it is (no copy of the product), the other
    patterns' cells (few) with their own.
    """
    bits = product.view(np.int64)
    if len(first) and bits.shape[1]:
        main = int(np.argmax(np.bincount(pattern, minlength=len(first))))
        differs = (bits != bits[:, first[main], None]).any(axis=0)
        others = np.flatnonzero(pattern != main)
        if len(others):
            differs[others] = (bits[:, others] != bits[:, first[pattern[others]]]).any(axis=0)
        odd = np.flatnonzero(differs)
    else:
        odd = np.zeros(0, dtype=np.int64)
    if not len(odd):
        return np.ascontiguousarray(product[:, first].T), pattern
    group = pattern.copy()
    group[odd] = len(first) + np.arange(len(odd))
    return np.ascontiguousarray(product[:, np.concatenate([first, odd])].T), group


@dataclass(frozen=True)
class _Scores:
    """`_spread`'s scores, reviewer by reviewer, and their keys: the distinct pairs of raw deviation (bit
    for bit) and pattern of the cell's reviewers."""

    cell: np.ndarray
    app: np.ndarray
    d: np.ndarray  # raw deviation from the cell's mean
    dof: np.ndarray  # degrees of freedom (1 − 1/n)
    pattern: np.ndarray  # the cell's pattern
    key: np.ndarray  # the score's pair
    key_d: np.ndarray  # per pair, the raw deviation
    key_pattern: np.ndarray  # per pair, the pattern

    def keys(self, lo: int, hi: int, group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The keys of scores `lo:hi`, and each key's raw deviation and group, when the cells' groups are
        `group` (the patterns, and a group of its own for each cell whose mean bias differs from its pattern's)."""
        key = self.key[lo:hi]
        own = np.flatnonzero(group[self.cell[lo:hi]] != self.pattern[lo:hi])
        if not len(own):
            return key, self.key_d, self.key_pattern
        key = key.copy()
        key[own] = len(self.key_d) + np.arange(len(own))
        own += lo
        return key, np.concatenate([self.key_d, self.d[own]]), np.concatenate([self.key_pattern, group[self.cell[own]]])


def _scores(cell: np.ndarray, app: np.ndarray, d: np.ndarray, dof: np.ndarray, pattern: np.ndarray) -> _Scores:
    """The scores with their keys; `pattern` is each cell's."""
    _, d_code = np.unique(d.view(np.int64), return_inverse=True)
    mine = pattern[cell]
    _, first, key = np.unique(d_code.reshape(-1) * (len(pattern) + 1) + mine, return_index=True, return_inverse=True)
    return _Scores(cell, app, d, dof, mine, key.reshape(-1), d[first], mine[first])


def _reviewer_spread(bb: np.ndarray, table: np.ndarray, group: np.ndarray, w_apps: np.ndarray, scores: _Scores,
                     lo: int, hi: int) -> np.ndarray:
    """One reviewer's spread over a block of resamples: their biases `bb` (B), the mean biases of the
    groups of cells `table` (groups, B) and each cell's `group`, the applications' weights (applications, B);
    their scores are `scores[lo:hi]`.

    Scores run down the rows, resamples along them: each resample's sums add their terms one after
    the other in the scores' order (a resample alone: numpy's pairwise sum), as they always have. The
    scores are taken `_ROWS` at a time, each part's sums continuing from the running sums (row 0).
    A score's term is (its raw deviation − the reviewer's bias + its cell's mean bias)², computed once
    per key, times the weight of its application.
    """
    n_b, n = len(bb), hi - lo
    key, key_d, key_group = scores.keys(lo, hi, group)
    app, dof = scores.app[lo:hi], scores.dof[lo:hi]
    squares = np.subtract(key_d[:, None], bb)
    squares += table[key_group]
    squares *= squares
    step = _ROWS if n_b > 1 else max(n, 1)  # one resample: the pairwise sum over all its terms at once
    e = np.empty((step + 1, n_b))
    wa = np.empty((step + 1, n_b))
    rss, df = np.zeros(n_b), np.zeros(n_b)
    for at in range(0, n, step):
        to = min(at + step, n)
        k = to - at
        ek, wk = e[1:k + 1], wa[1:k + 1]
        np.take(squares, key[at:to], axis=0, out=ek, mode="clip")
        np.take(w_apps, app[at:to], axis=0, out=wk, mode="clip")
        ek *= wk
        wk *= dof[at:to, None]
        e[0], wa[0] = rss, df
        rss = e[1:k + 1].sum(axis=0) if at == 0 else e[:k + 1].sum(axis=0)
        df = wa[1:k + 1].sum(axis=0) if at == 0 else wa[:k + 1].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.sqrt(np.where(df > 0, rss / df, np.nan)))


def _bootstrap(cube: ScoreCube, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Biases and spreads over `bootstrap_resamples` resamples of the applications (seeded)."""
    settings = params.robustness
    m, y, n = _design(cube)
    a_cells, g_cells = _normal_parts(m, y, n)
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
    return b, _spread(cube, b, weights)


def _standard_errors(cube: ScoreCube, b: np.ndarray) -> np.ndarray:
    m, y, n = _design(cube)
    a_cells, _ = _normal_parts(m, y, n)
    _, inv = _solve(a_cells.sum(axis=0), np.zeros(len(b)))
    _, n_crit, n_rev = cube.shape
    cell = cube.app * n_crit + cube.crit
    shared = n[cell] >= 2
    cells_used = int((n >= 2).sum())
    active = int((m.sum(axis=0) > 0).sum())
    dof = int(shared.sum()) - cells_used - max(active - 1, 0)
    if dof <= 0:
        return np.full(n_rev, np.nan)
    p = m / np.where(n > 0, n, 1.0)[:, None]
    y_cell = cube.sums.reshape(-1, n_rev).sum(axis=1)
    c, r = cell[shared], cube.rev[shared]
    e = cube.score[shared] - y_cell[c] / n[c] - b[r] + (p @ b)[c]
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
                ok |= np.nan_to_num(means[:, index[other]], nan=-np.inf) >= threshold
            counts[:, j] = ok
    weights = np.array([c.weight for c in criteria], dtype=np.float64)
    total = np.where(counts, means * weights, 0.0).sum(axis=1)
    total[np.isnan(means).any(axis=1)] = np.nan
    return counts, np.round(total, TOTAL_DECIMALS)


def calibrated_scoring(apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame, params: Params,
                       biases: np.ndarray | None = None, raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """`score_applications` with the means, the conditional criteria and the totals of calibrated scores.

    `biases` (per reviewer of `params.reviewers`) default to `estimate_biases` of these scores; `raw`
    is `score_applications` of the same inputs when already at hand.
    """
    raw = score_applications(apps, scores, conflicts, params) if raw is None else raw
    cube = score_cube(apps, scores, conflicts, params)
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
    """Ranks as nullable integers (<NA> where not ranked)."""
    return pd.array([int(x) if x > 0 else None for x in table_rank.tolist()], dtype="Int64")


def calibrate(apps: pd.DataFrame, eligibility: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
              params: Params, overrides: Sequence[Override] = ()) -> Calibration:
    """The reviewers' biases and spreads with their uncertainty, raw against calibrated totals, and the
    decisions that calibration would change (see the module docstring)."""
    cube = score_cube(apps, scores, conflicts, params)
    b = estimate_biases(cube)
    se = _standard_errors(cube, b)
    spread = _spread(cube, b)
    boot_b, boot_s = _bootstrap(cube, params)
    settings = params.robustness
    tail = (1.0 - settings.confidence) / 2 * 100
    with np.errstate(invalid="ignore"):
        b_low, b_high = np.nanpercentile(boot_b, [tail, 100 - tail], axis=0) if len(boot_b) else (b, b)
        s_low, s_high = np.nanpercentile(boot_s, [tail, 100 - tail], axis=0) if len(boot_s) else (spread, spread)
    m, _, _ = _design(cube)
    shared_scores = m.sum(axis=0).astype(np.int64)
    reviewers = tuple(ReviewerBias(name, int(shared_scores[r]), float(b[r]), float(se[r]), float(b_low[r]),
                                   float(b_high[r]), float(spread[r]), float(s_low[r]), float(s_high[r]))
                      for r, name in enumerate(params.reviewers))
    raw = score_applications(apps, scores, conflicts, params)
    cal = calibrated_scoring(apps, scores, conflicts, params, b, raw)
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
