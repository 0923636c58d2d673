"""`fou-review followup YEAR`: who owes a report or a repayment on the grants of YEAR, by when, and what is
overdue on a stated day (`as_of`, never the clock, so the same inputs give the same files).

Reads `data/YEAR/followup.csv` (validated against the year's grants) and writes, under
`followup/YEAR/`: `followup.csv`, `followup.xlsx` and `followup.html` (the record's conventions).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from fou_review.atomic import write_atomic
from fou_review.core.cycle import grants_of_year
from fou_review.core.followup import Ledger, Obligation, obligations
from fou_review.core.load import load_followup
from fou_review.texts.catalog import t

COLUMNS = ("id", "fund", "applicants", "owes", "amount_kr", "due", "overdue")


@dataclass(frozen=True)
class FollowupReport:
    """What is owed on a year's grants on a day (`as_of`), from its ledger, and the files written."""

    ledger: Ledger
    owed: tuple[Obligation, ...]
    as_of: dt.date
    written: tuple[Path, ...]
    illustrative: bool


def _owes(o: Obligation, lang: str) -> str:
    if o.kind == "repayment":
        return t(lang, "record", "followup.owes.repayment")
    return t(lang, "record", f"followup.owes.report.{'not_approved' if o.status == 'ej godkänd' else 'not_received'}")


def rows(owed: tuple[Obligation, ...], as_of: dt.date, lang: str) -> list[list[str]]:
    """The owed table as text cells (CSV and Excel write the same)."""
    return [[o.grant_id, o.fund, " & ".join(o.applicants), _owes(o, lang), str(o.amount_kr), o.due.isoformat(),
             t(lang, "record", "followup.overdue" if o.overdue(as_of) else "followup.not_overdue")] for o in owed]


def followup_report(root: Path, year: int, as_of: dt.date, lang: str = "sv", *, write: bool = True) -> FollowupReport:
    """Validate the ledger of `year` and write the owed table as CSV, XLSX and HTML under followup/<year>/."""
    from fou_review.record.cycle_pages import render_followup_page

    root = Path(root)
    grants, _, params = grants_of_year(root, year)
    ledger = load_followup(root, year, grants, params)
    owed = tuple(obligations(ledger))
    illustrative = params.cycle.illustrative_year or any(r.source == "illustrative" for r in ledger.rows)
    written: list[Path] = []
    if write:
        base = root / "followup" / str(year)
        base.mkdir(parents=True, exist_ok=True)
        body = rows(owed, as_of, lang)
        header = [t(lang, "record", f"followup.csv.{c}") for c in COLUMNS]
        note = [t(lang, "record", "cycle.illustrative_year")] if illustrative else []
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(body)
        if note:
            writer.writerow(note + [""] * (len(COLUMNS) - 1))
        write_atomic(base / "followup.csv", out.getvalue().encode("utf-8"))
        write_atomic(base / "followup.xlsx", _xlsx(header, body, note, year, lang))
        page = render_followup_page(ledger, list(owed), as_of, lang, illustrative=illustrative)
        write_atomic(base / "followup.html", page.encode("utf-8"))
        written = [base / "followup.csv", base / "followup.xlsx", base / "followup.html"]
    return FollowupReport(ledger, owed, as_of, tuple(written), illustrative)


def _xlsx(header: list[str], body: list[list[str]], note: list[str], year: int, lang: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t(lang, "record", "followup.sheet", year=year)
    sheet.append(header)
    for r in body:
        sheet.append([int(c) if i == 4 else c for i, c in enumerate(r)])
    if note:
        sheet.append(note)
    book.properties.created = book.properties.modified = dt.datetime(2000, 1, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
