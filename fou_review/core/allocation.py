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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from fou_review.core.load import Override
from fou_review.core.params import Fund, Params
from fou_review.errors import InputError, Problem, TieError
from fou_review.texts.reasons import DECISION_WORDS, explain_many

DECISION_COLUMNS = ["id", "fund", "applicants", "title", "requested_kr", "granted_kr", "decision", "reason",
                    "reason_code", "reason_en", "decision_en", "rank", "total_score", "budget_before_kr",
                    "budget_after_kr", "source"]


@dataclass(frozen=True)
class Allocation:
    decisions: pd.DataFrame  # one row per application, in the input's order; columns DECISION_COLUMNS
    ranked_positions: tuple[np.ndarray, ...]  # per fund, the candidates' row positions in rank order
    _sources: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] = field(repr=False, compare=False)

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


def _sort_columns(params: Params) -> tuple[list[str], list[bool]]:
    names = {"total_score": "total_score", "received": "received", "requested_kr": "requested_kr", "id": "id"}
    cols, ascending = [], []
    for key in params.tie_break:
        cols.append(names.get(key.key) or f"{key.key.split(':', 1)[1]}_mean")
        ascending.append(not key.descending)
    return cols, ascending


def _sort_key(values: np.ndarray, positions: np.ndarray | None) -> np.ndarray:
    """An order-preserving numeric code for one tie-break column (text keys by their sorted position)."""
    if values.dtype.kind in "fiub":
        return values
    if positions is not None:  # the id column, already in ascending order: its position is its rank
        return positions
    return np.asarray(pd.factorize(values, sort=True)[0])


def rank_candidates(keys: Mapping[str, np.ndarray], candidates: np.ndarray, params: Params,
                    ids_ascending: bool = False) -> np.ndarray:
    """The candidates' row positions sorted by the declared keys; TieError if two stay equal.

    `keys` maps each tie-break column to its values for all rows; `ids_ascending` says the ids rise
    with the row position, so `id` sorts by position without comparing texts.
    """
    cols, ascending = _sort_columns(params)
    codes = []
    for col, asc in zip(cols, ascending, strict=True):
        key = _sort_key(keys[col][candidates], candidates if col == "id" and ids_ascending else None)
        codes.append(key if asc else -key)
    order = np.lexsort(codes[::-1]) if codes else np.arange(len(candidates))  # last key is primary; stable
    same = np.ones(max(len(order) - 1, 0), dtype=bool)  # sorted on every key: equal rows are neighbours
    for key in codes:
        values = key[order]
        same &= values[1:] == values[:-1]
    ranked = candidates[order]
    if same.any():
        tied = np.zeros(len(ranked), dtype=bool)
        tied[:-1] |= same
        tied[1:] |= same
        ids = ", ".join(keys["id"][ranked[tied]].astype(str)[:6])
        raise TieError(f"oavgjord rangordning mellan {ids} efter alla nycklar i tie_break "
                       f"({', '.join(cols)}); lägg till 'id asc' sist i tie_break i params")
    return ranked


def _counted(applicants: Sequence[str], fund: Fund) -> Sequence[str]:
    return applicants if fund.joint_counts_for == "each_partner" else applicants[:1]


def _apply_overrides(fund: Fund, rows: list[tuple[str, tuple[str, ...]]], overrides: dict[str, Override],
                     used: dict[str, int], params: Params) -> int:
    spent = 0
    for app_id, applicants in rows:
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
    m = len(requested)
    granted = [0] * m
    codes = ["granted"] * m
    before = [0] * m
    partners = [""] * m
    count = used.get
    for i in range(m):
        names = applicants[i]
        before[i] = remaining
        if len(names) == 1 or not joint_each:  # the common case: one administration counts
            name = names[0]
            if count(name, 0) >= cap:
                codes[i], partners[i] = "rejected_cap", name
                continue
        else:
            full = [name for name in names if count(name, 0) >= cap]
            if full:
                codes[i], partners[i] = "rejected_cap", full[0]
                continue
        want = requested[i]
        if reduce and want > maximum:
            want, codes[i] = maximum, "granted_reduced"
        if want > remaining:
            if partial and remaining > 0 and remaining >= minimum:
                want, codes[i] = remaining, "granted_partial"
            else:
                codes[i] = "rejected_budget"
                continue
        granted[i] = want
        remaining -= want
        if len(names) == 1 or not joint_each:
            used[names[0]] = count(names[0], 0) + 1
        else:
            for name in names:
                used[name] = count(name, 0) + 1
    after = [b - g for b, g in zip(before, granted, strict=True)]
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
    by_id = {o.id: o for o in overrides}
    sort_cols, _ = _sort_columns(params)
    ids = apps["id"].to_numpy()
    keys = {c: (scoring[c] if c in scoring.columns else apps[c]).to_numpy() for c in sort_cols}
    keys["id"] = ids
    ids_ascending = bool((ids[1:] > ids[:-1]).all())  # strictly: no two ids alike
    is_override = np.isin(ids, list(by_id)) if by_id else np.zeros(n, dtype=bool)
    eligible = eligibility["eligible"].to_numpy(dtype=bool)
    scored = scoring["total_score"].notna().to_numpy()
    code[~eligible] = ["ineligible:" + ",".join(rules) for rules in eligibility["ineligible"].to_numpy()[~eligible]]
    code[eligible & ~scored & ~is_override] = "not_scored"
    funds = apps["fund"].to_numpy()
    applicants = apps["applicants"].to_numpy()
    requested = apps["requested_kr"].to_numpy()
    ranked_positions: list[np.ndarray] = []
    for fund_code, fund in params.funds.items():
        in_fund = funds == fund_code
        used: dict[str, int] = {}
        fixed = np.flatnonzero(in_fund & is_override)
        spent = _apply_overrides(fund, [(ids[p], applicants[p]) for p in fixed], by_id, used, params)
        for p in fixed:
            granted[p], code[p] = by_id[ids[p]].granted_kr, "override"
        candidates = np.flatnonzero(in_fund & ~is_override & eligible & scored)
        at = rank_candidates(keys, candidates, params, ids_ascending)
        rank[at], ranked_count[at] = np.arange(1, len(at) + 1), len(at)
        greedy = _greedy(fund, applicants[at].tolist(), requested[at].tolist(), fund.budget_kr - spent, used)
        granted[at], code[at], before[at], after[at], partner[at] = greedy
        ranked_positions.append(at)
    decisions = _decisions_table(apps, scoring, params, granted, code, rank, ranked_count, before, after, partner,
                                 by_id)
    return Allocation(decisions, tuple(ranked_positions), (apps, scoring, eligibility))


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
    unranked = rank <= 0
    no_budget = unranked | (before < 0)

    def optional(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)

    out = pd.DataFrame({
        "id": apps["id"].to_numpy(), "fund": apps["fund"].to_numpy(),
        "applicants": [joined[a] for a in groups], "title": apps["title"].to_numpy(),
        "requested_kr": requested.astype(np.int64), "granted_kr": granted.astype(np.int64),
        "decision": words[which, 0], "reason": reasons_sv,
        "reason_code": [short[c] for c in code.tolist()],
        "reason_en": reasons_en, "decision_en": words[which, 1],
        "rank": optional(rank, unranked), "total_score": scoring["total_score"].to_numpy(),
        "budget_before_kr": optional(before, no_budget), "budget_after_kr": optional(after, no_budget | (after < 0)),
        "source": apps["source"].to_numpy(),
    }, columns=DECISION_COLUMNS)
    return out
