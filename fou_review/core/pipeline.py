"""The stages joined: inputs -> eligibility -> scoring -> allocation -> summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fou_review.core.allocation import Allocation, allocate
from fou_review.core.calibration import calibrated_scoring
from fou_review.core.eligibility import check_eligibility
from fou_review.core.followup import Ledger, parse_followup
from fou_review.core.load import YearInputs, load_year
from fou_review.core.model import Override
from fou_review.core.params import Params
from fou_review.core.scoring import score_applications
from fou_review.core.summary import Summary, summarise


@dataclass(frozen=True)
class Decided:
    """Scoring, allocation and summary of some applications whose eligibility is known."""

    scoring: pd.DataFrame
    allocation: Allocation
    summary: Summary


def decide(apps: pd.DataFrame, eligibility: pd.DataFrame, scores: pd.DataFrame, conflicts: pd.DataFrame,
           params: Params, overrides: Sequence[Override] = ()) -> Decided:
    """Score, allocate and summarise: the one wiring of the stages after eligibility.

    `apps` may be any subset of a year's applications made of whole funds (the live preview
    recomputes one fund at a time), with `eligibility` for the same rows. Writes no text: the
    allocation's `decisions` DataFrame renders its texts when first asked for. When the year's
    `allocation_scores` is `calibrated`, the ranking uses the calibrated means and totals
    (`core.calibration.calibrated_scoring`); by default (`raw`) the reviewers' scores as given.
    """
    scoring = score_applications(apps, scores, conflicts, params)
    if params.allocation_scores == "calibrated":
        scoring = calibrated_scoring(apps, scores, conflicts, params, raw=scoring)
    allocation = allocate(apps, eligibility, scoring, params, overrides)
    eligible_ids = set(apps["id"].to_numpy()[eligibility["eligible"].to_numpy(dtype=bool)].tolist())
    return Decided(scoring, allocation, summarise(allocation.table, eligible_ids, params))


@dataclass(frozen=True)
class Review:
    """A year's review: the inputs and every stage's result (eligibility, scoring, allocation, summary, follow-up)."""

    inputs: YearInputs
    eligibility: pd.DataFrame
    scoring: pd.DataFrame
    allocation: Allocation
    summary: Summary
    followup: Ledger | None = None  # the year's own follow-up ledger, checked against its grants

    @property
    def decisions(self) -> pd.DataFrame:
        """The decisions with their texts (rendered on first use)."""
        return self.allocation.decisions


def review_inputs(inputs: YearInputs) -> Review:
    """Run every stage on inputs already loaded (pure: reads and writes nothing)."""
    apps, params = inputs.applications, inputs.params
    eligibility = check_eligibility(apps, params)
    decided = decide(apps, eligibility, inputs.scores, inputs.conflicts, params, inputs.overrides)
    followup = None
    if inputs.followup is not None:  # an InputError (file, row, column) when it disagrees with the grants
        from fou_review.core.cycle import grants_of

        table = decided.allocation.table
        grants = grants_of(apps, table.ids, table.granted_kr, params.year)
        followup = parse_followup(inputs.followup, params.year, grants, params.decision.date,
                                  params.decision.repayment_deadline)
    return Review(inputs, eligibility, decided.scoring, decided.allocation, decided.summary, followup)


def review_year(root: Path | str, year: int) -> Review:
    """Load a year's inputs under the project root and review them."""
    return review_inputs(load_year(Path(root), year))
