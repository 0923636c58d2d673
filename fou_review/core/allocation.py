"""Allocation: rank, cap and budget each fund's applications, with a typed reason for every decision.

The result is a typed, text-free `DecisionTable` (reason codes, failed rules, ranks, budgets, the
applicant whose cap decided); the texts are rendered from it only where they are shown.

Per fund, in this order:
1. Committee overrides are fixed first: their amounts use budget and caps like any grant, and an
   override that would break the budget or a cap is refused (the call's rules bind the committee's
   departures too; change the parameters instead).
2. The eligible, scored applications are ranked by the year's tie-break keys (a stable sort; ids
   compare in natural order, "LUM-9" before "LUM-10"). A tie left after every key is a `TieError`,
   never a silent choice.
3. Greedy in rank order: a request over the maximum is reduced to it (when the fund reduces
   rather than rejects); an application whose applicant (each partner of a joint application,
   when the fund counts joint applications for each partner) already has the cap of granted
   applications is rejected; one that fits the remaining budget is granted; otherwise it gets the
   remainder when partial grants are allowed and the remainder reaches the minimum, else it is
   rejected and the next one is tried.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fou_review.core.model import CODE, ROW_FACTS, Allocation, DecisionTable, Override, ReasonCode
from fou_review.core.params import Fund, Params
from fou_review.errors import InputError, Problem, TieError

__all__ = ["Allocation", "allocate", "natural_key", "rank_candidates"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[str | int, ...], str]:
    """The order people read ids in: "LUM-9" before "LUM-10" (digit runs compare as numbers).

    Texts and numbers alternate in the same places in every key, so they never meet in a comparison;
    ids equal in that order ("LUM-09", "LUM-9") fall back to the text itself, so the order is total.
    """
    return tuple(int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(text))), text


_AS_ZERO = str.maketrans("123456789", "000000000")


def _natural_order(ids: list[str]) -> list[int]:
    """Positions of `ids` in natural order. Ids of one pattern (digits in the same places, as
    "LUM-01", "LUM-02") are in natural order when sorted as text, which is much faster."""
    if len({i.translate(_AS_ZERO) for i in ids}) <= 1:
        return sorted(range(len(ids)), key=ids.__getitem__)
    return sorted(range(len(ids)), key=lambda k: natural_key(ids[k]))


def _sort_columns(params: Params) -> tuple[list[str], list[bool]]:
    names = {"total_score": "total_score", "received": "received", "requested_kr": "requested_kr", "id": "id"}
    cols, ascending = [], []
    for key in params.tie_break:
        cols.append(names.get(key.key) or f"{key.key.split(':', 1)[1]}_mean")
        ascending.append(not key.descending)
    return cols, ascending


def _sort_key(values: np.ndarray) -> np.ndarray:
    """An order-preserving numeric code for one tie-break column (text keys by their sorted position)."""
    if values.dtype.kind in "fiub":
        return values
    return np.asarray(pd.factorize(values, sort=True)[0])


def _tied(codes: Sequence[np.ndarray], order: np.ndarray) -> np.ndarray:
    """Between neighbours in `order`: equal on every key in `codes`."""
    same = np.ones(max(len(order) - 1, 0), dtype=bool)
    for key in codes:
        values = key[order]
        same &= values[1:] == values[:-1]
    return same


def _ends(same: np.ndarray) -> np.ndarray:
    tied = np.zeros(len(same) + 1, dtype=bool)
    tied[:-1] |= same
    tied[1:] |= same
    return tied


def rank_candidates(keys: Mapping[str, np.ndarray], candidates: np.ndarray, params: Params) -> np.ndarray:
    """The candidates' row positions sorted by the declared keys; TieError if two stay equal.

    `keys` maps each tie-break column to its values for all rows. Ids compare in natural order
    ("LUM-9" before "LUM-10"); as ids are unique, they are only compared where the keys declared
    before `id` leave a tie (so only the few tied ids are put in natural order).
    """
    cols, ascending = _sort_columns(params)
    head = cols.index("id") if "id" in cols else len(cols)
    codes = [key if asc else -key for key, asc in
             ((_sort_key(keys[c][candidates]), a) for c, a in zip(cols[:head], ascending[:head], strict=True))]
    order = np.lexsort(codes[::-1]) if codes else np.arange(len(candidates))  # last key is primary; stable
    same = _tied(codes, order)
    if head < len(cols) and same.any():  # break each tie by id, in natural order
        tied = np.flatnonzero(_ends(same))  # places in `order`, tied blocks one after the other
        block = np.cumsum(np.concatenate(([True], ~same[tied[:-1]] | (np.diff(tied) > 1))))
        ids = [str(i) for i in keys["id"][candidates[order[tied]]].tolist()]
        natural = np.empty(len(ids), dtype=np.int64)
        natural[_natural_order(ids)] = np.arange(len(ids))
        within = np.lexsort((natural if ascending[head] else -natural, block))
        order[tied] = order[tied[within]]
        ids_sorted = [ids[k] for k in within.tolist()]
        block_sorted = block[within]
        same = np.zeros(len(same), dtype=bool)  # ids are unique: only a repeated id stays tied
        for k in range(1, len(ids_sorted)):
            if ids_sorted[k] == ids_sorted[k - 1] and block_sorted[k] == block_sorted[k - 1]:
                same[tied[k - 1]] = True
    ranked = candidates[order]
    if same.any():
        ids_text = ", ".join(keys["id"][ranked[_ends(same)]].astype(str)[:6])
        raise TieError(f"oavgjord rangordning mellan {ids_text} efter alla nycklar i tie_break "
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


_GRANTED, _REDUCED, _PARTIAL = int(CODE[ReasonCode.GRANTED]), int(CODE[ReasonCode.GRANTED_REDUCED]), \
    int(CODE[ReasonCode.GRANTED_PARTIAL])
_CAP, _BUDGET = int(CODE[ReasonCode.REJECTED_CAP]), int(CODE[ReasonCode.REJECTED_BUDGET])


def _greedy(fund: Fund, applicants: list[tuple[str, ...]], requested: np.ndarray, remaining: int,
            used: dict[str, int]) -> tuple[list[int], list[int], list[str], list[int]]:
    """Walk one fund's ranked candidates; per candidate: granted, reason code, full applicant and its count.

    Once the remaining budget is below every request still to come (and no partial grant can be
    made), nothing more is granted and no count changes: the rest are decided without the walk.
    """
    cap, maximum = fund.max_granted_per_applicant, fund.max_amount_kr
    reduce, joint_each = fund.over_max == "reduce", fund.joint_counts_for == "each_partner"
    partial, minimum = fund.remainder.partial, max(fund.remainder.minimum_kr, 1)
    m = len(applicants)
    wants = np.minimum(requested, maximum) if reduce else requested
    below_all = np.minimum.accumulate(wants[::-1])[::-1].tolist()  # the smallest request from here on
    asked, want_list = requested.tolist(), wants.tolist()
    granted = [0] * m
    codes = [_GRANTED] * m
    full = [""] * m
    counts = [0] * m
    count = defaultdict(int, used)
    firsts = [names[0] for names in applicants]
    joint = [len(names) > 1 for names in applicants] if joint_each else [False] * m  # counts for each partner
    i = m
    for k in range(m):
        if remaining < below_all[k] and not (partial and remaining >= minimum):
            i = k
            break  # the rest: see below
        if joint[k]:
            over = [name for name in applicants[k] if count[name] >= cap]
            if over:
                codes[k], full[k], counts[k] = _CAP, over[0], count[over[0]]
                continue
        else:  # the common case: one administration counts
            name = firsts[k]
            if count[name] >= cap:
                codes[k], full[k], counts[k] = _CAP, name, count[name]
                continue
        want = want_list[k]
        if want < asked[k]:
            codes[k] = _REDUCED
        if want > remaining:
            if partial and remaining >= minimum:
                want, codes[k] = remaining, _PARTIAL
            else:
                codes[k] = _BUDGET
                continue
        granted[k] = want
        remaining -= want
        if joint[k]:
            for name in applicants[k]:
                count[name] += 1
        else:
            count[firsts[k]] += 1
    if i < m:  # the rest get nothing: stopped by the count cap if an applicant is full, else by the budget
        at_cap = {name for name, k in count.items() if k >= cap}
        for j in range(i, m):
            hit = next((name for name in applicants[j] if name in at_cap), "") if joint[j] else \
                firsts[j] if firsts[j] in at_cap else ""
            if hit:
                codes[j], full[j], counts[j] = _CAP, hit, count[hit]
            else:
                codes[j] = _BUDGET
    return granted, codes, full, counts


def allocate(apps: pd.DataFrame, eligibility: pd.DataFrame, scoring: pd.DataFrame, params: Params,
             overrides: Sequence[Override] = ()) -> Allocation:
    """Decide every application; see the module docstring for the rule. Writes no text."""
    n = len(apps)
    granted = np.zeros(n, dtype=np.int64)
    code = np.full(n, CODE[ReasonCode.INELIGIBLE], dtype=np.int8)
    rank = np.zeros(n, dtype=np.int64)
    ranked_count = np.zeros(n, dtype=np.int64)
    before = np.full(n, -1, dtype=np.int64)
    after = np.full(n, -1, dtype=np.int64)
    full = np.full(n, "", dtype=object)
    full_count = np.zeros(n, dtype=np.int64)
    by_id = {o.id: o for o in overrides}
    sort_cols, _ = _sort_columns(params)
    ids = apps["id"].to_numpy()
    keys = {c: _sort_key((scoring[c] if c in scoring.columns else apps[c]).to_numpy())  # once for all funds
            for c in sort_cols if c != "id"}
    keys["id"] = ids
    is_override = np.isin(ids, list(by_id)) if by_id else np.zeros(n, dtype=bool)
    eligible = eligibility["eligible"].to_numpy(dtype=bool)
    scored = scoring["total_score"].notna().to_numpy()
    code[eligible & ~scored & ~is_override] = CODE[ReasonCode.NOT_SCORED]
    funds = apps["fund"].to_numpy()
    applicants = apps["applicants"].to_numpy()
    requested = apps["requested_kr"].to_numpy().astype(np.int64)
    ranked_positions: list[np.ndarray] = []
    for fund_code, fund in params.funds.items():
        in_fund = funds == fund_code
        used: dict[str, int] = {}
        fixed = np.flatnonzero(in_fund & is_override)
        spent = _apply_overrides(fund, [(ids[p], applicants[p]) for p in fixed], by_id, used, params)
        for p in fixed:
            granted[p], code[p] = by_id[ids[p]].granted_kr, CODE[ReasonCode.OVERRIDE]
        candidates = np.flatnonzero(in_fund & ~is_override & eligible & scored)
        at = rank_candidates(keys, candidates, params)
        rank[at], ranked_count[at] = np.arange(1, len(at) + 1), len(at)
        got, why, who, how_many = _greedy(fund, applicants[at].tolist(), requested[at], fund.budget_kr - spent,
                                          used)
        got_arr = np.asarray(got, dtype=np.int64)
        left = fund.budget_kr - spent - np.cumsum(got_arr)  # the remaining budget after each candidate's turn
        granted[at], code[at], full[at], full_count[at] = got_arr, why, who, how_many
        before[at], after[at] = left + got_arr, left
        ranked_positions.append(at)
    table = DecisionTable(
        ids=ids, funds=funds, applicants=applicants, requested_kr=requested, granted_kr=granted, code=code,
        failed=eligibility["ineligible"].to_numpy(), rank=rank, ranked=ranked_count, budget_before_kr=before,
        budget_after_kr=after, cap_applicant=full, cap_count=full_count,
        purpose=apps["purpose"].to_numpy(dtype=object), overrides=by_id,
        row_facts={c: apps[c].to_numpy(dtype=object) for c in ROW_FACTS if c in apps.columns})
    return Allocation(table, tuple(ranked_positions), params, (apps, scoring, eligibility))
