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

import numpy as np
import pandas as pd

from fou_review.core.params import Params

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


def _grade_histogram(apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
                     params: Params) -> tuple[np.ndarray, np.ndarray]:
    """H[grade, app × criterion]: how many counted scores of each grade; and conflicted reviewers per app.

    Grade-major, so that every statistic below is a handful of operations on whole rows.
    """
    n_apps, criteria = len(apps), params.criterion_codes()
    lo, hi = params.scale.minimum, params.scale.maximum
    n_grades = hi - lo + 1
    ids = apps["id"].to_numpy(dtype=object)
    id_index = _same_index(scores["application_id"], ids)  # as `load_year` hands the scores over
    app_code = (np.asarray(scores["application_id"].array.codes, dtype=np.int64)
                if id_index is not None else _codes(scores["application_id"], ids))
    crit_code = _codes(scores["criterion"], list(criteria))
    cells = n_apps * len(criteria)
    outside = n_grades * cells  # one extra bin for the scores that do not count, cut off at the end
    flat = (scores["score"].to_numpy(dtype=np.int64) - lo) * cells + app_code * len(criteria) + crit_code
    if len(app_code) and (app_code.min() < 0 or crit_code.min() < 0):  # an unknown application or criterion
        flat[(app_code < 0) | (crit_code < 0)] = outside
    conflicted = np.zeros(n_apps, dtype=np.int64)
    if len(conflicts):
        reviewers = list(params.reviewers)
        c_app = _codes(conflicts["application_id"], ids, id_index)
        c_rev = _codes(conflicts["reviewer"], reviewers)
        ok = (c_app >= 0) & (c_rev >= 0)
        pairs = np.unique(c_rev[ok] * n_apps + c_app[ok])  # each (reviewer, application) once
        np.add.at(conflicted, pairs % n_apps, 1)
        flagged = np.zeros(n_apps + 1, dtype=bool)  # the extra last slot answers for app_code -1
        flagged[pairs % n_apps] = True
        rows = np.flatnonzero(flagged[app_code])  # only scores of applications with a conflict
        rev_code = _codes(scores["reviewer"].iloc[rows], reviewers)
        drop = np.isin(rev_code * n_apps + app_code[rows], pairs)
        flat[rows[drop]] = outside  # a conflicted reviewer's scores do not count
    hist = np.bincount(flat, minlength=outside + 1)[:outside]
    return hist.reshape(n_grades, cells), conflicted


def _grades_where(mask: np.ndarray) -> np.ndarray:
    """How many grades (rows of `mask`) are True, per column (a small count: summed in int16)."""
    return np.asarray(mask.sum(axis=0, dtype=np.int16))


def score_applications(apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
                       params: Params) -> pd.DataFrame:
    """One row per application (same index as `apps`).

    Columns: `<criterion>_mean`, `<criterion>_median`, `<criterion>_n`, `<criterion>_spread`,
    `<criterion>_counts` (bool: does the criterion count in the total), `total_score` (float, NaN
    when not scored), `disagreement` (largest spread), `scores_missing`, `conflicted_reviewers`.
    """
    criteria = params.criteria
    n_apps, n_crit = len(apps), len(criteria)
    lo = params.scale.minimum
    hist, conflicted = _grade_histogram(apps, scores, conflicts, params)
    grades = np.arange(lo, params.scale.maximum + 1, dtype=np.float64)
    cum = hist.copy()
    for g in range(1, len(grades)):  # a running sum over a few whole rows (faster than cumsum along axis 0)
        cum[g] += cum[g - 1]
    n = cum[-1]
    scored = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(scored, (grades @ hist) / n, np.nan)
    # The grade at sorted position p is lo + (how many grades have at most p scores below or at them).
    median = np.where(scored, (_grades_where(cum <= (n - 1) // 2) + _grades_where(cum <= n // 2)) / 2 + lo, np.nan)
    spread = np.where(scored, _grades_where(cum < n) - _grades_where(cum == 0), 0).astype(np.int64)  # high − low
    mean, median, spread, n = (a.reshape(n_apps, n_crit) for a in (mean, median, spread, n))
    counts = np.ones_like(mean, dtype=bool)
    index = {c.code: j for j, c in enumerate(criteria)}
    for j, c in enumerate(criteria):
        if c.requires_any:
            ok = np.zeros(n_apps, dtype=bool)
            for other, threshold in c.requires_any:
                ok |= np.nan_to_num(mean[:, index[other]], nan=-np.inf) >= threshold
            counts[:, j] = ok
    weights = np.array([c.weight for c in criteria], dtype=np.float64)
    total = np.where(counts, mean * weights, 0.0).sum(axis=1)
    total[(n == 0).any(axis=1)] = np.nan
    columns: dict[str, np.ndarray] = {}
    for j, c in enumerate(criteria):
        columns[f"{c.code}_mean"] = mean[:, j]
        columns[f"{c.code}_median"] = median[:, j]
        columns[f"{c.code}_n"] = n[:, j]
        columns[f"{c.code}_spread"] = spread[:, j]
        columns[f"{c.code}_counts"] = counts[:, j]
    columns["total_score"] = np.round(total, TOTAL_DECIMALS)
    columns["disagreement"] = spread.max(axis=1) if n_crit else np.zeros(n_apps, dtype=np.int64)
    expected = (len(params.reviewers) - conflicted) * n_crit
    columns["scores_missing"] = np.maximum(expected - n.sum(axis=1), 0)
    columns["conflicted_reviewers"] = conflicted
    return pd.DataFrame(columns, index=apps.index)
