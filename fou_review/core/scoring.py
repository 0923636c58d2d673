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


def _codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Position of each value among `categories` (-1 when absent).

    A categorical column (as `load_year` hands over the scores) costs one lookup per category; any
    other column one hash per row, then a small lookup.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.array
        assert isinstance(cat, pd.Categorical)
        lookup = np.append(pd.Index(categories, dtype=object).get_indexer(cat.categories), -1)  # code -1 -> -1
        return np.asarray(lookup[cat.codes], dtype=np.int64)
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    lookup = np.append(pd.Index(categories, dtype=object).get_indexer(uniques), -1)  # factorize's -1 -> -1
    return np.asarray(lookup[codes], dtype=np.int64)


def _grade_histogram(apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
                     params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Histogram H[app, criterion, grade] of counted scores, and the number of conflicted reviewers per app."""
    n_apps, criteria = len(apps), params.criterion_codes()
    lo, hi = params.scale.minimum, params.scale.maximum
    n_grades = hi - lo + 1
    ids = apps["id"].tolist()
    app_code = _codes(scores["application_id"], ids)
    crit_code = _codes(scores["criterion"], list(criteria))
    keep = (app_code >= 0) & (crit_code >= 0)
    conflicted = np.zeros(n_apps, dtype=np.int64)
    if len(conflicts):
        reviewers = list(params.reviewers)
        pairs = conflicts.drop_duplicates(["reviewer", "application_id"])
        c_app = _codes(pairs["application_id"], ids)
        c_rev = _codes(pairs["reviewer"], reviewers)
        ok = (c_app >= 0) & (c_rev >= 0)
        np.add.at(conflicted, c_app[ok], 1)
        flagged = np.zeros(n_apps + 1, dtype=bool)  # the extra last slot answers for app_code -1
        flagged[c_app[ok]] = True
        rows = np.flatnonzero(keep & flagged[app_code])  # only scores of applications with a conflict
        rev_code = _codes(scores["reviewer"].iloc[rows], reviewers)
        drop = np.isin(rev_code * n_apps + app_code[rows], c_rev[ok] * n_apps + c_app[ok])
        keep[rows[drop]] = False
    grade = scores["score"].to_numpy(dtype=np.int64) - lo
    flat = (app_code[keep] * len(criteria) + crit_code[keep]) * n_grades + grade[keep]
    hist = np.bincount(flat, minlength=n_apps * len(criteria) * n_grades)
    return hist.reshape(n_apps, len(criteria), n_grades), conflicted


def _value_at(cum: np.ndarray, position: np.ndarray, lo: int) -> np.ndarray:
    """The grade at 0-based `position` of each sorted group, from cumulative counts."""
    return np.asarray((cum > position[..., None]).argmax(axis=-1) + lo, dtype=np.int64)


def score_applications(apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
                       params: Params) -> pd.DataFrame:
    """One row per application (same index as `apps`).

    Columns: `<criterion>_mean`, `<criterion>_median`, `<criterion>_n`, `<criterion>_spread`,
    `<criterion>_counts` (bool: does the criterion count in the total), `total_score` (float, NaN
    when not scored), `disagreement` (largest spread), `scores_missing`, `conflicted_reviewers`.
    """
    criteria = params.criteria
    lo = params.scale.minimum
    hist, conflicted = _grade_histogram(apps, scores, conflicts, params)
    grades = np.arange(lo, params.scale.maximum + 1)
    n = hist.sum(axis=-1)  # (apps, criteria)
    cum = hist.cumsum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, (hist * grades).sum(axis=-1) / n, np.nan)
        median = np.where(n > 0, (_value_at(cum, (n - 1) // 2, lo) + _value_at(cum, n // 2, lo)) / 2, np.nan)
    present = hist > 0
    high = np.where(n > 0, grades[::-1][present[..., ::-1].argmax(axis=-1)], 0)
    low = np.where(n > 0, grades[present.argmax(axis=-1)], 0)
    spread = np.where(n > 0, high - low, 0)
    out = pd.DataFrame(index=apps.index)
    counts = np.ones_like(mean, dtype=bool)
    index = {c.code: j for j, c in enumerate(criteria)}
    for j, c in enumerate(criteria):
        if c.requires_any:
            ok = np.zeros(len(apps), dtype=bool)
            for other, threshold in c.requires_any:
                ok |= np.nan_to_num(mean[:, index[other]], nan=-np.inf) >= threshold
            counts[:, j] = ok
    weights = np.array([c.weight for c in criteria], dtype=np.float64)
    total = np.where(counts, mean * weights, 0.0).sum(axis=1)
    total[(n == 0).any(axis=1)] = np.nan
    for j, c in enumerate(criteria):
        out[f"{c.code}_mean"] = mean[:, j]
        out[f"{c.code}_median"] = median[:, j]
        out[f"{c.code}_n"] = n[:, j]
        out[f"{c.code}_spread"] = spread[:, j]
        out[f"{c.code}_counts"] = counts[:, j]
    out["total_score"] = np.round(total, TOTAL_DECIMALS)
    out["disagreement"] = spread.max(axis=1) if len(criteria) else 0
    expected = (len(params.reviewers) - conflicted) * len(criteria)
    out["scores_missing"] = np.maximum(expected - n.sum(axis=1), 0)
    out["conflicted_reviewers"] = conflicted
    return out
