"""Eligibility: which applications may be considered at all, each with its reasons.

An ineligible application is a result, not an error: every rule that fails is listed, in the
order below, and the first one is the application's reason code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fou_review.core.params import Params

# Order matters: the first failing rule becomes the reason code of the decision.
RULES = ("unknown_applicant", "no_approved_report", "outside_window", "excluded_purpose", "over_maximum",
         "project_too_long")
APPROVED_REPORT = ("godkänd", "ej aktuell")


def check_eligibility(apps: pd.DataFrame, params: Params) -> pd.DataFrame:
    """One row per application (same index): `eligible` and `ineligible` (tuple of failed rule codes)."""
    n = len(apps)
    valid = set(params.administrations)
    groups = apps["applicants"].tolist()
    known = {names: set(names) <= valid for names in set(groups)}  # per distinct group of applicants
    fund = apps["fund"].to_numpy(dtype=object)
    received = apps["received"].to_numpy(dtype=object)
    purpose = apps["purpose"].to_numpy(dtype=object)
    requested = apps["requested_kr"].to_numpy()
    years = np.fmax(apps["planned_years"].to_numpy(dtype=np.float64, na_value=np.nan),
                    apps["project_year"].to_numpy(dtype=np.float64, na_value=np.nan))
    failed = {rule: np.zeros(n, dtype=bool) for rule in RULES}
    failed["unknown_applicant"] = np.array([not known[names] for names in groups], dtype=bool)
    failed["no_approved_report"] = ~apps["last_report"].isin(APPROVED_REPORT).to_numpy(dtype=bool)
    for code, f in params.funds.items():
        mine = fund == code
        failed["outside_window"] |= mine & ((received < f.window.opens.isoformat())
                                            | (received > f.window.closes.isoformat()))
        if f.excluded_purposes:
            failed["excluded_purpose"] |= mine & pd.Series(purpose).isin(f.excluded_purposes).to_numpy(dtype=bool)
        if f.over_max == "reject":
            failed["over_maximum"] |= mine & (requested > f.max_amount_kr)
        if f.max_project_years is not None:
            failed["project_too_long"] |= mine & (years > f.max_project_years)  # NaN compares False
    table = np.column_stack([failed[rule] for rule in RULES]) if n else np.zeros((0, len(RULES)), dtype=bool)
    # Each distinct combination of failed rules becomes one tuple, shared by the rows that have it.
    mask = table.astype(np.int64) @ (1 << np.arange(len(RULES), dtype=np.int64))
    distinct, inverse = np.unique(mask, return_inverse=True)
    tuples = np.empty(len(distinct), dtype=object)
    for k, m in enumerate(distinct.tolist()):
        tuples[k] = tuple(rule for j, rule in enumerate(RULES) if m >> j & 1)
    out = pd.DataFrame(index=apps.index)
    out["eligible"] = mask == 0
    out["ineligible"] = tuples[inverse] if n else np.empty(0, dtype=object)
    return out
