"""Fair review: each reviewer's own order, declared conflicts, and what stays hidden until done.

- The order of applications is shuffled per reviewer, deterministically from (reviewer, year):
  `random.Random(seed).shuffle` on the sorted ids, the seed being the first 8 bytes of
  sha256("<year>:<reviewer>"). Two reviewers see different orders; one reviewer always the same.
- A reviewer with a declared conflict of interest (`data/<year>/conflicts.csv`) cannot score that
  application; the reason from the file is shown.
- An application that is not eligible needs no scores (it is rejected whatever its scores); the
  reviewer may still score it.
- Other reviewers' scores stay hidden until this reviewer has scored every criterion of every
  application they are to score (without a conflict, eligible).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from fou_review.core.params import Params


def review_order(app_ids: Iterable[str], reviewer: str, year: int) -> list[str]:
    """The reviewer's own deterministic shuffle of the application ids."""
    seed = int.from_bytes(hashlib.sha256(f"{year}:{reviewer}".encode()).digest()[:8], "big")
    order = sorted(app_ids)
    random.Random(seed).shuffle(order)
    return order


def conflicts_of(conflicts: pd.DataFrame, reviewer: str) -> dict[str, str]:
    """application_id -> the declared reason (or an empty string) for this reviewer's conflicts."""
    mine = conflicts[conflicts["reviewer"] == reviewer]
    return {str(a): str(r) for a, r in zip(mine["application_id"], mine["reason"], strict=True)}


def is_fully_scored(scores: Mapping[tuple[str, str], int], app_id: str, criteria: Sequence[str]) -> bool:
    """Whether the application has a score on every criterion."""
    return all((app_id, c) in scores for c in criteria)


@dataclass(frozen=True)
class Progress:
    """How far a reviewer has come: applications scored of those they are to score."""

    scored: int  # applications to score with every criterion scored
    to_score: int  # applications this reviewer is to score: no conflict, eligible
    conflicted: int  # applications left out for a declared conflict
    ineligible: int = 0  # applications left out as not eligible (and without a conflict)

    @property
    def complete(self) -> bool:
        """True when every application the reviewer is to score is scored."""
        return self.scored == self.to_score


def progress(scores: Mapping[tuple[str, str], int], app_ids: Sequence[str], conflicts: Mapping[str, str],
             params: Params, ineligible: Collection[str] = ()) -> Progress:
    """The reviewer's progress; an application with a conflict, or not eligible, needs no scores."""
    criteria = params.criterion_codes()
    allowed = [a for a in app_ids if a not in conflicts]
    required = [a for a in allowed if a not in ineligible]
    done = sum(is_fully_scored(scores, a, criteria) for a in required)
    return Progress(done, len(required), len(app_ids) - len(allowed), len(allowed) - len(required))


@dataclass(frozen=True)
class OthersOnCriterion:
    """How the other reviewers scored one application on one criterion: how many, mean, lowest and highest."""

    criterion: str
    n: int
    mean: float | None
    low: int | None
    high: int | None


def others_scores(all_scores: pd.DataFrame, conflicts: pd.DataFrame, reviewer: str, app_id: str,
                  params: Params) -> list[OthersOnCriterion]:
    """Per criterion: how the *other* reviewers (conflicted ones left out) scored one application."""
    conflicted = set(conflicts.loc[conflicts["application_id"] == app_id, "reviewer"])
    rows = all_scores[(all_scores["application_id"] == app_id) & (all_scores["reviewer"] != reviewer)
                      & ~all_scores["reviewer"].isin(conflicted)]
    out = []
    for code in params.criterion_codes():
        grades = [int(g) for g in rows.loc[rows["criterion"] == code, "score"]]
        out.append(OthersOnCriterion(code, len(grades), sum(grades) / len(grades) if grades else None,
                                     min(grades) if grades else None, max(grades) if grades else None))
    return out
