"""Eligibility: which applications may be considered at all, each with its reasons.

An ineligible application is a result, not an error: every rule that fails is listed, in the
order the rules are registered below, and the first one is the application's reason code.

Adding a rule: register it here with `@rule(code, facts=...)` on its check (the check gets the
fund's applications as arrays, `RuleInputs`, and the fund; it returns a bool array, True where the
rule fails, or None when the fund does not have the rule); write its text in
`texts/locale/{sv,en}/LC_MESSAGES/core.po` as ``reason.ineligible.<code>`` (placeholders: the
rule's facts, `fund`, and the application's `requested_kr` and `purpose`); and test it. The reason
code, the typed detail (`DecisionDetail.failed`) and the texts all follow from the registration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import chain

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks

from fou_review.core.model import Rule, RuleCheck, RuleFacts, RuleInputs
from fou_review.core.params import Fund, Params

_REGISTRY: list[Rule] = []


def _no_facts(fund: Fund) -> Mapping[str, object]:
    return {}


def rule(code: str, facts: RuleFacts = _no_facts) -> Callable[[RuleCheck], Rule]:
    """Register an eligibility rule (in order: the first failing rule is the reason code)."""
    def register(check: RuleCheck) -> Rule:
        if code in _REGISTRY:
            raise ValueError(f"eligibility rule {code!r} is registered twice")
        registered = Rule(code, check, facts, len(_REGISTRY))
        _REGISTRY.append(registered)
        return registered
    return register


APPROVED_REPORT = ("godkänd", "ej aktuell")


@rule("unknown_applicant")
def unknown_applicant(a: RuleInputs, fund: Fund) -> np.ndarray | None:
    """An applicant is not among the year's administrations (e.g. a name valid another year)."""
    valid = set(a.params.administrations)
    groups = a.applicants
    if valid.issuperset(chain.from_iterable(groups)):  # the common case: all known
        return np.zeros(len(groups), dtype=bool)
    known = {names: set(names) <= valid for names in set(groups)}
    return np.array([not known[names] for names in groups], dtype=bool)


@rule("no_approved_report")
def no_approved_report(a: RuleInputs, fund: Fund) -> np.ndarray | None:
    """No approved report on last year's grant ("ej aktuell": there was no grant).

    Where the report is known from the follow-up ledger (`from_ledger`), the cycle's rules below say
    which grant is owed instead.
    """
    fails = ~np.isin(a.last_report, APPROVED_REPORT)
    if "from_ledger" in a.apps.columns:
        fails &= ~a.apps["from_ledger"].to_numpy(dtype=bool)[a.rows]
    return fails


@rule("outside_window", facts=lambda f: {"opens": f.window.opens.isoformat(), "closes": f.window.closes.isoformat()})
def outside_window(a: RuleInputs, fund: Fund) -> np.ndarray | None:
    """Received before the fund's window opened or after it closed."""
    return (a.received < fund.window.opens.isoformat()) | (a.received > fund.window.closes.isoformat())


@rule("excluded_purpose")
def excluded_purpose(a: RuleInputs, fund: Fund) -> np.ndarray | None:
    """A purpose the fund does not pay for (MUL: courses, conferences)."""
    if not fund.excluded_purposes:
        return None
    return np.asarray(np.isin(a.purpose, list(fund.excluded_purposes)), dtype=bool)


@rule("over_maximum", facts=lambda f: {"max_kr": f.max_amount_kr})
def over_maximum(a: RuleInputs, fund: Fund) -> np.ndarray | None:
    """A request over the fund's maximum, when the fund rejects rather than reduces it."""
    return a.requested_kr > fund.max_amount_kr if fund.over_max == "reject" else None


@rule("project_too_long", facts=lambda f: {"max_years": f.max_project_years})
def project_too_long(a: RuleInputs, fund: Fund) -> np.ndarray | None:
    """A project planned (or already running) for longer than the fund allows."""
    if fund.max_project_years is None:
        return None
    return a.years > fund.max_project_years  # NaN (unknown) compares False


# -- The yearly cycle (core/followup.py, core/cycle.py): what the administration still owes on the
#    grants of the ledger that gates this call, each text naming the grants ("LUM-03 (2022)"). A
#    successor owes what its predecessors owe. Registered last, so older years keep their reasons.


def _owed(a: RuleInputs, column: str) -> np.ndarray | None:
    if column not in a.apps.columns:
        return None  # no ledger gates this year
    return np.asarray(a.apps[column].to_numpy(dtype=object)[a.rows] != "", dtype=bool)


@rule("report_not_approved")
def report_not_approved(a: RuleInputs, fund: Fund) -> np.ndarray | None:
    """A report on an earlier grant of the administration (or a predecessor) was not approved."""
    return _owed(a, "owed_not_approved")


@rule("report_not_received")
def report_not_received(a: RuleInputs, fund: Fund) -> np.ndarray | None:
    """A report on an earlier grant of the administration (or a predecessor) has not come in."""
    return _owed(a, "owed_not_received")


@rule("repayment_owed")
def repayment_owed(a: RuleInputs, fund: Fund) -> np.ndarray | None:
    """Unused money of an earlier grant of the administration (or a predecessor) is not yet repaid."""
    return _owed(a, "owed_repayment")


RULES: tuple[Rule, ...] = tuple(_REGISTRY)  # every rule registered above, in order
_COLUMNS = pd.Index(["eligible", "ineligible"])
_TABLE_MAX_BITS = 16  # up to this many rules, the distinct combinations are looked up in a table


def check_eligibility(apps: pd.DataFrame, params: Params) -> pd.DataFrame:
    """One row per application (same index): `eligible` and `ineligible` (tuple of failed `Rule`s)."""
    n = len(apps)
    mask = np.zeros(n, dtype=np.int64)
    fund_index, fund_codes = pd.factorize(apps["fund"].to_numpy(dtype=object))  # one pass for every fund
    position = {code: k for k, code in enumerate(fund_codes.tolist())}
    for code, fund in params.funds.items():
        rows = np.flatnonzero(fund_index == position[code]) if code in position else np.zeros(0, dtype=np.int64)
        inputs = RuleInputs(apps, params, rows)  # each fund's rules see that fund's rows
        fails = np.zeros(len(rows), dtype=np.int64)
        for r in RULES:
            failed = r.check(inputs, fund)
            if failed is not None:
                fails |= failed.astype(np.int64) << r.bit
        mask[rows] = fails
    # Each distinct combination of failed rules becomes one tuple, shared by the rows that have it.
    if len(RULES) <= _TABLE_MAX_BITS:
        distinct = np.flatnonzero(np.bincount(mask, minlength=1))
        inverse = mask
        tuples = np.empty(1 << len(RULES), dtype=object)
    else:
        distinct, inverse = np.unique(mask, return_inverse=True)
        tuples = np.empty(len(distinct), dtype=object)
    for k, m in enumerate(distinct.tolist()):
        tuples[m if len(RULES) <= _TABLE_MAX_BITS else k] = tuple(r for r in RULES if m >> r.bit & 1)
    failed_rules = tuples[inverse] if n else np.empty(0, dtype=object)
    # The frame made from its two columns as they are (a block each, no copies).
    return create_dataframe_from_blocks([((mask == 0)[None, :], np.array([0], dtype=np.intp)),
                                         (failed_rules[None, :], np.array([1], dtype=np.intp))],
                                        index=apps.index, columns=_COLUMNS)
