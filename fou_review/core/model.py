"""The typed model passed between the stages: no stage parses a string another stage wrote.

- `Applicants`: the administrations behind one application, a tuple of names split once when
  loading ("Rinkeby-Kista & Spånga-Tensta" -> ("Rinkeby-Kista", "Spånga-Tensta")).
- `Override`: a committee decision departing from the computation.
- `Rule`: one registered eligibility rule (see `core/eligibility.py`): its code, its check and the
  facts its text shows. A rule *is* its code (a `str`, as a `StrEnum` member is), so tuples of
  failed rules compare and print as codes.
- `Decision` and `ReasonCode`: what was decided and why, as enums.
- `DecisionTable`: the allocation's text-free, columnar result (one entry per application);
  `DecisionDetail` is one row of it as a record. Texts are rendered from these only where they are
  shown (`fou_review.texts.reasons`).
- `Allocation`: the table, the ranking, and the decisions DataFrame with texts made on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Self

import numpy as np
import pandas as pd

from fou_review.core.params import Fund, Params

Applicants = tuple[str, ...]


@dataclass(frozen=True)
class Override:
    """A committee decision that departs from the computed allocation, with its written reason."""

    id: str
    granted_kr: int
    reason: str


class Decision(StrEnum):
    """The outcome of one application."""

    GRANTED = "granted"
    PARTLY = "partly"
    REJECTED = "rejected"


DECISIONS: tuple[Decision, ...] = tuple(Decision)  # position = the code in `DecisionTable.decision`


class ReasonCode(StrEnum):
    """Why an application got its decision (an ineligible one names its rules in the detail)."""

    GRANTED = "granted"
    GRANTED_REDUCED = "granted_reduced"
    GRANTED_PARTIAL = "granted_partial"
    OVERRIDE = "override"
    REJECTED_CAP = "rejected_cap"
    REJECTED_BUDGET = "rejected_budget"
    NOT_SCORED = "not_scored"
    INELIGIBLE = "ineligible"


REASON_CODES: tuple[ReasonCode, ...] = tuple(ReasonCode)  # position = the code in `DecisionTable.code`
CODE = {c: np.int8(i) for i, c in enumerate(REASON_CODES)}


@dataclass(frozen=True)
class RuleInputs:
    """What an eligibility rule's check sees: one fund's applications (`rows`), columns as arrays.

    Each column is made on first use; all arrays are in the order of `rows`.
    """

    apps: pd.DataFrame
    params: Params
    rows: np.ndarray  # positions in `apps`

    def _column(self, name: str, dtype: type | None = object) -> np.ndarray:
        return np.asarray(self.apps[name].to_numpy(dtype=dtype)[self.rows])

    @cached_property
    def applicants(self) -> list[Applicants]:
        """Each row's applicants (the lead administration first, then any partners)."""
        return list(self._column("applicants").tolist())

    @cached_property
    def received(self) -> np.ndarray:
        """ISO dates as text (they sort as dates)."""
        return self._column("received")

    @cached_property
    def purpose(self) -> np.ndarray:
        """Each row's purpose code (matched against the fund's excluded purposes)."""
        return self._column("purpose")

    @cached_property
    def requested_kr(self) -> np.ndarray:
        """Each row's requested amount in kronor."""
        return self._column("requested_kr", np.int64)

    @cached_property
    def last_report(self) -> np.ndarray:
        """Each row's state of the report on last year's grant ("godkänd", "ej aktuell", ...)."""
        return self._column("last_report")

    @cached_property
    def years(self) -> np.ndarray:
        """The project's length in years as far as known (planned or current year; NaN when unknown)."""
        apps = self.apps
        return np.asarray(np.fmax(apps["planned_years"].to_numpy(dtype=np.float64, na_value=np.nan),
                                  apps["project_year"].to_numpy(dtype=np.float64, na_value=np.nan))[self.rows])


# The application columns (set by `core.cycle`) that rule texts may show per row, "" where unused.
ROW_FACTS = ("owed_not_approved", "owed_not_received", "owed_repayment", "continues_label")

RuleCheck = Callable[[RuleInputs, Fund], "np.ndarray | None"]
RuleFacts = Callable[[Fund], Mapping[str, object]]


class Rule(str):
    """One registered eligibility rule; the string value is its code ("outside_window").

    `check(inputs, fund)` gives a bool array over all rows (True = fails; only the fund's rows are
    used) or None when the fund does not have the rule; `facts(fund)` gives the fund's facts its text
    shows (the application's own `requested_kr` and `purpose` are always there); `bit` is its
    position in the registry, which is also the order in which failed rules are reported.
    """

    check: RuleCheck
    facts: RuleFacts
    bit: int

    def __new__(cls, code: str, check: RuleCheck, facts: RuleFacts, bit: int) -> Self:
        """A rule with code `code`, its check, its facts and its position in the registry."""
        self = super().__new__(cls, code)
        self.check, self.facts, self.bit = check, facts, bit
        return self

    @property
    def code(self) -> str:
        """The rule's code, e.g. "outside_window"."""
        return str.__str__(self)

    @property
    def msgid(self) -> str:
        """Its text's id in the `core` catalogue."""
        return f"reason.ineligible.{self.code}"


@dataclass(frozen=True)
class DecisionDetail:
    """One decision as a typed record: what was decided, why, and the facts its text shows."""

    id: str
    fund: str
    applicants: Applicants
    requested_kr: int
    granted_kr: int
    decision: Decision
    code: ReasonCode
    failed: tuple[Rule, ...]  # the eligibility rules that failed, in registry order (code INELIGIBLE)
    rank: int | None  # among the fund's ranked candidates
    ranked: int | None  # how many were ranked in the fund
    budget_before_kr: int | None  # the fund's remaining budget when this application's turn came
    budget_after_kr: int | None
    cap_applicant: str | None  # whose count cap refused it (code REJECTED_CAP)
    cap_count: int | None  # how many granted applications that applicant already had
    purpose: str
    override_reason: str | None  # the committee's written reason (code OVERRIDE)
    row_facts: Mapping[str, str] = field(default_factory=dict)  # its values of ROW_FACTS

    @property
    def reason_code(self) -> str:
        """The short code shown in tables: the first failed rule for an ineligible application."""
        return self.failed[0].code if self.code is ReasonCode.INELIGIBLE else self.code.value


@dataclass(frozen=True)
class DecisionTable:
    """The allocation's typed, text-free result: one entry per application, in the input's order.

    `code` holds positions in `REASON_CODES`; `rank`/`ranked` are 0 and `budget_*_kr` -1 where they do
    not apply; `failed` holds each application's tuple of failed rules (shared by equal rows);
    `cap_applicant` is "" unless the count cap decided.
    """

    ids: np.ndarray
    funds: np.ndarray
    applicants: np.ndarray  # tuples of names
    requested_kr: np.ndarray
    granted_kr: np.ndarray
    code: np.ndarray
    failed: np.ndarray
    rank: np.ndarray
    ranked: np.ndarray
    budget_before_kr: np.ndarray
    budget_after_kr: np.ndarray
    cap_applicant: np.ndarray
    cap_count: np.ndarray
    purpose: np.ndarray
    overrides: Mapping[str, Override] = field(default_factory=dict)
    # Per-row facts a rule's text shows beyond the purpose (`ROW_FACTS`, e.g. the grants an
    # administration still owes a report on: "LUM-03 (2022)"); text-free: ids and years only.
    row_facts: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def decision(self) -> np.ndarray:
        """Positions in `DECISIONS`: granted in full, partly, or rejected (nothing granted)."""
        return np.select([self.granted_kr == 0, self.granted_kr < self.requested_kr], [2, 1], 0).astype(np.int8)

    def detail(self, i: int) -> DecisionDetail:
        """Row `i` as a typed record."""
        return self.details_of([i])[0]

    def details_of(self, rows: Sequence[int] | np.ndarray) -> list[DecisionDetail]:
        """Rows `rows` as typed records, in that order (each column read once for all of them)."""
        at = np.asarray(rows, dtype=np.int64).reshape(-1)
        facts = [(k, v[at].tolist()) for k, v in self.row_facts.items()]
        out = []
        for k, (app_id, fund, applicants, requested, granted, decision, code_at, failed, rank, ranked, before,
                after, who, count, purpose) in enumerate(zip(
                    self.ids[at].tolist(), self.funds[at].tolist(), self.applicants[at].tolist(),
                    self.requested_kr[at].tolist(), self.granted_kr[at].tolist(), self.decision[at].tolist(),
                    self.code[at].tolist(), self.failed[at].tolist(), self.rank[at].tolist(),
                    self.ranked[at].tolist(), self.budget_before_kr[at].tolist(), self.budget_after_kr[at].tolist(),
                    self.cap_applicant[at].tolist(), self.cap_count[at].tolist(), self.purpose[at].tolist(),
                    strict=True)):
            code = REASON_CODES[int(code_at)]
            rank, ranked, before, after = int(rank), int(ranked), int(before), int(after)
            who, app_id = str(who), str(app_id)
            out.append(DecisionDetail(
                id=app_id, fund=str(fund), applicants=tuple(applicants), requested_kr=int(requested),
                granted_kr=int(granted), decision=DECISIONS[int(decision)], code=code, failed=tuple(failed),
                rank=rank if rank > 0 else None, ranked=ranked if rank > 0 else None,
                budget_before_kr=before if rank > 0 and before >= 0 else None,
                budget_after_kr=after if rank > 0 and before >= 0 and after >= 0 else None,
                cap_applicant=who or None, cap_count=int(count) if who else None, purpose=str(purpose),
                override_reason=self.overrides[app_id].reason if code is ReasonCode.OVERRIDE else None,
                row_facts={name: str(values[k]) for name, values in facts}))
        return out

    @cached_property
    def details(self) -> tuple[DecisionDetail, ...]:
        """Every row as a typed record (made on demand)."""
        return tuple(self.details_of(np.arange(len(self))))


@dataclass(frozen=True)
class Allocation:
    """The result of `allocate`: the typed table, each fund's ranking, and views made on demand."""

    table: DecisionTable
    ranked_positions: tuple[np.ndarray, ...]  # per fund, the candidates' row positions in rank order
    params: Params = field(repr=False, compare=False)
    _sources: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] = field(repr=False, compare=False)

    @cached_property
    def decisions(self) -> pd.DataFrame:
        """One row per application, in the input's order, with its texts in Swedish and English.

        Columns `DECISION_COLUMNS` (see `fou_review.texts.reasons`); rendered on first use.
        """
        from fou_review.texts.reasons import decisions_frame

        apps, scoring, _ = self._sources
        return decisions_frame(self.table, self.params, titles=apps["title"].to_numpy(),
                               total_score=scoring["total_score"].to_numpy(), sources=apps["source"].to_numpy())

    @cached_property
    def ranked(self) -> pd.DataFrame:
        """The audit trail: each fund's ranked candidates with their scores, in rank order (made on demand)."""
        apps, scoring, eligibility = self._sources
        if not self.ranked_positions:
            return pd.DataFrame()
        at = np.concatenate(self.ranked_positions)
        rank = np.concatenate([np.arange(1, len(p) + 1) for p in self.ranked_positions])
        wide = pd.concat([apps[["id", "fund", "applicants", "requested_kr", "received"]].iloc[at],
                          scoring.iloc[at], eligibility[["eligible"]].iloc[at]], axis=1)
        return wide.assign(_pos=at, rank=rank).reset_index(drop=True)
