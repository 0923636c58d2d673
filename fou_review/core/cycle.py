"""From one call to the next: continuations, the ledger that gates a call, names read at a date.

`apply_cycle` is called by `core.load.load_year` once a year's applications are parsed. It

- checks every continuation (an application naming, in `continues`, the id of the previous year's
  grant it continues): the grant exists, same fund, the project year follows, the year is within the
  planned length, the applicant is the same administration or its successor, and a continuation
  cannot say there was no grant last year (`last_report` "ej aktuell");
- applies the follow-up ledger that gates the call (`gating_ledger`; see `core.followup` for the rule): derives each
  application's report status from it, with the grants owed (`owed_*` columns, shown by the rules
  `report_not_approved`, `report_not_received`, `repayment_owed`); a hand-typed `last_report` that
  disagrees with the ledger is a problem naming file, row and column.

`year_warnings` lists what `fou-review validate` warns about: applications outside their fund's
window, names no longer valid when the application came in. `history` sums every year under a
project root onto the administrations of the latest year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fou_review.core.followup import APPROVED, NOT_APPROVED, NOT_RECEIVED, Grant, Ledger, obligations, owed_by
from fou_review.core.params import Params, params_path, renamed_before, resolve_name, successors_map
from fou_review.errors import InputError, Msg, Problem, Value

APPLICABLE_NONE = "ej aktuell"


@dataclass(frozen=True)
class CycleResult:
    """A year's applications after the cycle's checks, the problems found and the ledger applied."""

    applications: pd.DataFrame
    problems: tuple[Problem, ...]
    files: tuple[Path, ...]  # the ledger read, for the manifest
    ledger: Ledger | None


def year_exists(root: Path, year: int) -> bool:
    """Are there parameters and applications for `year` under the root?"""
    data = Path(root) / "data" / str(year)
    return params_path(Path(root), year).is_file() and any(
        (data / name).is_file() for name in ("applications.csv", "applications.xlsx"))


def grants_of_year(root: Path, year: int) -> tuple[dict[str, Grant], pd.DataFrame, Params]:
    """The grants of `year` (by id), all its applications, and its parameters (its inputs reviewed)."""
    from fou_review.core.pipeline import review_year  # the pipeline loads through this module

    review = review_year(root, year)
    table = review.allocation.table
    return (grants_of(review.inputs.applications, table.ids, table.granted_kr, year), review.inputs.applications,
            review.inputs.params)


def grants_of(applications: pd.DataFrame, ids: Iterable[Any], granted_kr: Iterable[Any],
              year: int) -> dict[str, Grant]:
    """The granted applications of `year` (by id), from its applications and the amounts decided for each id."""
    apps = applications.set_index("id", drop=False)
    out: dict[str, Grant] = {}
    for app_id, granted in zip(ids, granted_kr, strict=True):
        if int(granted) > 0:
            a = apps.loc[app_id]
            out[str(app_id)] = Grant(str(app_id), year, str(a["fund"]), tuple(a["applicants"]), int(granted),
                                     str(a["title"]), _opt_int(a["project_year"]), _opt_int(a["planned_years"]))
    return out


def _opt_int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def gating_ledger(root: Path, year: int, params: Params) -> Ledger | None:
    """The ledger that gates the call of `year`: the latest earlier year's ledger whose reports were all
    due before this call's decision date (normally two years back), or None."""
    from fou_review.core.load import load_followup

    for earlier in range(year - 1, year - 4, -1):
        path = Path(root) / "data" / str(earlier) / "followup.csv"
        if not path.is_file() or not year_exists(root, earlier):
            continue
        grants, _, earlier_params = grants_of_year(root, earlier)
        ledger = load_followup(root, earlier, grants, earlier_params)
        if ledger.rows and all(r.report_due < params.decision.date for r in ledger.rows):
            return ledger
    return None


def apply_cycle(root: Path, year: int, params: Params, apps: pd.DataFrame, file: str,
                ledger: Ledger | None) -> CycleResult:
    """Continuations checked and the gating ledger applied to a year's parsed applications (see module)."""
    problems: list[Problem] = []

    def bad(row: int, column: str, msgid: str, **values: Value) -> None:
        problems.append(Problem(file, row=row, column=column, msg=Msg.with_values(msgid, values)))

    apps = apps.copy()
    successor = successors_map(params)
    continues = apps["continues"].astype(str) if "continues" in apps.columns else pd.Series("", index=apps.index)
    labels = [""] * len(apps)
    if continues.ne("").any() or (apps["project_year"].fillna(1) > 1).any():
        previous = year_exists(root, year - 1)
        prev_grants, prev_apps, _ = grants_of_year(root, year - 1) if previous else ({}, None, None)
        prev_ids = set(prev_apps["id"]) if prev_apps is not None else set()
        for i, (_, a) in enumerate(apps.iterrows()):
            row, cont = int(a["row"]), str(a["continues"])
            py = _opt_int(a["project_year"])
            if not cont:
                if previous and py is not None and py > 1:
                    bad(row, "continues", "cont.missing", year=py, previous=year - 1)
                continue
            labels[i] = f"{cont} ({year - 1})"
            if not previous:
                bad(row, "continues", "cont.no_previous_year", id=repr(cont), previous=year - 1)
                continue
            grant = prev_grants.get(cont)
            if grant is None:
                bad(row, "continues", "cont.not_granted" if cont in prev_ids else "cont.unknown", id=repr(cont),
                    previous=year - 1)
                continue
            _check_continuation(a, grant, params, successor, year, bad)
    apps["continues_label"] = labels
    files: list[Path] = []
    if ledger is not None:
        files.append(Path(root) / ledger.file)
        _apply_ledger(apps, ledger, successor, bad)
    return CycleResult(apps, tuple(problems), tuple(files), ledger)


def _check_continuation(a: pd.Series, grant: Grant, params: Params, successor: Mapping[str, str], year: int,
                        bad: Callable[..., None]) -> None:
    """A continuation agrees with last year's grant: same fund, the next project year within the
    planned length, the same administration (or its successor), and a report on that grant."""
    row, cont = int(a["row"]), str(a["continues"])
    py = _opt_int(a["project_year"])
    planned = _opt_int(a["planned_years"])
    if grant.fund != a["fund"]:
        bad(row, "continues", "cont.fund", id=cont, fund=grant.fund)
    expected = (grant.project_year or 1) + 1
    if py != expected:
        bad(row, "project_year", "cont.year_follows", id=cont, value=str(py or ""), expected=expected,
            previous=grant.project_year or 1)
    if py is not None and planned is not None and py > planned:
        bad(row, "project_year", "cont.year_over_planned", year=py, planned=planned)
    then = {successor.get(n, resolve_name(params, n) or n) for n in grant.applicants}
    if then != set(a["applicants"]):
        bad(row, "applicants", "cont.other_applicant", id=cont, granted=" & ".join(grant.applicants),
            expected=" & ".join(sorted(then)))
    if a["last_report"] == APPLICABLE_NONE:
        bad(row, "last_report", "cont.report_not_applicable", id=cont, previous=year - 1)


def _apply_ledger(apps: pd.DataFrame, ledger: Ledger, successor: Mapping[str, str], bad: object) -> None:
    """Derive each application's report status from the ledger; a typed one must agree."""
    owed = owed_by(obligations(ledger), successor)
    had_grant = {successor.get(n, n) for r in ledger.rows for n in r.applicants}
    cols: dict[str, list[str]] = {"owed_not_approved": [], "owed_not_received": [], "owed_repayment": []}
    derived: list[str] = []
    for _, a in apps.iterrows():
        mine = [o for name in a["applicants"] for o in owed.get(name, [])]
        mine = list(dict.fromkeys(mine))
        not_approved = [o.label for o in mine if o.kind == "report" and o.status == NOT_APPROVED]
        not_received = [o.label for o in mine if o.kind == "report" and o.status == NOT_RECEIVED]
        repay = [o.label for o in mine if o.kind == "repayment"]
        cols["owed_not_approved"].append(", ".join(not_approved))
        cols["owed_not_received"].append(", ".join(not_received))
        cols["owed_repayment"].append(", ".join(repay))
        status = (NOT_APPROVED if not_approved else NOT_RECEIVED if not_received
                  else APPROVED if set(a["applicants"]) & had_grant else APPLICABLE_NONE)
        typed = str(a["last_report"])
        if typed and typed != status:
            assert callable(bad)
            bad(int(a["row"]), "last_report", "apps.last_report_differs", value=repr(typed), derived=repr(status),
                ledger=ledger.file, grants=", ".join(not_approved + not_received) or "–")
        derived.append(status)
    for name, values in cols.items():
        apps[name] = values
    apps["last_report"] = derived
    apps["from_ledger"] = True


def year_warnings(apps: pd.DataFrame, params: Params, file: str) -> list[Problem]:
    """What `validate` warns about: an application outside its fund's window, a name that was no longer
    valid when the application came in (read as its successor)."""
    out: list[Problem] = []
    for _, a in apps.iterrows():
        fund = params.funds.get(str(a["fund"]))
        received = dt.date.fromisoformat(str(a["received"])) if a["received"] else None
        if fund is not None and received is not None and not fund.window.contains(received):
            out.append(Problem.of(file, "warn.outside_window", row=int(a["row"]), column="received",
                                  value=received.isoformat(), fund=fund.code, opens=fund.window.opens.isoformat(),
                                  closes=fund.window.closes.isoformat()))
        if received is not None:
            for name in str(a["applicants_as_written"]).split("&"):
                merged = renamed_before(params, name.strip(), received)
                if merged is not None:
                    out.append(Problem.of(file, "warn.name_not_valid", row=int(a["row"]), column="applicants",
                                          name=repr(name.strip()), new=repr(resolve_name(params, name.strip())
                                                                            or merged.new),
                                          since=merged.valid_from.isoformat()))
    return out


def all_outside_window(apps: pd.DataFrame, params: Params) -> bool:
    """Is every application outside its fund's window (a stale copy of another year's files)?"""
    if apps.empty:
        return False
    inside: list[bool] = []
    for f, r in zip(apps["fund"], apps["received"], strict=True):
        try:
            day = dt.date.fromisoformat(str(r))
        except ValueError:
            continue
        if str(f) in params.funds:
            inside.append(params.funds[str(f)].window.contains(day))
    return bool(inside) and not any(inside)


def raise_if(problems: list[Problem]) -> None:
    """Raise one InputError listing `problems`, if there are any."""
    if problems:
        raise InputError(problems)


@dataclass(frozen=True)
class HistoryRow:
    """One administration's applications and grants from one fund in one year (current names)."""

    year: int
    fund: str
    administration: str
    applications_n: int
    granted_n: int
    granted_kr: int


@dataclass(frozen=True)
class History:
    """Every year under a project root up to `last`, mapped onto the administrations of `last`."""

    years: tuple[int, ...]
    funds: tuple[str, ...]
    administrations: tuple[str, ...]  # of the last year
    rows: tuple[HistoryRow, ...]
    mapping: tuple[tuple[str, str], ...]  # (name in an earlier year, name in the last year), where they differ
    population: Mapping[str, int]
    population_source: str
    illustrative_years: tuple[int, ...]
    # Per (year, fund): applications, granted applications, kronor granted (each application once).
    per_year: tuple[tuple[int, str, int, int, int], ...] = ()


YearDecisions = tuple[int, pd.DataFrame, bool]  # (year, its decisions, is the year illustrative)


def earlier_years(root: Path, year: int) -> tuple[tuple[YearDecisions, ...], tuple[Path, ...]]:
    """The decisions of every year before `year` under the root (for the year-over-year history), and
    every file they rest on (their inputs and follow-up ledgers: the run's snapshot must hold them)."""
    from fou_review.core.pipeline import review_year

    out: list[YearDecisions] = []
    files: list[Path] = []
    for y in range(year - 30, year):
        if year_exists(root, y):
            review = review_year(root, y)
            out.append((y, review.decisions[["applicants", "fund", "granted_kr"]].copy(),
                        review.inputs.params.cycle.illustrative_year))
            files += [f for f in review.inputs.files if f not in files]
            ledger = Path(root) / "data" / str(y) / "followup.csv"
            if ledger.is_file() and ledger not in files:
                files.append(ledger)
    return tuple(out), tuple(files)


def earlier_decisions(root: Path, year: int) -> tuple[YearDecisions, ...]:
    """The decisions of every year before `year` under the root."""
    return earlier_years(root, year)[0]


def history(root: Path, last: int) -> History:
    """`history_from` every year under the root up to `last` (reviewed here)."""
    from fou_review.core.load import load_params

    return history_from(load_params(Path(root), last), earlier_decisions(root, last + 1))


def history_from(params: Params, years: tuple[YearDecisions, ...]) -> History:
    """What was applied for and granted per administration, fund and year.

    Names are mapped onto the administrations valid at `params`' decision date through its dated
    alias map. A joint application counts as an application of each partner; its grant is shared
    between them (whole kronor, the remainder to the first named), so the sums stay the sums granted.
    """
    successor = successors_map(params)
    counts: dict[tuple[int, str, str], list[int]] = {}
    illustrative = [y for y, _, flag in years if flag]
    mapping: dict[str, str] = {}
    for year, decisions, _ in years:
        for names, fund, granted in zip(decisions["applicants"], decisions["fund"], decisions["granted_kr"],
                                        strict=True):
            group = [n.strip() for n in str(names).split("&")]
            now = [successor.get(n, n) for n in group]
            for old, new in zip(group, now, strict=True):
                if old != new:
                    mapping[old] = new
            share, rest = divmod(int(granted), len(now))
            for i, name in enumerate(now):
                c = counts.setdefault((year, str(fund), name), [0, 0, 0])
                c[0] += 1
                c[1] += int(granted > 0)
                c[2] += share + (rest if i == 0 else 0)
    rows = tuple(HistoryRow(y, f, a, c[0], c[1], c[2]) for (y, f, a), c in sorted(counts.items()))
    pop = params.cycle.population
    inhabitants: dict[str, int] = {}
    for name, n in (pop.districts.items() if pop else ()):
        current = successor.get(name, name)  # a population given for predecessors adds up to the successor's
        inhabitants[current] = inhabitants.get(current, 0) + n
    per_year = tuple((y, str(f), int((d["fund"] == f).sum()), int(((d["fund"] == f) & (d["granted_kr"] > 0)).sum()),
                      int(d.loc[d["fund"] == f, "granted_kr"].sum()))
                     for y, d, _ in years for f in dict.fromkeys([*params.funds, *d["fund"].astype(str)]))
    return History(tuple(y for y, _, _ in years), tuple(params.funds), params.administrations, rows,
                   tuple(sorted(mapping.items())), inhabitants, pop.source if pop else "", tuple(illustrative),
                   per_year)


def published_totals_agree(params: Params, received: Mapping[str, int], granted: Mapping[str, int]) -> bool:
    """Do the year's parameters give published totals (`published_totals`), and do the computed sums per
    fund (`received`, `granted`: fund -> kr) equal them? Only then may the record say so."""
    totals = params.cycle.published_totals
    return bool(totals) and all(received.get(code) == r and granted.get(code) == g for code, (r, g) in totals.items())
