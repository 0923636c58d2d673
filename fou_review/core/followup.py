"""The follow-up ledger `data/<year>/followup.csv`: what became of each grant of `<year>`.

Filled in during the year after the grants: the report (due, received, status) and the money (used,
to repay, repaid and when). One row per grant of the year, nothing else:

    id, fund, applicants, granted_kr, report_due, report_status      required
    title, report_received, spent_kr, to_repay_kr, repaid_kr,        optional
    repaid_on, source

`parse_followup` is pure and checks every row against the year's grants (file, row, column). From
a ledger, `obligations` gives what is still owed on a day: a report not approved or not received,
money to repay and not yet repaid; each names its grant.

The documented rule of eligibility (applied by `core.cycle` and the rules in `core.eligibility`):
the call of year N is decided in December of year N-1; the ledger that gates it is that of the
latest grant year whose reports were due before that decision date (normally N-2). An administration
that owes a report or a repayment on any grant of that ledger gets no new money: every application
it is part of is ineligible, with the grant named ("slutrapport för LUM-03 (2022) ej godkänd"). A
grant's administrations are read at the new call's decision date through the dated alias map, so a
successor (Järva) owes what its predecessors (Rinkeby-Kista, Spånga-Tensta) owe.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fou_review.core.tables import Table, require_columns
from fou_review.errors import InputError, Msg, Problem, Value

FOLLOWUP_COLUMNS = ("id", "fund", "applicants", "granted_kr", "report_due", "report_status")
FOLLOWUP_OPTIONAL = ("title", "report_received", "spent_kr", "to_repay_kr", "repaid_kr", "repaid_on", "source")
APPROVED, NOT_APPROVED, NOT_RECEIVED = "godkänd", "ej godkänd", "ej inkommen"
STATUSES = (APPROVED, NOT_APPROVED, NOT_RECEIVED)
_INT = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class Grant:
    """One granted application of a year (what the ledger follows up)."""

    id: str
    year: int
    fund: str
    applicants: tuple[str, ...]  # names valid at that year's decision date
    granted_kr: int
    title: str = ""
    project_year: int | None = None
    planned_years: int | None = None


@dataclass(frozen=True)
class LedgerRow:
    """One grant's follow-up."""

    @property
    def repay_left_kr(self) -> int:
        """What is still to be repaid: the amount to repay less what has been repaid."""
        return self.to_repay_kr - self.repaid_kr

    id: str
    year: int
    fund: str
    applicants: tuple[str, ...]
    granted_kr: int
    report_due: dt.date
    report_status: str
    report_received: dt.date | None
    spent_kr: int | None
    to_repay_kr: int
    repaid_kr: int
    repaid_on: dt.date | None
    title: str
    source: str
    row: int


@dataclass(frozen=True)
class Ledger:
    """A year's follow-up ledger: its file (relative to the project root) and rows."""

    file: str
    year: int
    rows: tuple[LedgerRow, ...]
    repay_by: dt.date  # the year's repayment deadline (params: decision.repayment_deadline)


@dataclass(frozen=True)
class Obligation:
    """Something an administration still owes on a grant: a report, or money to repay."""

    grant_id: str
    year: int
    fund: str
    applicants: tuple[str, ...]  # as in the ledger (names of the grant's year)
    kind: str  # "report" or "repayment"
    status: str  # a report's status (ej godkänd, ej inkommen); "" for a repayment
    due: dt.date
    amount_kr: int  # a repayment's amount still owed; 0 for a report

    @property
    def label(self) -> str:
        """The grant in words no language changes: "LUM-03 (2022)"."""
        return f"{self.grant_id} ({self.year})"

    def overdue(self, as_of: dt.date) -> bool:
        """Whether the obligation was due before `as_of`."""
        return self.due < as_of


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


class _LedgerCheck:
    """A ledger's problems (file, row, column) as its cells are read, and the readers of its cells."""

    def __init__(self, file: str, decided: dt.date, problems: list[Problem]) -> None:
        self.file, self.decided, self.problems = file, decided, problems

    def bad(self, row: int, column: str, msgid: str, **values: Value) -> None:
        """Note a problem in `column` of `row`."""
        self.problems.append(Problem(self.file, row=row, column=column, msg=Msg.with_values(msgid, values)))

    def amount(self, row: int, v: Mapping[str, str], column: str) -> int | None:
        """Whole kronor in `column` (spaces allowed), None when empty or not a whole number."""
        text = v.get(column, "").replace("\u00a0", "").replace(" ", "")
        if not text:
            return None
        if not _INT.match(text):
            self.bad(row, column, "apps.amount_whole", value=repr(v[column]))
            return None
        return int(text)

    def day(self, row: int, v: Mapping[str, str], column: str) -> dt.date | None:
        """An ISO date in `column`, None when empty or not a date; not before the decision date."""
        text = v.get(column, "")
        if not text:
            return None
        found = _date(text)
        if found is None:
            self.bad(row, column, "expected.date", value=repr(text))
        elif found < self.decided:
            self.bad(row, column, "followup.before_decision", value=found.isoformat(),
                     decided=self.decided.isoformat())
        return found


def _check_grant(c: _LedgerCheck, row: int, v: Mapping[str, str], grants: Mapping[str, Grant], year: int,
                 first: dict[str, int]) -> tuple[Grant | None, int]:
    """The row's grant (id known and not twice, fund and amount as granted) and the amount granted."""
    gid = v["id"]
    grant = grants.get(gid)
    if grant is None:
        c.bad(row, "id", "followup.unknown_grant", id=repr(gid), year=year)
    elif gid in first:
        c.bad(row, "id", "followup.id_twice", id=repr(gid), first=first[gid])
    else:
        first[gid] = row
    granted = c.amount(row, v, "granted_kr")
    if grant is not None:
        if v["fund"] != grant.fund:
            c.bad(row, "fund", "followup.differs", value=repr(v["fund"]), granted=repr(grant.fund), id=gid)
        if granted is not None and granted != grant.granted_kr:
            c.bad(row, "granted_kr", "followup.differs", value=repr(v["granted_kr"]),
                  granted=repr(str(grant.granted_kr)), id=gid)
    return grant, grant.granted_kr if grant is not None else (granted or 0)


def _check_report(c: _LedgerCheck, row: int, v: Mapping[str, str]) -> tuple[dt.date | None, str, dt.date | None]:
    """The report's due date, status and received date, consistent with each other."""
    due = c.day(row, v, "report_due")
    if due is None and not v["report_due"]:
        c.bad(row, "report_due", "followup.required")
    status = v["report_status"]
    if status not in STATUSES:
        c.bad(row, "report_status", "expected.one_of", choices=", ".join(STATUSES), value=repr(status))
    received = c.day(row, v, "report_received")
    if status in (APPROVED, NOT_APPROVED) and not v.get("report_received", ""):
        c.bad(row, "report_received", "followup.received_required", status=status)
    if status == NOT_RECEIVED and received is not None:
        c.bad(row, "report_received", "followup.received_but_missing", value=received.isoformat())
    return due, status, received


def _owed(c: _LedgerCheck, row: int, total: int, spent: int | None, to_repay: int | None) -> int:
    """What is to be repaid: `to_repay_kr` as written, else what was not spent; both within the grant."""
    if spent is not None and spent > total:
        c.bad(row, "spent_kr", "followup.over_granted", value=spent, granted=total)
    if to_repay is not None and to_repay > total:
        c.bad(row, "to_repay_kr", "followup.over_granted", value=to_repay, granted=total)
    elif spent is not None and spent <= total and to_repay is not None and to_repay != total - spent:
        c.bad(row, "to_repay_kr", "followup.repay_sum", value=to_repay, granted=total, spent=spent,
              expected=total - spent)
    return to_repay if to_repay is not None else (total - spent if spent is not None and spent <= total else 0)


def _check_money(c: _LedgerCheck, row: int, v: Mapping[str, str],
                 total: int) -> tuple[int | None, int, int, dt.date | None]:
    """The money of a grant: spent, owed, repaid (not over what is owed) and when it was repaid."""
    spent = c.amount(row, v, "spent_kr")
    to_repay = c.amount(row, v, "to_repay_kr")
    repaid = c.amount(row, v, "repaid_kr") or 0
    owed = _owed(c, row, total, spent, to_repay)
    if repaid > total:
        c.bad(row, "repaid_kr", "followup.over_granted", value=repaid, granted=total)
    elif repaid > owed:
        c.bad(row, "repaid_kr", "followup.repaid_over_owed", value=repaid, owed=owed)
    repaid_on = c.day(row, v, "repaid_on")
    if repaid > 0 and not v.get("repaid_on", ""):
        c.bad(row, "repaid_on", "followup.repaid_on_required")
    if repaid == 0 and repaid_on is not None:
        c.bad(row, "repaid_on", "followup.repaid_on_without")
    return spent, owed, repaid, repaid_on


def parse_followup(table: Table, year: int, grants: Mapping[str, Grant], decided: dt.date,
                   repay_by: dt.date) -> Ledger:
    """Validate a ledger against the year's grants; an InputError naming file, row and column otherwise.

    `decided` is the year's decision date (nothing in the ledger can happen before it).
    """
    f = table.file
    problems = require_columns(table, FOLLOWUP_COLUMNS, FOLLOWUP_OPTIONAL)
    if problems:
        raise InputError(problems)
    c = _LedgerCheck(f, decided, problems)
    out: list[LedgerRow] = []
    first: dict[str, int] = {}
    for row, v in table.rows:
        grant, total = _check_grant(c, row, v, grants, year, first)
        due, status, received = _check_report(c, row, v)
        spent, owed, repaid, repaid_on = _check_money(c, row, v, total)
        source = v.get("source", "") or "published"
        if source not in ("published", "illustrative"):
            c.bad(row, "source", "apps.source", value=repr(source))
        if grant is not None and due is not None:
            out.append(LedgerRow(v["id"], year, grant.fund, grant.applicants, total, due, status, received, spent,
                                 owed, repaid, repaid_on, v.get("title", "") or grant.title, source, row))
    missing = sorted(set(grants) - set(first))
    if missing:
        problems.append(Problem.of(f, "followup.grants_missing", ids=", ".join(missing), year=year))
    if problems:
        raise InputError(problems)
    return Ledger(f, year, tuple(out), repay_by)


def obligations(ledger: Ledger) -> list[Obligation]:
    """What is still owed on the ledger's grants (in the ledger's order): reports not approved,
    money to repay not yet repaid."""
    out: list[Obligation] = []
    for r in ledger.rows:
        if r.report_status != APPROVED:
            out.append(Obligation(r.id, r.year, r.fund, r.applicants, "report", r.report_status, r.report_due, 0))
        if r.repay_left_kr > 0:
            out.append(Obligation(r.id, r.year, r.fund, r.applicants, "repayment", "", ledger.repay_by,
                                  r.repay_left_kr))
    return out


def owed_by(obligations_: Sequence[Obligation], successor: Mapping[str, str]) -> dict[str, list[Obligation]]:
    """Each administration (named as `successor` maps the grant's names) -> what it owes.

    A successor owes what each of its predecessors owes; a joint grant's obligation is each partner's.
    """
    out: dict[str, list[Obligation]] = {}
    for o in obligations_:
        for name in dict.fromkeys(successor.get(n, n) for n in o.applicants):
            out.setdefault(name, []).append(o)
    return out


def ledger_template_rows(grants: Sequence[Grant], report_due: dt.date) -> list[dict[str, str]]:
    """The rows of a new, unfilled ledger for these grants (report not yet received, nothing repaid)."""
    return [{"id": g.id, "fund": g.fund, "applicants": " & ".join(g.applicants), "title": g.title,
             "granted_kr": str(g.granted_kr), "report_due": report_due.isoformat(), "report_status": NOT_RECEIVED,
             "report_received": "", "spent_kr": "", "to_repay_kr": "", "repaid_kr": "", "repaid_on": "",
             "source": ""} for g in grants]


LEDGER_FILE_COLUMNS = ("id", "fund", "applicants", "title", "granted_kr", "report_due", "report_status",
                       "report_received", "spent_kr", "to_repay_kr", "repaid_kr", "repaid_on", "source")
