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
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

import numpy as np
import pandas as pd

from fou_review.core.model import CODE, ROW_FACTS, Allocation, DecisionTable, Override, ReasonCode
from fou_review.core.params import Fund, Params
from fou_review.errors import InputError, Msg, Problem, TieError

__all__ = ["Allocation", "allocate", "natural_key", "rank_candidates"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[str | int, ...], str]:
    """The order people read ids in: "LUM-9" before "LUM-10" (digit runs compare as numbers).

    Texts and numbers alternate in the same places in every key, so they never meet in a comparison;
    ids equal in that order ("LUM-09", "LUM-9") fall back to the text itself, so the order is total.
    """
    return tuple(int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(text))), text


_AS_ZERO = str.maketrans("123456789", "000000000")


def _natural_ranks(ids: list[str], rows: np.ndarray) -> np.ndarray:
    """Each id's position among `ids` in natural order (equal ids in the order given).

    Ids of one pattern (digits in the same places, as "LUM-01", "LUM-02") are in natural order when
    sorted as text; when they also increase as text with their row positions `rows` (the input's own
    order), that order is it, and no id is compared twice.
    """
    n = len(ids)
    ranks = np.empty(n, dtype=np.int64)
    patterns = "\x00".join(ids).translate(_AS_ZERO).split("\x00")  # one translation for all
    if len(patterns) == n and len(set(patterns)) <= 1:
        by_row = np.argsort(rows, kind="stable")
        in_rows = np.array(ids, dtype=object)[by_row]
        if bool((in_rows[1:] > in_rows[:-1]).all()):
            ranks[by_row] = np.arange(n)
        else:
            ranks[sorted(range(n), key=ids.__getitem__)] = np.arange(n)
        return ranks
    ranks[sorted(range(n), key=lambda k: natural_key(ids[k]))] = np.arange(n)
    return ranks


def natural_order(ids: list[str], rows: np.ndarray) -> np.ndarray:
    """`rows` ordered by their ids (`ids[k]` is the id of `rows[k]`) in natural order, equal ids in the order
    given: what `sorted(rows, key=natural_key of each row's id)` gives, without a key per id where the ids
    share one pattern."""
    ordered = np.empty(len(rows), dtype=np.asarray(rows).dtype)
    ordered[_natural_ranks(ids, np.asarray(rows))] = rows
    return ordered


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


def _sort_key_of(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`_sort_key` for the rows that are ranked (the codes of text keys are compared only among them)."""
    if values.dtype.kind in "fiub":
        return values
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[rows] = pd.factorize(values[rows], sort=True)[0]
    return codes


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


def _dense(values: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Each value's position among the distinct values (equal values share it), and how many there
    are; None when a value is NaN (the general sort handles those)."""
    if values.dtype.kind == "f" and bool(np.isnan(values).any()):
        return None
    if values.dtype.kind == "i" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < 4 * len(values) + 16:  # a small range (coded texts, small numbers): no sort
            return values.astype(np.int64) - low, high - low + 1
    codes, uniques = pd.factorize(values, sort=True)  # hashed, then the few distinct values sorted
    return np.asarray(codes, dtype=np.int64), len(uniques)


_ONE_KEY_FROM = 1024  # from this many candidates on, the keys are sorted as one integer


def _order(codes: Sequence[np.ndarray], m: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable sort of `m` rows by `codes` (the first key primary), and for each neighbour in that
    order whether they are equal on every key.

    The keys are made one integer (each key's dense rank, in mixed radix) when that fits in 63 bits
    with the row's position appended, and sorted once (much faster than a stable sort per key);
    otherwise a lexsort.
    """
    if m < _ONE_KEY_FROM:  # few rows: the per-key sort costs less than coding the keys
        order = np.lexsort(codes[::-1]) if codes else np.arange(m)  # last key is primary; stable
        return order, _tied(codes, order)
    combined = np.zeros(m, dtype=np.int64)
    size = 1
    for key in codes:
        dense = _dense(key)
        if dense is None or size * max(dense[1], 1) * max(m, 1) >= 2**62:
            order = np.lexsort(codes[::-1]) if codes else np.arange(m)  # last key is primary; stable
            return order, _tied(codes, order)
        rank, k = dense
        size *= max(k, 1)
        combined *= max(k, 1)
        combined += rank
    combined *= max(m, 1)
    combined += np.arange(m)  # the position breaks ties: the sort is stable
    ordered = np.sort(combined)
    order = ordered % max(m, 1)
    ordered //= max(m, 1)
    return order, ordered[1:] == ordered[:-1]


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
    order, same = _order(codes, len(candidates))
    if head < len(cols) and same.any():  # break each tie by id, in natural order
        tied = np.flatnonzero(_ends(same))  # places in `order`, tied blocks one after the other
        block = np.cumsum(np.concatenate(([True], ~same[tied[:-1]] | (np.diff(tied) > 1))))
        rows = candidates[order[tied]]
        ids = np.array([str(i) for i in keys["id"][rows].tolist()], dtype=object)
        natural = _natural_ranks(ids.tolist(), rows)
        within = np.lexsort((natural if ascending[head] else -natural, block))
        order[tied] = order[tied[within]]
        ids, block = ids[within], block[within]
        same = np.zeros(len(same), dtype=bool)  # ids are unique: only a repeated id stays tied
        same[tied[:-1][(ids[1:] == ids[:-1]) & (block[1:] == block[:-1])]] = True
    ranked: np.ndarray = candidates[order]
    if same.any():
        ids_text = ", ".join(keys["id"][ranked[_ends(same)]].astype(str)[:6])
        raise TieError(Msg.of("allocation.tie", ids=ids_text, keys=", ".join(cols)))
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
        _refuse_rest(i, applicants, joint, firsts, count, cap, codes, full, counts)
    return granted, codes, full, counts


def _refuse_rest(i: int, applicants: list[tuple[str, ...]], joint: list[bool], firsts: list[str],
                 count: Mapping[str, int], cap: int, codes: list[int], full: list[str], counts: list[int]) -> None:
    """`_greedy`'s candidates from `i` on, once nothing more fits: refused by the cap or the budget."""
    at_cap = {name for name, k in count.items() if k >= cap}
    for j in range(i, len(applicants)):
        hit = next((name for name in applicants[j] if name in at_cap), "") if joint[j] else \
            firsts[j] if firsts[j] in at_cap else ""
        if hit:
            codes[j], full[j], counts[j] = _CAP, hit, count[hit]
        else:
            codes[j] = _BUDGET


# The array walk pays for coding the applicants only in large calls: below this many ranked candidates
# in all, or this few in a fund, the walk goes one by one.
_ARRAY_WALK_FROM = 2_500
_SMALL = 64
_ROUNDS = 16  # after this many budget stops in the array walk, the rest is walked one by one
_SWEEPS = 24  # after this many passes without a settled cap, the rest is walked one by one


@lru_cache(maxsize=8)
def _known_codes(known: tuple[str, ...]) -> tuple[dict[tuple[str, ...], int], dict[str, int]]:
    """The codes of a year's administrations, keyed by the one-name tuple and by the name."""
    return {(name,): k for k, name in enumerate(known)}, {name: k for k, name in enumerate(known)}


@dataclass(frozen=True)
class _Applicants:
    """The applicants of some rows as integer codes (the names in `names`), row by row: row r's
    applicants, in order, are `codes[offset[r]:offset[r] + length[r]]` (a row not coded has length 0)."""

    codes: np.ndarray  # int64
    offset: np.ndarray  # int64 per row
    length: np.ndarray  # int64 per row
    names: list[str]  # code -> name
    several: bool  # some coded row has two or more applicants

    @classmethod
    def code(cls, applicants: np.ndarray, rows: np.ndarray, known: tuple[str, ...]) -> _Applicants:
        """Code `applicants[rows]` (tuples of names): one dictionary look-up per row in the common case
        (one applicant, one of the year's administrations `known`)."""
        single, index = _known_codes(known)
        groups = applicants[rows].tolist()
        first = np.fromiter(map(single.get, groups, repeat(-1)), dtype=np.int64, count=len(groups))
        odd = np.flatnonzero(first < 0).tolist()  # several applicants, or a name not among `known`
        names = list(known)
        length = np.zeros(len(applicants), dtype=np.int64)
        length[rows] = 1
        offset = np.zeros(len(applicants), dtype=np.int64)
        offset[rows] = np.arange(len(rows))
        if not odd:
            return cls(first, offset, length, names, False)
        extra = {name: len(known) + k for k, name in
                 enumerate(dict.fromkeys(n for k in odd for n in groups[k] if n not in index))}
        names.extend(extra)
        lookup = {**index, **extra} if extra else index
        coded = [[lookup[n] for n in groups[k]] for k in odd]
        first[odd] = [c[0] for c in coded]
        more = [(k, c) for k, c in zip(odd, coded, strict=True) if len(c) > 1]
        if not more:
            return cls(first, offset, length, names, False)
        # The extra names of the rows with several go after the first names, row by row.
        at = np.array([k for k, _ in more], dtype=np.int64)
        tails = [c for _, c in more]
        codes = np.concatenate((first, np.array([n for c in tails for n in c], dtype=np.int64)))
        offset[rows[at]] = len(first) + np.concatenate(([0], np.cumsum([len(c) for c in tails])[:-1]))
        length[rows[at]] = [len(c) for c in tails]
        return cls(codes, offset, length, names, True)


def _refused_by_cap(active: np.ndarray, s_row: np.ndarray, s_name: np.ndarray, room: np.ndarray, m: int,
                    several: bool) -> np.ndarray | None:
    """The active rows that the cap refuses while the budget does not bind (None: not settled).

    `s_row`, `s_name`: the (row, name) pairs sorted by name, in rank order within a name; `room`: per
    name, how many more grants it may have. A pair is full when its name already has `room` grants
    among the active rows before it. Rows of one name: the first `room` are granted, so the position
    among the name's active pairs decides at once. A joint application refused by one partner does
    not count for the other: then repeated until nothing changes.
    """
    at = np.flatnonzero(active[s_row])
    a_row, a_name = s_row[at], s_name[at]
    k = len(at)
    start = np.zeros(k, dtype=np.int64)  # where each pair's name starts among the active pairs
    if k:
        new_name = np.flatnonzero(a_name[1:] != a_name[:-1]) + 1
        start[new_name] = new_name
        np.maximum.accumulate(start, out=start)
    a_room = room[a_name]
    full = np.arange(k) - start >= a_room  # as if every active row were granted
    for _ in range(_SWEEPS if several else 1):
        refused = np.zeros(m, dtype=bool)
        refused[a_row[full]] = True
        if not several:
            return refused
        granted = ~refused[a_row]
        before = np.cumsum(granted, dtype=np.int64)
        before -= granted
        before -= before[start]  # granted pairs of the same name before this one
        settled = before >= a_room
        if np.array_equal(settled, full):
            return refused
        full = settled
    return None


def _initial_counts(names: Sequence[str], used: Mapping[str, int]) -> np.ndarray:
    """Per name (in the order of `names`): its grants before the walk (the overrides'), as an array."""
    initial = np.zeros(len(names), dtype=np.int64)
    if used:
        index = {name: c for c, name in enumerate(names)}
        for name, k in used.items():
            if name in index:  # a name with no candidate here cannot refuse one
                initial[index[name]] = k
    return initial


def walk_fund(fund: Fund, at: np.ndarray, requested: np.ndarray, remaining: int, used: Mapping[str, int],
              applicants: np.ndarray, who: _Applicants | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The greedy walk over one fund's ranked candidates `at` (positions in `applicants`, in rank order;
    `requested` theirs): per candidate, granted kronor, reason code, the applicant whose cap refused it
    ("" or None if none) and that applicant's count. In array steps (`_walk`) when the candidates are
    coded (`who`: a large call) and the fund has at least `_SMALL` of them, else one by one (`_greedy`)."""
    if who is None or len(at) < _SMALL:
        got, reasons, names, counts = _greedy(fund, applicants[at].tolist(), requested, remaining, dict(used))
        return (np.asarray(got, dtype=np.int64), np.asarray(reasons, dtype=np.int8), np.array(names, dtype=object),
                np.asarray(counts, dtype=np.int64))
    got_arr, why, name_code, how_many = _walk(fund, who, at, requested, remaining, used, applicants)
    full = np.full(len(at), None, dtype=object)
    refused = np.flatnonzero(name_code >= 0)
    full[refused] = [who.names[c] for c in name_code[refused].tolist()]
    return got_arr, why, full, how_many


def walk_grants(fund: Fund, at: np.ndarray, requested: np.ndarray, remaining: int, used: Mapping[str, int],
                applicants: np.ndarray, who: _Applicants | None) -> np.ndarray:
    """The granted kronor of `walk_fund` alone (int64 per candidate), the reasons not worked out."""
    if who is None or len(at) < _SMALL:
        return np.asarray(_greedy(fund, applicants[at].tolist(), requested, remaining, dict(used))[0], dtype=np.int64)
    return _walk(fund, who, at, requested, remaining, used, applicants, reasons=False)[0]


def _capped(is_granted: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], by_name: np.ndarray,
            starts_at: np.ndarray, room: np.ndarray, several: bool) -> tuple[np.ndarray, np.ndarray]:
    """`_walk`'s candidates refused by the cap, and whose: those not granted with an applicant that was full at
    their turn (the first such, in its order). `pairs`: (candidate, name) in rank order, `by_name` their order
    by name (rank order within a name), `starts_at` where each sorted pair's name starts, `room` its cap left."""
    pair_row, pair_name = pairs
    s_row, s_name = pair_row[by_name], pair_name[by_name]
    x = is_granted[s_row].astype(np.int64)
    before = np.cumsum(x)
    before -= x
    before -= before[starts_at]  # per sorted pair: its name's grants before its row's turn
    hit = (before >= room) & ~is_granted[s_row]
    if not several:
        return s_row[hit], s_name[hit]
    in_order = np.zeros(len(pair_row), dtype=bool)
    in_order[by_name] = hit
    at = np.flatnonzero(in_order)
    at = at[np.concatenate(([True], pair_row[at][1:] != pair_row[at][:-1]))] if len(at) else at
    return pair_row[at], pair_name[at]


def _greedy_coded(fund: Fund, who: _Applicants, rows: np.ndarray, requested: np.ndarray, remaining: int,
                  used: Mapping[str, int], applicants: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`_greedy` with `_walk`'s results: the applicant whose cap refused a candidate by its code in `who.names`."""
    got_list, code_list, full_list, count_list = _greedy(fund, applicants[rows].tolist(), requested, remaining,
                                                         dict(used))
    index = {name: c for c, name in enumerate(who.names)}
    return (np.asarray(got_list, dtype=np.int64), np.asarray(code_list, dtype=np.int8),
            np.array([index[n] if n else -1 for n in full_list], dtype=np.int64),
            np.asarray(count_list, dtype=np.int64))


def _walk(fund: Fund, who: _Applicants, rows: np.ndarray, requested: np.ndarray, remaining: int,
          used: Mapping[str, int], applicants: np.ndarray,
          reasons: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The greedy walk of `_greedy` in array steps, with the same decisions, over one fund's ranked candidates.

    `rows` are the candidates' positions in `who` and `applicants` (their names as tuples), in rank
    order. Returns per candidate: granted, reason code, the code (in `who.names`) of the applicant
    whose cap refused it (-1 if none) and that applicant's count.

    The walk is decided by which candidates are granted: one that is not is refused by the count cap
    when one of its counted applicants already had the cap at its turn, else by the budget. The granted
    ones are found in rounds. While the budget does not bind, a candidate is granted unless one of its
    applicants is full, which is settled for all candidates at once (a joint application refused by
    one partner's cap does not count for the other: this is repeated until nothing changes; as each
    candidate depends only on those before it, the first pass that changes nothing gives the walk's
    answer). The first candidate whose request no longer fits ends the round: it gets the remainder
    as a partial grant when that is allowed, else nothing, and the next round starts after it, among
    the requests that still fit. Many rounds, or a cap that does not settle, leave the rest to the
    one-by-one walk. With `reasons` False, only the granted kronor are worked out (the rest is empty).
    """
    cap, maximum = fund.max_granted_per_applicant, fund.max_amount_kr
    partial, minimum = fund.remainder.partial, max(fund.remainder.minimum_kr, 1)
    m = len(rows)
    wants = np.minimum(requested, maximum) if fund.over_max == "reduce" else requested
    # Whom each grant counts for, as (candidate, name) pairs: in rank order, each row's names in order.
    lead = who.codes[who.offset[rows]]
    several = who.several and fund.joint_counts_for == "each_partner" and bool((who.length[rows] > 1).any())
    if several:
        per_row = who.length[rows]
        pair_row = np.repeat(np.arange(m), per_row)
        starts = np.cumsum(per_row) - per_row
        pair_name = who.codes[who.offset[rows][pair_row] + np.arange(len(pair_row)) - starts[pair_row]]
    else:
        pair_row, pair_name = np.arange(m), lead
    n_names = len(who.names)
    initial = _initial_counts(who.names, used)
    # The pairs grouped by name, in rank order within a name (a radix sort on 16-bit codes).
    by_name = np.argsort(pair_name.astype(np.uint16) if n_names <= 1 << 16 else pair_name, kind="stable")
    s_row, s_name = pair_row[by_name], pair_name[by_name]
    n_pairs = len(s_row)
    starts_at = np.zeros(n_pairs, dtype=np.int64)  # per sorted pair: where its name's pairs start
    if n_pairs:
        new_name = np.flatnonzero(s_name[1:] != s_name[:-1]) + 1
        starts_at[new_name] = new_name
        np.maximum.accumulate(starts_at, out=starts_at)
    room = cap - initial[s_name]
    if several and bool(((s_row[1:] == s_row[:-1]) & (s_name[1:] == s_name[:-1])).any()):  # a name twice in a row
        return _greedy_coded(fund, who, rows, requested, remaining, used, applicants)

    got = np.zeros(m, dtype=np.int64)
    is_granted = np.zeros(m, dtype=bool)
    is_partial = np.zeros(m, dtype=bool)
    count = initial.copy()  # per name: the overrides' and this walk's grants so far
    position, rounds = 0, 0
    while position < m:
        active = np.zeros(m, dtype=bool)
        if partial and remaining >= minimum:
            active[position:] = True
        else:
            np.less_equal(wants[position:], remaining, out=active[position:])
            if not active[position:].any():
                break  # nothing more fits: the rest are refused (by the cap or the budget, below)
        refused = _refused_by_cap(active, s_row, s_name, cap - count, m, several) if rounds < _ROUNDS else None
        if refused is None:  # the rest one by one
            rest_got, rest_codes, _, _ = _greedy(fund, applicants[rows[position:]].tolist(), requested[position:],
                                                 remaining,
                                                 {who.names[c]: k for c, k in enumerate(count.tolist()) if k})
            got[position:] = rest_got
            codes = np.asarray(rest_codes)
            is_granted[position:] = (codes == _GRANTED) | (codes == _REDUCED) | (codes == _PARTIAL)
            is_partial[position:] = codes == _PARTIAL
            break
        granted = active & ~refused
        spent = np.cumsum(np.where(granted[position:], wants[position:], 0))
        over = np.flatnonzero(spent > remaining)
        stop = position + int(over[0]) if len(over) else m
        take = granted[:stop]
        got[:stop][take] = wants[:stop][take]
        is_granted[:stop] |= take
        remaining -= int(spent[stop - position - 1]) if stop > position else 0
        if stop < m and partial and remaining >= minimum:  # the remainder, when allowed
            got[stop], is_granted[stop], is_partial[stop] = remaining, True, True
            remaining = 0
        newly = is_granted[pair_row] & (pair_row >= position) if several else None
        count += np.bincount(pair_name[newly] if newly is not None else lead[position:stop + 1][
            is_granted[position:stop + 1]], minlength=n_names)
        position, rounds = stop + 1, rounds + 1
    if not reasons:
        return got, np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    capped, capped_name = _capped(is_granted, (pair_row, pair_name), by_name, starts_at, room, several)
    code = np.full(m, _BUDGET, dtype=np.int8)
    code[is_granted] = _GRANTED
    code[is_granted & (wants < requested)] = _REDUCED
    code[is_partial] = _PARTIAL
    code[capped] = _CAP
    full_name = np.full(m, -1, dtype=np.int64)
    full_name[capped] = capped_name
    full_count = np.zeros(m, dtype=np.int64)
    if len(capped):  # a full name gets no more grants: its count then is its final count
        final = initial + np.bincount(pair_name[is_granted[pair_row]], minlength=n_names)
        full_count[capped] = final[capped_name]
    return got, code, full_name, full_count


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
    full = np.empty(n, dtype=object)
    full.fill("")
    full_count = np.zeros(n, dtype=np.int64)
    by_id = {o.id: o for o in overrides}
    sort_cols, _ = _sort_columns(params)
    ids = apps["id"].to_numpy()
    is_override = np.isin(ids, list(by_id)) if by_id else np.zeros(n, dtype=bool)
    eligible = eligibility["eligible"].to_numpy(dtype=bool)
    total = scoring["total_score"].to_numpy()
    scored = ~np.isnan(total) if total.dtype.kind == "f" else scoring["total_score"].notna().to_numpy()
    ranked_rows = np.flatnonzero(eligible & scored & ~is_override)  # every fund's candidates
    keys = {c: _sort_key_of(total if c == "total_score" else
                            (scoring[c] if c in scoring.columns else apps[c]).to_numpy(), ranked_rows)
            for c in sort_cols if c != "id"}  # coded once for all funds
    keys["id"] = ids
    code[eligible & ~scored & ~is_override] = CODE[ReasonCode.NOT_SCORED]
    funds = apps["fund"].to_numpy()
    fund_index, fund_codes = pd.factorize(funds)
    applicants = apps["applicants"].to_numpy()
    requested = apps["requested_kr"].to_numpy().astype(np.int64)
    ranked_positions: list[np.ndarray] = []
    who: _Applicants | None = None  # coded on first use
    for fund_code, fund in params.funds.items():
        known = np.flatnonzero(np.asarray(fund_codes, dtype=object) == fund_code)
        in_fund = fund_index == known[0] if len(known) else np.zeros(n, dtype=bool)
        used: dict[str, int] = {}
        fixed = np.flatnonzero(in_fund & is_override)
        spent = _apply_overrides(fund, [(ids[p], applicants[p]) for p in fixed], by_id, used, params)
        for p in fixed:
            granted[p], code[p] = by_id[ids[p]].granted_kr, CODE[ReasonCode.OVERRIDE]
        candidates = np.flatnonzero(in_fund & ~is_override & eligible & scored)
        at = rank_candidates(keys, candidates, params)
        rank[at], ranked_count[at] = np.arange(1, len(at) + 1), len(at)
        if who is None and len(ranked_rows) >= _ARRAY_WALK_FROM and len(at) >= _SMALL:
            who = _Applicants.code(applicants, ranked_rows, params.administrations)  # every fund's, coded once
        got_arr, why, names, how_many = walk_fund(fund, at, requested[at], fund.budget_kr - spent, used, applicants,
                                                  who if len(ranked_rows) >= _ARRAY_WALK_FROM else None)
        full[at] = names
        left = fund.budget_kr - spent - np.cumsum(got_arr)  # the remaining budget after each candidate's turn
        granted[at], code[at], full_count[at] = got_arr, why, how_many
        before[at], after[at] = left + got_arr, left
        ranked_positions.append(at)
    table = DecisionTable(
        ids=ids, funds=funds, applicants=applicants, requested_kr=requested, granted_kr=granted, code=code,
        failed=eligibility["ineligible"].to_numpy(), rank=rank, ranked=ranked_count, budget_before_kr=before,
        budget_after_kr=after, cap_applicant=full, cap_count=full_count,
        purpose=apps["purpose"].to_numpy(dtype=object), overrides=by_id,
        row_facts={c: apps[c].to_numpy(dtype=object) for c in ROW_FACTS if c in apps.columns})
    return Allocation(table, tuple(ranked_positions), params, (apps, scoring, eligibility))
