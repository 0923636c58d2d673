"""The summary of an allocation and its checks, computed from the typed decisions table alone.

The checks do not trust the allocator: they recount every cap and sum from the decisions, so a bug
in allocation (or a hand-edited table) shows up as a check that is not met.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fou_review.core.model import DecisionTable
from fou_review.core.params import Params


@dataclass(frozen=True)
class Check:
    """One check recounted from the decisions: a cap or sum (`kind`) of one subject against its limit."""

    fund: str
    kind: str  # "budget", "max_amount", "count_cap", "eligible_only"
    subject: str  # the fund, an application id or an applicant
    limit: int
    value: int
    met: bool


@dataclass(frozen=True)
class FundSummary:
    """One fund's totals: applications and kronor received, applicants, grants, and the budget."""

    fund: str
    received_n: int
    received_kr: int
    applicants_n: int  # distinct administrations among the applicants
    granted_n: int
    granted_kr: int
    budget_kr: int

    @property
    def remaining_kr(self) -> int:
        """The part of the budget not granted."""
        return self.budget_kr - self.granted_kr


@dataclass(frozen=True)
class Summary:
    """The allocation's totals per fund, each applicant's use of the caps, and every check."""

    funds: tuple[FundSummary, ...]
    cap_use: pd.DataFrame  # fund, applicant, granted_n, cap, granted_kr
    checks: tuple[Check, ...]

    @property
    def received_kr(self) -> int:
        """Kronor applied for, all funds together."""
        return sum(f.received_kr for f in self.funds)

    @property
    def granted_kr(self) -> int:
        """Kronor granted, all funds together."""
        return sum(f.granted_kr for f in self.funds)

    @property
    def all_met(self) -> bool:
        """Whether every check is met."""
        return all(c.met for c in self.checks)


def summarise(table: DecisionTable, eligible_ids: set[str], params: Params) -> Summary:
    """Totals per fund, each applicant's use of the caps, and every cap check.

    Only the ids, funds, applicants (tuples of names), requested and granted amounts are read.
    """
    funds: list[FundSummary] = []
    checks: list[Check] = []
    cap_rows: list[dict[str, object]] = []
    for code, fund in params.funds.items():
        mine = table.funds == code
        names: list[tuple[str, ...]] = table.applicants[mine].tolist()
        ids: list[str] = table.ids[mine].tolist()
        granted: list[int] = table.granted_kr[mine].tolist()
        requested: list[int] = table.requested_kr[mine].tolist()
        total = sum(granted)
        funds.append(FundSummary(code, len(ids), sum(requested), len({n for group in names for n in group}),
                                 sum(1 for g in granted if g > 0), total, fund.budget_kr))
        checks.append(Check(code, "budget", code, fund.budget_kr, total, total <= fund.budget_kr))
        for app_id, amount, asked in zip(ids, granted, requested, strict=True):
            if amount > 0:
                limit = min(fund.max_amount_kr, asked)
                checks.append(Check(code, "max_amount", app_id, limit, amount, amount <= limit))
                checks.append(Check(code, "eligible_only", app_id, 1, int(app_id in eligible_ids),
                                    app_id in eligible_ids))
        count: dict[str, int] = {}
        kronor: dict[str, int] = {}
        for group, amount in zip(names, granted, strict=True):
            counted = group if fund.joint_counts_for == "each_partner" else group[:1]
            for name in group:
                kronor.setdefault(name, 0)
                count.setdefault(name, 0)
            if amount > 0:
                for name in counted:
                    count[name] += 1
                for name in group:  # a joint grant is shown in full beside each partner
                    kronor[name] += amount
        for name in sorted(count):
            cap = fund.max_granted_per_applicant
            cap_rows.append({"fund": code, "applicant": name, "granted_n": count[name], "cap": cap,
                             "granted_kr": kronor[name]})
            checks.append(Check(code, "count_cap", name, cap, count[name], count[name] <= cap))
    cap_use = pd.DataFrame(cap_rows, columns=["fund", "applicant", "granted_n", "cap", "granted_kr"])
    return Summary(tuple(funds), cap_use, tuple(checks))
