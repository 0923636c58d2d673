"""`fou-review new-year YEAR`: start a year's call from the previous year's.

Writes, refusing to overwrite anything:

- ``params/YEAR.yaml`` from ``params/YEAR-1.yaml``: every date of the call moved a year (the alias
  map's dates are history and stay), the administrations valid at the new call's decision date (read
  through the dated alias map), each one-off value (``one_off:``) reset to its normal value, and the
  year numbers of the prose moved a year. What the analyst must confirm is listed at the top of the
  file and returned (`NewYear.confirm`).
- ``data/YEAR/applications.csv`` (the header) and ``data/YEAR/applications_template.xlsx`` (the
  columns with their types and drop-down lists as data validation).
- ``data/YEAR-1/followup.csv``: the follow-up ledger of the previous year's grants, unfilled.
- ``calls/YEAR/utlysning.html`` and ``.pdf``: the call sent to the districts, made from the new
  parameters (`write_call` remakes it after the parameters are edited).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fou_review.atomic import write_atomic
from fou_review.core.cycle import grants_of_year, year_exists
from fou_review.core.followup import LEDGER_FILE_COLUMNS, ledger_template_rows
from fou_review.core.load import load_params
from fou_review.core.params import Params, params_path, parse_params_from_string, successor_on
from fou_review.errors import FouReviewError, Msg
from fou_review.texts.catalog import t

TEMPLATE_COLUMNS = ("id", "fund", "applicants", "title", "requested_kr", "received", "purpose", "project_year",
                    "planned_years", "continues", "last_report", "contact_person", "source", "illustrative_fields")
PURPOSES = ("studiebesök", "studieresa", "kurs", "konferens")
REPORTS = ("godkänd", "ej godkänd", "ej inkommen", "ej aktuell")


class NewYearError(FouReviewError):
    """The new year cannot be started (a file would be overwritten, no previous year)."""


@dataclass(frozen=True)
class NewYear:
    """A started year: its number, the files written, what the analyst must confirm, and its administrations."""

    year: int
    written: tuple[Path, ...]
    confirm: tuple[Msg, ...]  # what the analyst must confirm in params/YEAR.yaml
    administrations: tuple[str, ...]


def moved(day: dt.date, years: int = 1) -> dt.date:
    """The same day `years` later (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def _shift_years(text: str, old: int) -> str:
    """Year numbers of prose moved a year: old-1 -> old, old -> old+1 (in one pass)."""
    return re.sub(rf"\b({old - 1}|{old})\b", lambda m: str(int(m.group()) + 1), text)


def _next_decision(decision: dict[str, Any], old: int) -> dict[str, Any]:
    """The decision's dates a year later, year numbers of its titles moved, its date illustrative."""
    decision = dict(decision)
    for key in ("date", "repayment_deadline"):
        day = _as_date(decision.get(key))
        if day is not None:
            decision[key] = moved(day)
    for key in ("title_sv", "title_en"):
        if isinstance(decision.get(key), str):
            decision[key] = _shift_years(decision[key], old)
    decision["date_source"] = "illustrative"
    return decision


def _next_funds(funds: dict[str, Any]) -> dict[str, Any]:
    """The funds with their windows a year later."""
    out: dict[str, Any] = {}
    for code, fund in funds.items():
        fund = dict(fund)
        window = dict(fund["window"])
        for key in ("opens", "closes"):
            day = _as_date(window.get(key))
            if day is not None:
                window[key] = moved(day)
        fund["window"] = window
        out[code] = fund
    return out


def _undo_one_offs(data: dict[str, Any], out: dict[str, Any], confirm: list[Msg]) -> None:
    """Set each one-off value (`one_off:`) back to its normal value in `out`, to be confirmed."""
    for item in data.get("one_off") or []:
        path = str(item["key"]).split(".")
        node: Any = out
        for part in path[:-1]:
            node[part] = dict(node[part])
            node = node[part]
        confirm.append(Msg.of("newyear.confirm.one_off", domain="cli", key=item["key"], old=str(node[path[-1]]),
                              normal=str(item["normal"])))
        node[path[-1]] = item["normal"]


def next_params_data(data: dict[str, Any], prev: Params) -> tuple[dict[str, Any], list[Msg], tuple[str, ...]]:
    """The new year's parameters (as YAML data) from the previous year's, and what to confirm."""
    year = prev.year + 1
    confirm: list[Msg] = []
    out = dict(data)
    out["year"] = year
    decision = _next_decision(out["decision"], prev.year)
    out["decision"] = decision
    confirm.append(Msg.of("newyear.confirm.dnr", domain="cli", dnr=str(decision.get("dnr", ""))))
    confirm.append(Msg.of("newyear.confirm.dates", domain="cli", date=str(decision.get("date", ""))))
    out["funds"] = _next_funds(out["funds"])
    _undo_one_offs(data, out, confirm)
    out.pop("one_off", None)
    out.pop("published_totals", None)
    follow = out.get("followup")
    if isinstance(follow, dict) and _as_date(follow.get("report_due")) is not None:
        out["followup"] = {**follow, "report_due": moved(_as_date(follow["report_due"]) or dt.date.min)}
    new_date = _as_date(decision.get("date")) or prev.decision.date
    names: list[str] = []
    for name in prev.administrations:
        now = successor_on(prev, name, new_date)
        if now not in names:
            names.append(now)
    out["administrations"] = names
    changed = [n for n in prev.administrations if n not in names]
    if changed:
        confirm.append(Msg.of("newyear.confirm.administrations", domain="cli", old=", ".join(changed),
                              new=", ".join(n for n in names if n not in prev.administrations)))
    text = out.get("decision_text")
    if isinstance(text, dict):
        out["decision_text"] = _shift_prose(text, prev.year)
        confirm.append(Msg.of("newyear.confirm.prose", domain="cli"))
    if out.get("population"):
        confirm.append(Msg.of("newyear.confirm.population", domain="cli", as_of=str(out["population"].get("as_of"))))
    return out, confirm, tuple(names)


def _shift_prose(node: Any, old: int) -> Any:
    if isinstance(node, str):
        return _shift_years(node, old)
    if isinstance(node, list):
        return [_shift_prose(x, old) for x in node]
    if isinstance(node, dict):
        return {k: _shift_prose(v, old) for k, v in node.items()}
    return node


def params_text(data: dict[str, Any], confirm: list[Msg], prev_year: int, lang: str) -> str:
    """The YAML text of the new parameters, headed by what to confirm."""
    head = [f"# {t(lang, 'cli', 'newyear.header', year=data['year'], previous=prev_year)}",
            f"# {t(lang, 'cli', 'newyear.confirm_heading')}"]
    head += [f"#  - {m.text(lang)}" for m in confirm]
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110, default_flow_style=False)
    return "\n".join(head) + "\n" + body


def applications_csv() -> bytes:
    """The applications template: the header row."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(TEMPLATE_COLUMNS)
    return out.getvalue().encode("utf-8")


def applications_xlsx(params: Params, lang: str) -> bytes:
    """The applications template as a workbook: the header, column widths, and data validation (drop-down
    lists for fund, applicant, purpose, report and source; dates; whole numbers)."""
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t(lang, "cli", "newyear.sheet")
    sheet.append(list(TEMPLATE_COLUMNS))
    lists = book.create_sheet(t(lang, "cli", "newyear.lists_sheet"))
    lists.sheet_state = "hidden"
    choices = {"fund": list(params.funds), "applicants": list(params.administrations), "purpose": list(PURPOSES),
               "last_report": list(REPORTS), "source": ["published", "illustrative"]}
    for col_no, (name, values) in enumerate(choices.items(), start=1):
        letter = chr(ord("A") + col_no - 1)
        lists.cell(row=1, column=col_no, value=name)
        for i, value in enumerate(values, start=2):
            lists.cell(row=i, column=col_no, value=value)
        source = f"'{lists.title}'!${letter}$2:${letter}${len(values) + 1}"
        check = DataValidation(type="list", formula1=source, allow_blank=True)
        check.error = t(lang, "cli", "newyear.xlsx.list_error", column=name)
        check.showErrorMessage = True
        target = chr(ord("A") + TEMPLATE_COLUMNS.index(name))
        check.add(f"{target}2:{target}1000")
        sheet.add_data_validation(check)
    for name, kind in (("received", "date"), ("requested_kr", "whole"), ("project_year", "whole"),
                       ("planned_years", "whole")):
        letter = chr(ord("A") + TEMPLATE_COLUMNS.index(name))
        if kind == "date":
            check = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)
            for row in range(2, 1001):
                sheet[f"{letter}{row}"].number_format = "yyyy-mm-dd"
        else:
            check = DataValidation(type="whole", operator="greaterThan", formula1="0", allow_blank=True)
        check.error = t(lang, "cli", f"newyear.xlsx.{kind}_error", column=name)
        check.showErrorMessage = True
        check.add(f"{letter}2:{letter}1000")
        sheet.add_data_validation(check)
    for i, name in enumerate(TEMPLATE_COLUMNS):
        sheet.column_dimensions[chr(ord("A") + i)].width = max(12, len(name) + 4)
    sheet.freeze_panes = "A2"
    book.properties.created = book.properties.modified = dt.datetime(2000, 1, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ledger_csv(root: Path, year: int, report_due: dt.date) -> bytes:
    """The unfilled follow-up ledger of `year`'s grants."""
    grants, _, _ = grants_of_year(root, year)
    out = io.StringIO()
    writer = csv.DictWriter(out, LEDGER_FILE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(ledger_template_rows(list(grants.values()), report_due))
    return out.getvalue().encode("utf-8")


def call_paths(root: Path, year: int) -> tuple[Path, Path]:
    """Where the year's call is written: calls/<year>/utlysning.html and .pdf."""
    base = Path(root) / "calls" / str(year)
    return base / "utlysning.html", base / "utlysning.pdf"


def write_call(root: Path, year: int, lang: str = "sv", *, pdf: bool = True) -> tuple[Path, ...]:
    """(Re)write the year's call from its parameters: HTML, and the PDF/A made from the same bytes."""
    from fou_review.record.cycle_pages import render_call_page

    params = load_params(root, year)
    page = render_call_page(params, lang)
    html_path, pdf_path = call_paths(root, year)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(html_path, page.encode("utf-8"))
    if not pdf:
        return (html_path,)
    from fou_review.record.archive import record_pdf

    write_atomic(pdf_path, record_pdf(page, decided=params.decision.date))
    return html_path, pdf_path


def new_year(root: Path, year: int, lang: str = "sv", *, pdf: bool = True) -> NewYear:
    """Start `year` from `year - 1` (see the module); nothing existing is overwritten."""
    root = Path(root)
    prev_year = year - 1
    prev_path = params_path(root, prev_year)
    if not prev_path.is_file():
        raise NewYearError(Msg.of("newyear.no_previous", domain="cli", path=f"params/{prev_year}.yaml"))
    prev = load_params(root, prev_year)
    data = yaml.safe_load(prev_path.read_text(encoding="utf-8"))
    new_data, confirm, names = next_params_data(data, prev)
    targets = [params_path(root, year), root / "data" / str(year), *call_paths(root, year)]
    with_ledger = year_exists(root, prev_year)
    ledger_path = root / "data" / str(prev_year) / "followup.csv"
    if with_ledger:
        targets.append(ledger_path)
    existing = [p for p in targets if p.exists()]
    if existing:
        raise NewYearError(Msg.of("newyear.exists", domain="cli",
                                  paths=", ".join(p.relative_to(root).as_posix() for p in existing)))
    text = params_text(new_data, confirm, prev_year, lang)
    params = parse_params_from_string(text, f"params/{year}.yaml", year=year)  # what we write must load
    report_due = prev.cycle.report_due or dt.date(prev_year + 1, 3, 31)
    ledger = ledger_csv(root, prev_year, report_due) if with_ledger else b""
    if with_ledger and prev.cycle.report_due is None:
        confirm.append(Msg.of("newyear.confirm.report_due", domain="cli", path=f"data/{prev_year}/followup.csv",
                              date=report_due.isoformat()))
    written: list[Path] = []
    write_atomic(params_path(root, year), text.encode("utf-8"))
    written.append(params_path(root, year))
    data_dir = root / "data" / str(year)
    data_dir.mkdir(parents=True)
    for name, content in (("applications.csv", applications_csv()),
                          ("applications_template.xlsx", applications_xlsx(params, lang))):
        write_atomic(data_dir / name, content)
        written.append(data_dir / name)
    if with_ledger:
        write_atomic(ledger_path, ledger)
        written.append(ledger_path)
    written += write_call(root, year, lang, pdf=pdf)
    return NewYear(year, tuple(written), tuple(confirm), names)
