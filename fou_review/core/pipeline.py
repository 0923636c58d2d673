"""The stages joined: inputs -> eligibility -> scoring -> allocation -> summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fou_review.core.allocation import Allocation, allocate
from fou_review.core.eligibility import check_eligibility
from fou_review.core.load import YearInputs, load_year
from fou_review.core.scoring import score_applications
from fou_review.core.summary import Summary, summarise


@dataclass(frozen=True)
class Review:
    inputs: YearInputs
    eligibility: pd.DataFrame
    scoring: pd.DataFrame
    allocation: Allocation
    summary: Summary

    @property
    def decisions(self) -> pd.DataFrame:
        return self.allocation.decisions


def review_inputs(inputs: YearInputs) -> Review:
    """Run every stage on inputs already loaded (pure: reads and writes nothing)."""
    apps, params = inputs.applications, inputs.params
    eligibility = check_eligibility(apps, params)
    scoring = score_applications(apps, inputs.scores, inputs.conflicts, params)
    allocation = allocate(apps, eligibility, scoring, params, inputs.overrides)
    eligible_ids = set(apps.loc[eligibility["eligible"], "id"])
    return Review(inputs, eligibility, scoring, allocation, summarise(allocation.decisions, eligible_ids, params))


def review_year(root: Path | str, year: int) -> Review:
    """Load a year's inputs under the project root and review them."""
    return review_inputs(load_year(Path(root), year))
