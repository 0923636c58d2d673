"""Eligibility: which applications may be considered at all, each with its reasons.

An ineligible application is a result, not an error: every rule that fails is listed, in the
order below, and the first one is the application's reason code.
"""

from __future__ import annotations

import pandas as pd

from .params import Params

# Order matters: the first failing rule becomes the reason code of the decision.
RULES = ("unknown_applicant", "no_approved_report", "outside_window", "excluded_purpose", "over_maximum",
         "project_too_long")
APPROVED_REPORT = ("godkänd", "ej aktuell")


def check_eligibility(apps: pd.DataFrame, params: Params) -> pd.DataFrame:
    """One row per application (same index): `eligible` and `ineligible` (tuple of failed rule codes)."""
    valid = set(params.administrations)
    fund = apps["fund"]
    failed: dict[str, pd.Series] = {
        "unknown_applicant": apps["applicants"].map(lambda names: not set(names) <= valid),
        "no_approved_report": ~apps["last_report"].isin(APPROVED_REPORT),
    }
    opens = fund.map({c: f.window.opens.isoformat() for c, f in params.funds.items()})
    closes = fund.map({c: f.window.closes.isoformat() for c, f in params.funds.items()})
    failed["outside_window"] = (apps["received"] < opens) | (apps["received"] > closes)
    excluded = {c: set(f.excluded_purposes) for c, f in params.funds.items()}
    failed["excluded_purpose"] = pd.Series(
        [p in excluded[f] for f, p in zip(fund, apps["purpose"], strict=True)], index=apps.index, dtype=bool)
    maximum = fund.map({c: f.max_amount_kr for c, f in params.funds.items()})
    rejects_over = fund.map({c: f.over_max == "reject" for c, f in params.funds.items()}).astype(bool)
    failed["over_maximum"] = rejects_over & (apps["requested_kr"] > maximum)
    longest = fund.map({c: f.max_project_years for c, f in params.funds.items()})
    years = pd.concat([apps["planned_years"], apps["project_year"]], axis=1).max(axis=1)
    failed["project_too_long"] = (longest.notna() & years.notna() & (years > longest)).astype(bool)
    table = pd.DataFrame({rule: failed[rule].fillna(False).astype(bool) for rule in RULES}, index=apps.index)
    out = pd.DataFrame(index=apps.index)
    out["eligible"] = ~table.any(axis=1)
    columns = list(RULES)
    values = table.to_numpy()
    out["ineligible"] = [tuple(columns[j] for j in row.nonzero()[0]) for row in values]
    return out
