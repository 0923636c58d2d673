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
from .reasons import DECISION_WORDS, explain_many

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
    same = np.ones(max(len(ranked) - 1, 0), dtype=bool)  # sorted on every key: equal rows are neighbours
    for col in cols:
        values = ranked[col].to_numpy()
        same &= values[1:] == values[:-1]
    if same.any():
        tied = np.zeros(len(ranked), dtype=bool)
        tied[:-1] |= same
        tied[1:] |= same
        ids = ", ".join(ranked["id"].to_numpy()[tied].astype(str)[:6])
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


def _greedy(fund: Fund, applicants: list[tuple[str, ...]], requested: list[int], remaining: int,
            used: dict[str, int]) -> tuple[list[int], list[str], list[int], list[int], list[str]]:
    """Walk one fund's ranked candidates; per candidate: granted, code, budget before/after, full partner."""
    cap, maximum = fund.max_granted_per_applicant, fund.max_amount_kr
    reduce, joint_each = fund.over_max == "reduce", fund.joint_counts_for == "each_partner"
    partial, minimum = fund.remainder.partial, fund.remainder.minimum_kr
    granted: list[int] = []
    codes: list[str] = []
    before: list[int] = []
    after: list[int] = []
    partners: list[str] = []
    count = used.get
    for names, want in zip(applicants, requested, strict=True):
        before.append(remaining)
        counted = names if joint_each else names[:1]
        full = next((name for name in counted if count(name, 0) >= cap), "")
        why = "granted"
        if reduce and want > maximum:
            want, why = maximum, "granted_reduced"
        got = 0
        if full:
            why = "rejected_cap"
        elif want <= remaining:
            got = want
        elif partial and remaining > 0 and remaining >= minimum:
            got, why = remaining, "granted_partial"
        else:
            why = "rejected_budget"
        if got:
            remaining -= got
            for name in counted:
                used[name] = count(name, 0) + 1
        granted.append(got)
        codes.append(why)
        after.append(remaining)
        partners.append(full)
    return granted, codes, before, after, partners


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
    sort_cols, _ = _sort_columns(params)
    keys = list(dict.fromkeys(["total_score", *(c for c in sort_cols if c in scoring.columns)]))
    frame = pd.concat([apps[["id", "fund", "applicants", "requested_kr", "received"]], scoring[keys],
                       eligibility["eligible"]], axis=1)  # slim: only what ranking needs
    frame["_pos"] = pos
    is_override = frame["id"].isin(by_id)
    not_eligible = ~eligibility["eligible"].to_numpy()
    code[not_eligible] = ["ineligible:" + ",".join(rules) for rules in eligibility["ineligible"].to_numpy()[not_eligible]]
    unscored = eligibility["eligible"].to_numpy() & scoring["total_score"].isna().to_numpy()
    code[unscored & ~is_override.to_numpy()] = "not_scored"
    ranked_positions: list[np.ndarray] = []
    for fund_code, fund in params.funds.items():
        in_fund = frame["fund"] == fund_code
        used: dict[str, int] = {}
        fixed = frame[in_fund & is_override]
        spent = _apply_overrides(fund, fixed, by_id, used, params)
        for app_id, p in zip(fixed["id"], fixed["_pos"], strict=True):
            granted[p], code[p] = by_id[app_id].granted_kr, "override"
        candidates = frame[in_fund & ~is_override & frame["eligible"] & frame["total_score"].notna()]
        ranked = rank_candidates(candidates, params)
        at = ranked["_pos"].to_numpy()
        rank[at], ranked_count[at] = np.arange(1, len(ranked) + 1), len(ranked)
        greedy = _greedy(fund, ranked["applicants"].tolist(), ranked["requested_kr"].tolist(),
                         fund.budget_kr - spent, used)
        granted[at], code[at], before[at], after[at], partner[at] = greedy
        ranked_positions.append(at)
    decisions = _decisions_table(apps, scoring, params, granted, code, rank, ranked_count, before, after, partner,
                                 by_id)
    wide = pd.concat([apps[["id", "fund", "applicants", "requested_kr", "received"]], scoring,
                      eligibility["eligible"]], axis=1)
    trail = (pd.concat([wide.iloc[at].assign(_pos=at, rank=np.arange(1, len(at) + 1)) for at in ranked_positions],
                       ignore_index=True) if ranked_positions else pd.DataFrame())
    return Allocation(decisions, trail)


def _decisions_table(apps: pd.DataFrame, scoring: pd.DataFrame, params: Params, granted: np.ndarray,
                     code: np.ndarray, rank: np.ndarray, ranked_count: np.ndarray, before: np.ndarray,
                     after: np.ndarray, partner: np.ndarray, overrides: dict[str, Override]) -> pd.DataFrame:
    requested = apps["requested_kr"].to_numpy()
    decision = np.where(granted == 0, "rejected", np.where(granted < requested, "partly", "granted"))
    ids = apps["id"].tolist()
    funds = apps["fund"].tolist()
    reasons = np.array([overrides[i].reason if i in overrides else "" for i in ids] if overrides else
                       [""] * len(ids), dtype=object)
    row_facts: dict[str, np.ndarray] = {
        "rank": rank, "ranked": ranked_count, "remaining_kr": before, "requested_kr": requested.astype(np.int64),
        "partner": partner, "purpose": apps["purpose"].to_numpy(dtype=object), "override_reason": reasons}
    fund_facts: dict[str, dict[str, object]] = {
        fc: {"fund": fc, "max_kr": f.max_amount_kr, "cap": f.max_granted_per_applicant,
             "opens": f.window.opens.isoformat(), "closes": f.window.closes.isoformat(),
             "max_years": f.max_project_years,
             "joint_sv": ", gemensam ansökan räknas för varje part" if f.joint_counts_for == "each_partner" else "",
             "joint_en": ", a joint application counting for each partner"
             if f.joint_counts_for == "each_partner" else ""}
        for fc, f in params.funds.items()}
    reasons_sv, reasons_en = explain_many(code.tolist(), row_facts, funds, fund_facts)
    short = {c: c.split(":", 1)[1].split(",")[0] if c.startswith("ineligible:") else c for c in set(code.tolist())}
    groups = apps["applicants"].tolist()
    joined = {g: " & ".join(g) for g in set(groups)}  # "Rinkeby-Kista & Spånga-Tensta", once per group
    words = np.array([DECISION_WORDS[d] for d in ("granted", "partly", "rejected")], dtype=object)
    which = np.select([decision == "granted", decision == "partly"], [0, 1], 2)
    out = pd.DataFrame({
        "id": apps["id"].to_numpy(), "fund": apps["fund"].to_numpy(),
        "applicants": [joined[a] for a in groups], "title": apps["title"].to_numpy(),
        "requested_kr": requested.astype(np.int64), "granted_kr": granted.astype(np.int64),
        "decision": words[which, 0], "reason": reasons_sv,
        "reason_code": [short[c] for c in code.tolist()],
        "reason_en": reasons_en, "decision_en": words[which, 1],
        "rank": pd.array(np.where(rank > 0, rank, 0), dtype="Int64"),
        "total_score": scoring["total_score"].to_numpy(),
        "budget_before_kr": pd.array(before, dtype="Int64"), "budget_after_kr": pd.array(after, dtype="Int64"),
        "source": apps["source"].to_numpy(),
    })
    for col in ("rank", "budget_before_kr", "budget_after_kr"):
        out.loc[out[col] <= 0 if col == "rank" else out[col] < 0, col] = pd.NA
    out.loc[out["rank"].isna(), ["budget_before_kr", "budget_after_kr"]] = pd.NA
    return out[DECISION_COLUMNS]
