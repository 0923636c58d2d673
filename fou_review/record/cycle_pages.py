"""The yearly cycle's pages, with the record's conventions (autoescaped templates, catalogue texts, no
script, no external URL): the call sent to the districts (*utlysning*), the follow-up of a year's
grants (who owes what, by when, overdue on a stated day), and the year-over-year history (a record
section, also shown by `fou-review history`).

Every fact comes from the parameters or the data: the call states the same rules as the decision
because both are made from `params/<year>.yaml`.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources

from markupsafe import Markup

from fou_review.core.cycle import History
from fou_review.core.followup import Ledger, Obligation
from fou_review.core.params import DecisionText, Params
from fou_review.record.markup import Cell, Col, Foot, Part, Table, col, localized, render, swedish_key
from fou_review.texts.catalog import format_kr, format_long_date, format_number, t


def _css() -> Markup:
    text = resources.files("fou_review.record").joinpath("templates/record/record.css").read_text(encoding="utf-8")
    return Markup(text.replace("</", "<\\/"))


def page(title: str, doctype: str, body: list[str], lang: str, *, illustrative: bool) -> str:
    """A whole stand-alone page around section fragments (already escaped HTML)."""
    return render("cycle_page.html.j2", lang, title=title, doctype=doctype, css=_css(), illustrative=illustrative,
                  body=[Markup(b) for b in body]) + "\n"


def _r(lang: str, msgid: str, /, **values: object) -> str:
    return t(lang, "record", msgid, **values)


def render_call_page(params: Params, lang: str = "sv") -> str:
    """The year's call (utlysning) as a static HTML page, made from the parameters alone."""
    text = params.texts.get(lang) or DecisionText()
    funds = []
    for code, fund in params.funds.items():
        rules = [_r(lang, "call.window", opens=format_long_date(fund.window.opens, lang),
                    closes=format_long_date(fund.window.closes, lang)),
                 _r(lang, "call.max_amount", amount=format_kr(fund.max_amount_kr)),
                 _r(lang, "call.cap", cap=fund.max_granted_per_applicant)]
        if fund.max_project_years:
            rules.append(_r(lang, "call.years", years=fund.max_project_years))
        if fund.excluded_purposes:
            rules.append(_r(lang, "call.excluded", purposes=", ".join(fund.excluded_purposes)))
        funds.append({"code": code, "heading": f"{localized(fund, 'name', lang)} ({code})",
                      "paragraphs": text.funds.get(code, ()), "rules": rules})
    criteria = Table(_r(lang, "call.criteria.caption"),
                     [col(lang, "call.col.criterion"), col(lang, "call.col.weight", True)],
                     [[localized(c, "name", lang), str(c.weight)] for c in params.criteria])
    descriptors = params.scale.descriptors_sv if lang == "sv" else params.scale.descriptors_en
    scale = Table(_r(lang, "call.scale.caption", lo=params.scale.minimum, hi=params.scale.maximum),
                  [col(lang, "call.col.grade", True), col(lang, "call.col.meaning")],
                  [[str(g), d] for g, d in descriptors.items()])
    d = params.decision
    repayment = _r(lang, "record.rules.repayment", deadline=format_long_date(d.repayment_deadline, lang),
                   address=d.repayment_address)
    due = params.cycle.report_due
    body = render("call.html.j2", lang, text=text, funds=funds, criteria=criteria, scale=scale,
                  repayment=repayment,
                  report_due=_r(lang, "call.report_due", date=format_long_date(due, lang)) if due else "")
    title = _r(lang, "call.title", year=params.year)
    return page(title, _r(lang, "call.doctype"), [body], lang, illustrative=params.cycle.illustrative_year)


def followup_table(ledger: Ledger, owed: list[Obligation], as_of: dt.date, lang: str) -> Table:
    """Who owes what on the ledger's grants, by when, and whether it is overdue on `as_of`."""
    cols = [col(lang, "record.col.id", css="nowrap"), col(lang, "record.col.administration"),
            col(lang, "followup.col.owes"), col(lang, "followup.col.amount", True),
            col(lang, "followup.col.due", css="nowrap"), col(lang, "followup.col.overdue")]
    rows: list[list[Cell]] = []
    for o in owed:
        what = (_r(lang, f"followup.owes.report.{'not_approved' if o.status == 'ej godkänd' else 'not_received'}")
                if o.kind == "report" else _r(lang, "followup.owes.repayment"))
        late: Cell = ((Part(_r(lang, "followup.overdue"), "unmet"),) if o.overdue(as_of)
                      else _r(lang, "followup.not_overdue"))
        rows.append([o.grant_id, " & ".join(o.applicants), what, format_kr(o.amount_kr) if o.amount_kr else "–",
                     o.due.isoformat(), late])
    total = sum(o.amount_kr for o in owed)
    return Table(_r(lang, "followup.owed.caption", year=ledger.year, as_of=as_of.isoformat()), cols, rows,
                 foot=Foot(_r(lang, "record.total"), 3, [format_kr(total), "", ""]), css="followup",
                 empty=_r(lang, "followup.owed.none"))


def ledger_table(ledger: Ledger, lang: str) -> Table:
    """The ledger itself, one row per grant."""
    cols = [col(lang, "record.col.id", css="nowrap"), col(lang, "record.col.administration"),
            col(lang, "record.col.granted", True), col(lang, "followup.col.report_due", css="nowrap"),
            col(lang, "followup.col.report_status"), col(lang, "followup.col.spent", True),
            col(lang, "followup.col.to_repay", True), col(lang, "followup.col.repaid", True),
            col(lang, "record.col.data")]
    rows: list[list[Cell]] = []
    for r in ledger.rows:
        source: Cell = ((Part(_r(lang, "record.illustrative"), "badge"),) if r.source == "illustrative"
                        else _r(lang, "record.appendix.published"))
        rows.append([r.id, " & ".join(r.applicants), format_kr(r.granted_kr), r.report_due.isoformat(),
                     r.report_status, format_kr(r.spent_kr) if r.spent_kr is not None else "–",
                     format_kr(r.to_repay_kr), format_kr(r.repaid_kr), source])
    return Table(_r(lang, "followup.ledger.caption", year=ledger.year), cols, rows, css="ledger",
                 empty=_r(lang, "record.granted.none"))


def render_followup_page(ledger: Ledger, owed: list[Obligation], as_of: dt.date, lang: str, *,
                         illustrative: bool) -> str:
    """The follow-up of a year's grants as a static HTML page."""
    heading = _r(lang, "followup.heading", year=ledger.year)
    overdue = sum(o.overdue(as_of) for o in owed)
    body = render("followup.html.j2", lang, heading=heading,
                  lead=_r(lang, "followup.lead", n=len(owed), overdue=overdue, as_of=format_long_date(as_of, lang),
                          file=ledger.file),
                  owed=followup_table(ledger, owed, as_of, lang), ledger=ledger_table(ledger, lang))
    return page(heading, _r(lang, "followup.doctype"), [body], lang,
                illustrative=illustrative or any(r.source == "illustrative" for r in ledger.rows))


def history_tables(h: History, lang: str) -> tuple[Table, Table]:
    """Per administration (granted per year, applications, grant rate, per inhabitant) and per year and
    fund: the same numbers as the chart."""
    years = h.years
    by_admin: dict[str, dict[int, int]] = {}
    apps_n: dict[str, int] = {}
    granted_n: dict[str, int] = {}
    for r in h.rows:
        by_admin.setdefault(r.administration, {}).setdefault(r.year, 0)
        by_admin[r.administration][r.year] += r.granted_kr
        apps_n[r.administration] = apps_n.get(r.administration, 0) + r.applications_n
        granted_n[r.administration] = granted_n.get(r.administration, 0) + r.granted_n
    names = sorted(set(h.administrations) | set(by_admin), key=swedish_key)
    with_pop = bool(h.population)
    cols = [col(lang, "record.col.administration")] + [Col(str(y), True) for y in years] + [
        col(lang, "record.total", True), col(lang, "history.col.applications", True),
        col(lang, "history.col.rate", True)]
    if with_pop:
        cols.append(col(lang, "history.col.per_inhabitant", True))
    rows: list[list[Cell]] = []
    for name in names:
        granted_by_year = by_admin.get(name, {})
        total = sum(granted_by_year.values())
        n, g = apps_n.get(name, 0), granted_n.get(name, 0)
        row: list[Cell] = [name, *[format_kr(granted_by_year.get(y, 0)) for y in years], format_kr(total), str(n),
                           _rate(g, n, lang)]
        if with_pop:
            pop = h.population.get(name)
            row.append(format_number(total / pop, lang, 2) if pop else "–")
        rows.append(row)
    all_n, all_g = sum(apps_n.values()), sum(granted_n.values())
    foot_cells: list[Cell] = [format_kr(sum(v.get(y, 0) for v in by_admin.values())) for y in years]
    foot_cells += [format_kr(sum(sum(v.values()) for v in by_admin.values())), str(all_n), _rate(all_g, all_n, lang)]
    if with_pop:
        foot_cells.append("")
    per_admin = Table(_r(lang, "history.caption.admin", first=years[0], last=years[-1]), cols, rows,
                      foot=Foot(_r(lang, "record.total"), 1, foot_cells), css="history")
    ycols = [col(lang, "history.col.year"), col(lang, "record.col.fund"), col(lang, "history.col.applications", True),
             col(lang, "record.col.granted_number", True), col(lang, "history.col.rate", True),
             col(lang, "record.col.granted_amount", True)]
    yrows: list[list[Cell]] = []
    for y, f, n, g, kr in h.per_year:
        label: Cell = (str(y) if y not in h.illustrative_years else
                       (Part(str(y)), Part(" "), Part(_r(lang, "record.illustrative"), "badge")))
        yrows.append([label, f, str(n), str(g), _rate(g, n, lang), format_kr(kr)])
    per_year = Table(_r(lang, "history.caption.year"), ycols, yrows, css="history-years")
    return per_admin, per_year


def _rate(granted: int, applied: int, lang: str) -> str:
    return f"{format_number(100 * granted / applied, lang, 0)} %" if applied else "–"


def _chart(h: History, lang: str) -> Markup:
    """A bar per administration: the total granted over the years (the table's total column)."""
    totals: dict[str, int] = {}
    for r in h.rows:
        totals[r.administration] = totals.get(r.administration, 0) + r.granted_kr
    names = sorted(set(h.administrations) | set(totals), key=swedish_key)
    top = max(totals.values(), default=0) or 1
    bar_h, label_w, width = 22, 190, 640
    rows = []
    for i, name in enumerate(names):
        value = totals.get(name, 0)
        w = int((width - label_w - 120) * value / top)
        rows.append({"y": i * bar_h, "name": name, "w": w, "x": label_w, "value": format_kr(value)})
    return Markup(render("history_chart.svg.j2", lang, rows=rows, height=len(names) * bar_h + 10, width=width,
                         label_w=label_w, title=_r(lang, "history.chart.title", first=h.years[0], last=h.years[-1])))


def render_history_section(h: History, lang: str = "sv") -> str:
    """The record's year-over-year section; "" when there is only one year."""
    if len(h.years) < 2:
        return ""
    per_admin, per_year = history_tables(h, lang)
    mapping = ", ".join(f"{old} → {new}" for old, new in h.mapping)
    population = (_r(lang, "history.population", source=h.population_source) if h.population else "")
    return render("history.html.j2", lang, first=h.years[0], last=h.years[-1], mapping=mapping,
                  chart=_chart(h, lang), per_admin=per_admin, per_year=per_year, population=population)


def render_history_page(h: History, lang: str = "sv") -> str:
    """`fou-review history` as a page (also with a single year)."""
    per_admin, per_year = history_tables(h, lang)
    mapping = ", ".join(f"{old} → {new}" for old, new in h.mapping)
    population = (_r(lang, "history.population", source=h.population_source) if h.population else "")
    body = render("history.html.j2", lang, first=h.years[0], last=h.years[-1], mapping=mapping,
                  chart=_chart(h, lang), per_admin=per_admin, per_year=per_year, population=population)
    return page(_r(lang, "history.heading"), _r(lang, "history.doctype"), [body], lang,
                illustrative=bool(h.illustrative_years))
