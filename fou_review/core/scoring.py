"""Scoring: from reviewers' scores to one weighted total per application.

Per application and criterion: mean, median, count, and the spread (max − min, the reviewers'
disagreement). Scores by a reviewer with a declared conflict of interest in that application are
left out. A conditional criterion (the follow-up plan) counts only when one of the criteria it
requires reaches its threshold mean. The total is Σ weight × mean over the criteria that count;
an application missing every score of some criterion has no total (it is "not scored").

Scores are integers on a small scale, so everything is computed from a histogram of grades per
(application, criterion): exact medians, no per-group Python loop.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks

from fou_review.core.params import Params

_FEW = 256  # up to this many values (and categories) are looked up one by one
TOTAL_DECIMALS = 9  # rounding of the total before ranking: removes float noise, keeps real differences


def _codes(values: pd.Series, categories: list[str] | np.ndarray, index: pd.Index | None = None) -> np.ndarray:
    """Position of each value among `categories` (-1 when absent).

    A categorical column (as `load_year` hands over the scores) costs one lookup per category, and
    nothing when its categories are `categories` themselves; any other column one hash per row,
    then a small lookup.
    """
    wanted = np.asarray(categories, dtype=object)
    if isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.array
        assert isinstance(cat, pd.Categorical)
        own = cat.categories.to_numpy(dtype=object)
        if len(own) == len(wanted) and bool((own == wanted).all()):
            return np.asarray(cat.codes, dtype=np.int64)
        lookup = np.append(pd.Index(wanted).get_indexer(own), -1)  # code -1 -> -1
        return np.asarray(lookup[cat.codes], dtype=np.int64)
    if len(values) <= _FEW and (index is not None or len(wanted) <= _FEW):  # a few values: no hashing of columns
        if index is not None:
            return np.asarray(index.get_indexer(values.to_numpy(dtype=object)), dtype=np.int64)
        position = {v: k for k, v in enumerate(wanted.tolist())}
        return np.array([position.get(v, -1) for v in values.tolist()], dtype=np.int64)
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    index = pd.Index(wanted) if index is None else index  # `index`: `categories` as an Index, if at hand
    lookup = np.append(index.get_indexer(uniques), -1)  # factorize's -1 -> -1
    return np.asarray(lookup[codes], dtype=np.int64)


def _same_index(values: pd.Series, categories: np.ndarray) -> pd.Index | None:
    """The categories of a categorical column as an Index, when they are `categories` (pandas keeps its
    hash table from building the column, so looking more values up in it is cheap)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        own: pd.Index = values.dtype.categories
        if len(own) == len(categories) and bool((own.to_numpy(dtype=object) == categories).all()):
            return own
    return None


def _small_codes(values: pd.Series, categories: list[str] | np.ndarray, same: bool | None = None) -> np.ndarray:
    """`_codes`, but a categorical column over exactly `categories` (`same`, when already known) gives
    its own codes as they are: a small integer type, not copied."""
    if same is None:
        same = _same_index(values, np.asarray(categories, dtype=object)) is not None
    if same:
        return np.asarray(values.array.codes)
    return _codes(values, categories)


def _grade_histogram(apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
                     params: Params) -> tuple[np.ndarray, np.ndarray]:
    """H[grade, criterion × application]: how many counted scores of each grade; and conflicted reviewers
    per application.

    Grade-major and then criterion-major, so that every statistic below is a handful of operations on
    whole rows, and each criterion's results are one contiguous row.
    """
    n_apps, criteria = len(apps), params.criterion_codes()
    lo, hi = params.scale.minimum, params.scale.maximum
    n_grades = hi - lo + 1
    ids = apps["id"].to_numpy(dtype=object)
    app_column = scores["application_id"]
    id_index = _same_index(app_column, ids)  # as `load_year` hands the scores over
    app_code = _small_codes(app_column, ids, id_index is not None)
    crit_code = _small_codes(scores["criterion"], list(criteria))
    cells = n_apps * len(criteria)
    outside = n_grades * cells  # one extra bin for the scores that do not count, cut off at the end
    # A score's bin: (score − lo) · cells + criterion · n_apps + application.
    flat = np.multiply(crit_code, n_apps, dtype=np.int64)
    flat += app_code
    conflict_rows = _conflict_rows(flat, n_apps, cells, app_code, conflicts, scores, ids, id_index, params) \
        if len(conflicts) else None  # `flat` holds the cell here: criterion · n_apps + application
    flat += np.multiply(scores["score"].to_numpy(dtype=np.int64), cells)
    if lo:
        flat -= lo * cells
    if len(app_code) and (app_code.min() < 0 or crit_code.min() < 0):  # an unknown application or criterion
        flat[(app_code < 0) | (crit_code < 0)] = outside
    conflicted = np.zeros(n_apps, dtype=np.int64)
    if conflict_rows is not None:
        drop, conflicted = conflict_rows
        flat[drop] = outside  # a conflicted reviewer's scores do not count
    hist = np.bincount(flat, minlength=outside + 1)[:outside]
    return hist.reshape(n_grades, cells), conflicted


def _conflict_rows(cell: np.ndarray, n_apps: int, cells: int, app_code: np.ndarray, conflicts: pd.DataFrame,
                   scores: pd.DataFrame, ids: np.ndarray, id_index: pd.Index | None,
                   params: Params) -> tuple[np.ndarray, np.ndarray]:
    """The score rows by a reviewer with a declared conflict in their application, and per application
    how many (known) reviewers have one. `cell` is each score's criterion · n_apps + application."""
    reviewers = list(params.reviewers)
    c_app = _codes(conflicts["application_id"], ids, id_index)
    c_rev = _codes(conflicts["reviewer"], reviewers)
    ok = (c_app >= 0) & (c_rev >= 0)
    pairs = np.unique(c_rev[ok] * n_apps + c_app[ok])  # each (reviewer, application) once
    conflicted = np.bincount(pairs % n_apps, minlength=n_apps)
    flagged = np.zeros(n_apps, dtype=bool)
    flagged[pairs % n_apps] = True
    # Only the scores of applications with a conflict are looked at (a cell of an unknown application
    # or criterion may look flagged: such a score does not count anyway).
    rows = np.flatnonzero(np.tile(flagged, max(cells // max(n_apps, 1), 1))[cell]) if cells else cell[:0]
    reviewer = scores["reviewer"]
    rev_code = (_small_codes(reviewer, reviewers)[rows] if isinstance(reviewer.dtype, pd.CategoricalDtype)
                else _codes(reviewer.iloc[rows], reviewers))
    app_of = app_code[rows].astype(np.int64)
    known = (rev_code >= 0) & (app_of >= 0)
    conflict = np.zeros(len(reviewers) * n_apps, dtype=bool)
    conflict[pairs] = True
    drop = known & conflict[np.where(known, rev_code.astype(np.int64) * n_apps + app_of, 0)]
    return rows[drop], conflicted


def _grades_where(mask: np.ndarray) -> np.ndarray:
    """How many grades (rows of `mask`) are True, per column (a small count: bytes added row by row)."""
    if len(mask) < 128:
        return np.asarray(np.add.reduce(mask.view(np.uint8), axis=0, dtype=np.uint8)).astype(np.int16)
    return np.asarray(mask.sum(axis=0, dtype=np.int16))


@lru_cache(maxsize=16)
def _columns(codes: tuple[str, ...]) -> tuple[pd.Index, list[tuple[str, np.ndarray]]]:
    """The columns of `score_applications` and where each dtype's columns go (its blocks' placements)."""
    names: list[str] = []
    for c in codes:
        names += [f"{c}_mean", f"{c}_median", f"{c}_n", f"{c}_spread", f"{c}_counts"]
    names += ["total_score", "disagreement", "scores_missing", "conflicted_reviewers"]
    k, j = len(codes), np.arange(len(codes))
    floats = np.concatenate((np.column_stack((5 * j, 5 * j + 1)).ravel(), [5 * k]))
    ints = np.concatenate((np.column_stack((5 * j + 2, 5 * j + 3)).ravel(), [5 * k + 1, 5 * k + 2, 5 * k + 3]))
    return pd.Index(names), [("float", floats.astype(np.intp)), ("int", ints.astype(np.intp)),
                             ("bool", (5 * j + 4).astype(np.intp))]


def score_applications(apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
                       params: Params) -> pd.DataFrame:
    """One row per application (same index as `apps`).

    Columns: `<criterion>_mean`, `<criterion>_median`, `<criterion>_n`, `<criterion>_spread`,
    `<criterion>_counts` (bool: does the criterion count in the total), `total_score` (float, NaN
    when not scored), `disagreement` (largest spread), `scores_missing`, `conflicted_reviewers`.
    """
    criteria = params.criteria
    n_apps, n_crit = len(apps), len(criteria)
    lo, hi = params.scale.minimum, params.scale.maximum
    cum, conflicted = _grade_histogram(apps, scores, conflicts, params)
    for g in range(1, len(cum)):  # a running sum over a few whole rows, in place
        cum[g] += cum[g - 1]
    n = cum[-1]
    # The results go straight into the frame's blocks: one per dtype, a row per column, a criterion's
    # results in every other row (mean, median; count, spread).
    floats = np.empty((2 * n_crit + 1, n_apps), dtype=np.float64)
    ints = np.empty((2 * n_crit + 3, n_apps), dtype=np.int64)
    counts = np.ones((n_crit, n_apps), dtype=bool)
    mean, median = floats[0:2 * n_crit:2], floats[1:2 * n_crit:2]
    n_of, spread = ints[0:2 * n_crit:2], ints[1:2 * n_crit:2]
    n_of[...] = n.reshape(n_crit, n_apps)
    # Σ grade × count = hi · n − Σ_{g < hi} cum_g (exact in integers; the mean is that over n).
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide((hi * n - cum[:-1].sum(axis=0)).reshape(n_crit, n_apps), n_of, out=mean)
    # The grade at sorted position p is lo + (how many grades have at most p scores below or at them).
    lower = _grades_where(cum <= (n - 1) // 2) + _grades_where(cum <= n // 2)
    np.add(lower.reshape(n_crit, n_apps) / 2, lo, out=median)
    spread[...] = (_grades_where(cum < n) - _grades_where(cum == 0)).reshape(n_crit, n_apps)  # high − low
    unscored = n_of == 0
    any_unscored = bool(unscored.any())
    if any_unscored:
        median[unscored] = np.nan
        spread[unscored] = 0
    index = {c.code: j for j, c in enumerate(criteria)}
    for j, c in enumerate(criteria):
        if c.requires_any:
            ok = counts[j]
            ok[:] = False
            for other, threshold in c.requires_any:
                if threshold == -np.inf:  # even no score reaches it
                    ok[:] = True
                else:
                    ok |= mean[index[other]] >= threshold  # NaN (no score) never does
    weights = [float(c.weight) for c in criteria]
    total = floats[2 * n_crit]
    if 0 < n_crit < 8:  # added left to right, as numpy adds fewer than 8 numbers along a row
        for j in range(n_crit):
            term = np.where(counts[j], mean[j] * weights[j], 0.0)
            if j == 0:
                total[:] = term
            else:
                total += term
    else:
        total[:] = np.where(counts.T, mean.T * np.array(weights), 0.0).sum(axis=1)
    if any_unscored:
        total[unscored.any(axis=0)] = np.nan
    np.round(total, TOTAL_DECIMALS, out=total)
    ints[2 * n_crit] = spread.max(axis=0) if n_crit else 0
    expected = (len(params.reviewers) - conflicted) * n_crit
    np.maximum(expected - n_of.sum(axis=0), 0, out=ints[2 * n_crit + 1])
    ints[2 * n_crit + 2] = conflicted
    columns, placements = _columns(tuple(c.code for c in criteria))
    arrays = {"float": floats, "int": ints, "bool": counts}
    blocks = [(arrays[kind], where) for kind, where in placements if len(where)]
    return create_dataframe_from_blocks(blocks, index=apps.index, columns=columns)
