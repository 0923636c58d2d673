"""Two allocations of the same applications compared: who gains, who loses, and why.

API:
- `diff_tables(before: DecisionTable, after: DecisionTable, funds: Sequence[str]) -> tuple[Change, ...]`:
  the applications whose granted amount, reason or rank differs, per fund in `funds`' order, losses
  first (largest first), then gains (largest first), then rank or reason alone (natural id order).
- `Change`: `id`, `fund`, `applicants`, `before`/`after` (`DecisionDetail`: kronor, rank, typed
  reason), `delta_kr`, `kind` ("loss", "gain" or "same_kr").
- `changes_frame(changes, params, lang) -> pd.DataFrame`: one row per change with its reasons
  rendered from the `core` catalogue in `lang` (columns `CHANGE_COLUMNS`).

Both tables must hold the same applications in the same order (as two `allocate` calls on the same
`apps` do).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fou_review.core.allocation import natural_key
from fou_review.core.model import Applicants, DecisionDetail, DecisionTable
from fou_review.core.params import Params

CHANGE_COLUMNS = ("id", "fund", "applicants", "granted_before_kr", "granted_after_kr", "change_kr",
                  "rank_before", "rank_after", "reason_before", "reason_after")


@dataclass(frozen=True)
class Change:
    """One application whose decision differs between two allocations."""

    id: str
    fund: str
    applicants: Applicants
    before: DecisionDetail
    after: DecisionDetail

    @property
    def delta_kr(self) -> int:
        """Kronor gained (positive) or lost (negative)."""
        return self.after.granted_kr - self.before.granted_kr

    @property
    def kind(self) -> str:
        """"gain", "loss", or "same_kr" (only the rank or the reason changed)."""
        return "gain" if self.delta_kr > 0 else "loss" if self.delta_kr < 0 else "same_kr"


def diff_tables(before: DecisionTable, after: DecisionTable, funds: Sequence[str]) -> tuple[Change, ...]:
    """The applications whose granted amount, reason code or rank differs between the two tables."""
    if len(before) != len(after) or not bool((before.ids == after.ids).all()):
        raise ValueError("the two decision tables hold different applications")
    differs = ((before.granted_kr != after.granted_kr) | (before.code != after.code)
               | (before.rank != after.rank))
    order = {code: i for i, code in enumerate(funds)}
    rows = np.flatnonzero(differs)
    out = [Change(d.id, d.fund, d.applicants, d, a) for d, a in
           zip(before.details_of(rows), after.details_of(rows), strict=True)]

    def key(c: Change) -> tuple[int, int, int, tuple[tuple[str | int, ...], str]]:
        group = 0 if c.delta_kr < 0 else 1 if c.delta_kr > 0 else 2
        return order.get(c.fund, len(order)), group, -abs(c.delta_kr), natural_key(c.id)

    return tuple(sorted(out, key=key))


def changes_frame(changes: Sequence[Change], params: Params, lang: str = "sv") -> pd.DataFrame:
    """The changes as a table, reasons rendered in `lang` (ranks are <NA> where not ranked)."""
    from fou_review.texts.reasons import reason_text  # texts are made only where shown

    rows = [(c.id, c.fund, " & ".join(c.applicants), c.before.granted_kr, c.after.granted_kr, c.delta_kr,
             c.before.rank, c.after.rank, reason_text(c.before, params.funds[c.fund], lang),
             reason_text(c.after, params.funds[c.fund], lang)) for c in changes]
    frame = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    for name in ("granted_before_kr", "granted_after_kr", "change_kr"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("rank_before", "rank_after"):
        frame[name] = pd.array(frame[name].tolist(), dtype="Int64")
    return frame
