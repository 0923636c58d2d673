"""The greedy walk in array steps (`allocation._walk`) decides exactly as the one-by-one walk (`_greedy`).

Random funds and ranked candidates: joint applications counted for each partner or the lead only,
caps of 1–3 with counts already used by overrides, requests over the maximum reduced, partial grants
of the remainder with and without a minimum, zero requests, names outside the year's list, a name
twice in one application, and budgets from none to all; also with the array walk's round and sweep
limits at 1, so that its hand-over to the one-by-one walk is exercised too. `walk_grants` (the granted
kronor alone, the reasons not worked out) grants the same, in array steps or one by one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from fou_review.core import allocation
from fou_review.core.allocation import _Applicants, _greedy, _walk, walk_grants
from fou_review.core.params import Fund, Params

KNOWN = tuple(f"Förvaltning {i}" for i in range(12))


def _instance(rng: np.random.Generator, base: Fund) -> tuple[Fund, list[tuple[str, ...]], np.ndarray, int,
                                                             dict[str, int]]:
    m = int(rng.integers(1, 120))
    names = [*KNOWN[:int(rng.integers(2, len(KNOWN) + 1))], "Okänd"]  # "Okänd": not among the year's names
    joint_share = float(rng.choice([0.0, 0.1, 0.5]))
    applicants: list[tuple[str, ...]] = []
    for _ in range(m):
        if rng.random() < joint_share:
            group = tuple(rng.choice(names, size=int(rng.integers(2, 4)), replace=rng.random() < 0.1).tolist())
        else:
            group = (str(rng.choice(names)),)
        applicants.append(group)
    requested = rng.integers(0, 12, m) * int(rng.choice([1, 1_000, 5_000]))
    cap = int(rng.integers(1, 4))
    fund = dataclasses.replace(
        base, max_granted_per_applicant=cap, max_amount_kr=int(rng.choice([5, 8_000, 10**9])),
        over_max=str(rng.choice(["reduce", "reject"])),
        joint_counts_for=str(rng.choice(["each_partner", "lead_only"])),
        remainder=dataclasses.replace(base.remainder, partial=bool(rng.random() < 0.4),
                                      minimum_kr=int(rng.choice([0, 1, 3, 2_000]))))
    budget = int(rng.integers(0, int(requested.sum()) + 2))
    used = {str(n): int(rng.integers(0, cap + 1)) for n in rng.choice(names, size=int(rng.integers(0, 3)))}
    return fund, applicants, requested.astype(np.int64), budget, used


def _both(fund: Fund, applicants: list[tuple[str, ...]], requested: np.ndarray, budget: int,
          used: dict[str, int]) -> None:
    expected = _greedy(fund, applicants, requested, budget, dict(used))
    column = np.empty(len(applicants) + 2, dtype=object)  # two rows that are not candidates
    column[:] = [("Förvaltning 0",), *applicants, ("Okänd",)]
    rows = np.arange(1, len(applicants) + 1)
    who = _Applicants.code(column, rows, KNOWN)
    got, code, name, count = _walk(fund, who, rows, requested, budget, used, column)
    assert got.tolist() == expected[0]
    assert code.tolist() == expected[1]
    assert [who.names[c] if c >= 0 else "" for c in name.tolist()] == expected[2]
    assert count.tolist() == expected[3]
    assert walk_grants(fund, rows, requested, budget, used, column, who).tolist() == expected[0]  # granted alone
    assert walk_grants(fund, rows, requested, budget, used, column, None).tolist() == expected[0]


@pytest.mark.parametrize("limits", [(16, 24), (1, 1)])
def test_the_array_walk_decides_as_the_walk_one_by_one(make_params: Callable[..., Params],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      limits: tuple[int, int]) -> None:
    monkeypatch.setattr(allocation, "_ROUNDS", limits[0])
    monkeypatch.setattr(allocation, "_SWEEPS", limits[1])
    base = next(iter(make_params().funds.values()))
    rng = np.random.default_rng(20220)
    for _ in range(400):
        _both(*_instance(rng, base))


def test_a_long_chain_of_joint_applications(make_params: Callable[..., Params]) -> None:
    """Each joint application's fate hangs on the one before it: the caps settle over many passes
    (or are handed over), and the decisions are still the walk's."""
    base = dataclasses.replace(next(iter(make_params().funds.values())), max_granted_per_applicant=1,
                               joint_counts_for="each_partner")
    applicants = [(KNOWN[k % 12], KNOWN[(k + 1) % 12]) for k in range(40)]
    requested = np.full(40, 10, dtype=np.int64)
    _both(base, applicants, requested, 10**6, {})
    _both(base, applicants, requested, 55, {KNOWN[3]: 1})
