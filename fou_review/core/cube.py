"""The counted scores as a cube: application × criterion × reviewer (shared by calibration and robustness).

API: `score_cube(apps, scores, conflicts, params) -> ScoreCube`.

A score counts as in `core.scoring`: its application, criterion and reviewer are the year's, and the
reviewer has no declared conflict of interest in the application. `ScoreCube.sums[a, c, r]` and
`ScoreCube.counts[a, c, r]` hold the sum and the number of reviewer r's counted scores of criterion
c for application a (one score, or none); the per-score arrays list the same counted scores one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fou_review.core.params import Params
from fou_review.core.scoring import _codes


@dataclass(frozen=True)
class ScoreCube:
    """The counted scores of some applications (in the order of `apps`)."""

    reviewers: tuple[str, ...]
    criteria: tuple[str, ...]
    sums: np.ndarray  # float64 (n_apps, n_criteria, n_reviewers)
    counts: np.ndarray  # int64, same shape
    app: np.ndarray  # per counted score: its application's position
    crit: np.ndarray  # ... its criterion's position
    rev: np.ndarray  # ... its reviewer's position
    score: np.ndarray  # ... the score (float64)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(applications, criteria, reviewers)."""
        a, c, r = self.sums.shape
        return int(a), int(c), int(r)


def score_cube(apps: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame, params: Params) -> ScoreCube:
    """The counted scores of `apps` (conflicted reviewers' scores left out, as in scoring)."""
    ids = apps["id"].to_numpy(dtype=object)
    criteria, reviewers = params.criterion_codes(), tuple(params.reviewers)
    n_apps, n_crit, n_rev = len(ids), len(criteria), len(reviewers)
    app = _codes(scores["application_id"], ids)
    crit = _codes(scores["criterion"], list(criteria))
    rev = _codes(scores["reviewer"], list(reviewers))
    ok = (app >= 0) & (crit >= 0) & (rev >= 0)
    if len(conflicts):
        c_app = _codes(conflicts["application_id"], ids)
        c_rev = _codes(conflicts["reviewer"], list(reviewers))
        keep = (c_app >= 0) & (c_rev >= 0)
        pairs = np.unique(c_rev[keep] * n_apps + c_app[keep])
        ok &= ~np.isin(rev * n_apps + app, pairs)
    app, crit, rev = app[ok], crit[ok], rev[ok]
    score = scores["score"].to_numpy(dtype=np.float64)[ok]
    flat = (app * n_crit + crit) * n_rev + rev
    size = n_apps * n_crit * n_rev
    sums = np.bincount(flat, weights=score, minlength=size).reshape(n_apps, n_crit, n_rev)
    counts = np.bincount(flat, minlength=size).astype(np.int64).reshape(n_apps, n_crit, n_rev)
    return ScoreCube(reviewers, criteria, sums, counts, app, crit, rev, score)
