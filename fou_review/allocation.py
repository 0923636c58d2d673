"""Allocation: rank, cap and budget each fund's applications, with a reason for every decision.

Per fund, in this order:
1. Committee overrides are fixed first: their amounts use budget and caps like any grant, and an
   override that would break the budget or a cap is refused (the call's rules bind the committee's
   departures too; change the parameters instead).
2. The eligible, scored applications are ranked by the year's tie-break keys (a stable sort). A tie
   left after every key is a `TieError`, never a silent choice.
3. Greedy in rank order: a request over the maximum is reduced to it (when the fund reduces
   rather than rejects); an application whose applicant (each partner of a joint application,
   when the fund counts joint applications for each partner) already has the cap of granted
   applications is rejected; one that fits the remaining budget is granted; otherwise it gets the
   remainder when partial grants are allowed and the remainder reaches the minimum, else it is
   rejected and the next one is tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, Problem, TieError
from .load import Override
from .params import Fund, Params
from .reasons import DECISION_WORDS, explain

DECISION_COLUMNS = ["id", "fund", "applicants", "title", "requested_kr", "granted_kr", "decision", "reason",
                    "reason_code", "reason_en", "decision_en", "rank", "total_score", "budget_before_kr",
                    "budget_after_kr", "source"]


@dataclass(frozen=True)
class Allocation:
    decisions: pd.DataFrame  # one row per application, in the input's order; columns DECISION_COLUMNS
    ranked: pd.DataFrame  # the ranked candidates per fund, in rank order (the audit trail)


def _sort_columns(params: Params) -> tuple[list[str], list[bool]]:
    names = {"total_score": "total_score", "received": "received", "requested_kr": "requested_kr", "id": "id"}
    cols, ascending = [], []
    for key in params.tie_break:
        cols.append(names.get(key.key) or f"{key.key.split(':', 1)[1]}_mean")
        ascending.append(not key.descending)
    return cols, ascending


def rank_candidates(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Sort one fund's candidates by the declared keys; raise TieError if two stay equal."""
    cols, ascending = _sort_columns(params)
    ranked = frame.sort_values(cols, ascending=ascending, kind="stable")
    tied = ranked.duplicated(subset=cols, keep=False)
    if tied.any():
        ids = ", ".join(ranked.loc[tied, "id"].astype(str).head(6))
        raise TieError(f"oavgjord rangordning mellan {ids} efter alla nycklar i tie_break "
                       f"({', '.join(cols)}); lägg till 'id asc' sist i tie_break i params")
    return ranked


def _counted(applicants: Sequence[str], fund: Fund) -> Sequence[str]:
    return applicants if fund.joint_counts_for == "each_partner" else applicants[:1]


def _apply_overrides(fund: Fund, rows: pd.DataFrame, overrides: dict[str, Override], used: dict[str, int],
                     params: Params) -> int:
    spent = 0
    for app_id, applicants in zip(rows["id"], rows["applicants"], strict=True):
        o = overrides[app_id]
        if o.granted_kr == 0:
            continue
        spent += o.granted_kr
        for name in _counted(applicants, fund):
            used[name] = used.get(name, 0) + 1
            if used[name] > fund.max_granted_per_applicant:
                raise InputError([Problem(f"data/{params.year}/overrides.yaml",
                                          f"beslutet för {app_id} ger {name} fler än "
                                          f"{fund.max_granted_per_applicant} beviljade ansökningar i {fund.code}")])
        if o.granted_kr > fund.max_amount_kr:
            raise InputError([Problem(f"data/{params.year}/overrides.yaml",
                                      f"beslutet för {app_id} är över högsta beloppet i {fund.code}")])
    if spent > fund.budget_kr:
        raise InputError([Problem(f"data/{params.year}/overrides.yaml",
                                  f"besluten i {fund.code} överskrider budgeten {fund.budget_kr} kr")])
    return spent


def allocate(apps: pd.DataFrame, eligibility: pd.DataFrame, scoring: pd.DataFrame, params: Params,
             overrides: Sequence[Override] = ()) -> Allocation:
    """Decide every application; see the module docstring for the rule."""
    n = len(apps)
    granted = np.zeros(n, dtype=np.int64)
    code = np.full(n, "", dtype=object)
    rank = np.zeros(n, dtype=np.int64)
    ranked_count = np.zeros(n, dtype=np.int64)
    before = np.full(n, -1, dtype=np.int64)
    after = np.full(n, -1, dtype=np.int64)
    partner = np.full(n, "", dtype=object)
    pos = pd.Series(np.arange(n), index=apps.index)
    by_id = {o.id: o for o in overrides}
    frame = pd.concat([apps[["id", "fund", "applicants", "requested_kr", "received"]], scoring,
                       eligibility["eligible"]], axis=1)
    frame["_pos"] = pos
    is_override = frame["id"].isin(by_id)
    for i in np.flatnonzero(~eligibility["eligible"].to_numpy()):
        code[i] = "ineligible:" + ",".join(eligibility["ineligible"].iat[i])
    unscored = eligibility["eligible"].to_numpy() & scoring["total_score"].isna().to_numpy()
    code[unscored & ~is_override.to_numpy()] = "not_scored"
    ranked_frames = []
    for fund_code, fund in params.funds.items():
        in_fund = frame["fund"] == fund_code
        used: dict[str, int] = {}
        fixed = frame[in_fund & is_override]
        spent = _apply_overrides(fund, fixed, by_id, used, params)
        for app_id, p in zip(fixed["id"], fixed["_pos"], strict=True):
            granted[p], code[p] = by_id[app_id].granted_kr, "override"
        candidates = frame[in_fund & ~is_override & frame["eligible"] & frame["total_score"].notna()]
        ranked = rank_candidates(candidates, params)
        remaining = fund.budget_kr - spent
        total = len(ranked)
        cap, reduce = fund.max_granted_per_applicant, fund.over_max == "reduce"
        joint_each = fund.joint_counts_for == "each_partner"
        for r, (p, applicants, requested) in enumerate(
                zip(ranked["_pos"].to_numpy(), ranked["applicants"], ranked["requested_kr"].to_numpy()), 1):
            rank[p], ranked_count[p], before[p] = r, total, remaining
            counted = applicants if joint_each else applicants[:1]
            full = [a for a in counted if used.get(a, 0) >= cap]
            want = int(requested)
            if reduce and want > fund.max_amount_kr:
                want, why = fund.max_amount_kr, "granted_reduced"
            else:
                why = "granted"
            if full:
                code[p], partner[p] = "rejected_cap", full[0]
            elif want <= remaining:
                granted[p], code[p] = want, why
            elif fund.remainder.partial and remaining > 0 and remaining >= fund.remainder.minimum_kr:
                granted[p], code[p] = remaining, "granted_partial"
            else:
                code[p] = "rejected_budget"
            if granted[p]:
                remaining -= int(granted[p])
                for a in counted:
                    used[a] = used.get(a, 0) + 1
            after[p] = remaining
        ranked_frames.append(ranked.assign(rank=np.arange(1, total + 1)))
    decisions = _decisions_table(apps, scoring, params, granted, code, rank, ranked_count, before, after, partner,
                                 by_id)
    trail = pd.concat(ranked_frames, ignore_index=True) if ranked_frames else pd.DataFrame()
    return Allocation(decisions, trail)


def _decisions_table(apps: pd.DataFrame, scoring: pd.DataFrame, params: Params, granted: np.ndarray,
                     code: np.ndarray, rank: np.ndarray, ranked_count: np.ndarray, before: np.ndarray,
                     after: np.ndarray, partner: np.ndarray, overrides: dict[str, Override]) -> pd.DataFrame:
    requested = apps["requested_kr"].to_numpy()
    decision = np.where(granted == 0, "rejected", np.where(granted < requested, "partly", "granted"))
    reasons_sv, reasons_en = [], []
    for i, (c, app_id, fund_code) in enumerate(zip(code, apps["id"], apps["fund"], strict=True)):
        fund = params.funds[fund_code]
        facts: dict[str, object] = {"rank": int(rank[i]), "ranked": int(ranked_count[i]), "fund": fund_code,
                                    "remaining_kr": int(before[i]), "requested_kr": int(requested[i]),
                                    "max_kr": fund.max_amount_kr, "cap": fund.max_granted_per_applicant,
                                    "partner": partner[i], "opens": fund.window.opens.isoformat(),
                                    "closes": fund.window.closes.isoformat(), "purpose": apps["purpose"].iat[i],
                                    "max_years": fund.max_project_years,
                                    "override_reason": overrides[app_id].reason if app_id in overrides else "",
                                    "joint_sv": ", gemensam ansökan räknas för varje part"
                                    if fund.joint_counts_for == "each_partner" else "",
                                    "joint_en": ", a joint application counting for each partner"
                                    if fund.joint_counts_for == "each_partner" else ""}
        reasons_sv.append(explain(c, facts, "sv"))
        reasons_en.append(explain(c, facts, "en"))
    out = pd.DataFrame({
        "id": apps["id"].to_numpy(), "fund": apps["fund"].to_numpy(),
        "applicants": [" & ".join(a) for a in apps["applicants"]], "title": apps["title"].to_numpy(),
        "requested_kr": requested.astype(np.int64), "granted_kr": granted.astype(np.int64),
        "decision": [DECISION_WORDS[d][0] for d in decision], "reason": reasons_sv,
        "reason_code": [c.split(":", 1)[1].split(",")[0] if c.startswith("ineligible:") else c for c in code],
        "reason_en": reasons_en, "decision_en": [DECISION_WORDS[d][1] for d in decision],
        "rank": pd.array(np.where(rank > 0, rank, 0), dtype="Int64"),
        "total_score": scoring["total_score"].to_numpy(),
        "budget_before_kr": pd.array(before, dtype="Int64"), "budget_after_kr": pd.array(after, dtype="Int64"),
        "source": apps["source"].to_numpy(),
    })
    for col in ("rank", "budget_before_kr", "budget_after_kr"):
        out.loc[out[col] <= 0 if col == "rank" else out[col] < 0, col] = pd.NA
    out.loc[out["rank"].isna(), ["budget_before_kr", "budget_after_kr"]] = pd.NA
    return out[DECISION_COLUMNS]
