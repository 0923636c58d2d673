"""The record of a year's allocation as HTML fragments, in the structure of the decision document.

`render_record_sections` is pure: it reads no files and returns an ordered list of
(section id, HTML fragment). The review notebook displays each fragment in its own cell and
`html_export.notebook_to_record_html` joins them into the frozen `allocation.html`. Every number
and every word comes from the `Review` (and the run's manifest), so the tables, sums, checks and
reasons cannot disagree with each other. Each section is a template under `templates/sections/`;
the functions here only gather its data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from fou_review.collector import paused
from fou_review.core.load import split_applicants
from fou_review.core.params import DecisionText, Fund, Params
from fou_review.core.pipeline import Review
from fou_review.core.summary import Summary
from fou_review.record.analysis import render_analysis
from fou_review.record.appendix import render_appendix
from fou_review.record.chart import render_chart
from fou_review.record.markup import LANGS, Cell, Col, Foot, Part, Table, col, localized, render, swedish_key
from fou_review.record.pages import heading_text, movable, page_name, separate_pages, split_section
from fou_review.record.rules import render_ranking, render_rules
from fou_review.texts.catalog import format_kr, format_long_date, t


def record_title(review: Review, lang: str = "sv") -> str:
    """The page title: the decision's title and its Dnr."""
    d = review.inputs.params.decision
    return t(lang, "record", "record.title", title=localized(d, "title", lang), dnr=d.dnr)


def render_record_sections(review: Review, manifest: Mapping[str, Any], lang: str = "sv", *,
                           separate: bool | None = None) -> list[tuple[str, str]]:
    """The whole record, in reading order, as (section id, HTML fragment) pairs.

    The order is the decision document's: proposal and signatories, summary, background, how the
    matter was prepared, the matter, repayment, the proposed allocation; then what the program adds
    (checks, rules, ranking, reviewer calibration and robustness, chart), the appendices and the
    provenance. The heading carries the legend of the illustrative mark and a table of contents.

    `separate`: whether the long per-application parts become pages of their own (see
    `record.pages`); by default, from `pages.SEPARATE_PAGES_FROM` applications on. Their wrapped
    fragments then follow the main page's sections.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    with paused():  # the collector (see fou_review/collector.py)
        return _sections(review, manifest, lang, separate)


def _sections(review: Review, manifest: Mapping[str, Any], lang: str, separate: bool | None) -> list[tuple[str, str]]:
    params, decisions, summary = review.inputs.params, review.decisions, review.summary
    body = [
        ("forslag-till-beslut", _proposal(params, lang)),
        ("sammanfattning", _summary(params, summary, lang)),
        ("bakgrund", _background(params, lang)),
        ("beredning", _preparation(params, lang)),
        ("arendet", _matter(params, summary, lang)),
        ("aterbetalning", _repayment(params, lang)),
        ("fordelning", _granted_tables(params, decisions, lang)),
        ("kontroller", _checks(params, summary, decisions, lang)),
        ("regler", render_rules(review, lang)),
        ("rangordning", render_ranking(review, lang)),
        ("kalibrering", render_analysis(review, lang)),
        ("diagram", render_chart(review, lang)),
        ("historik", _history(review, lang)),
    ]
    for number, code in enumerate(params.funds, 1):
        body.append((f"bilaga-{number}", render_appendix(review, code, number, lang)))
    body.append(("ursprung", _provenance(params, manifest, lang)))
    body = [(sid, html) for sid, html in body if html]
    if separate is None:
        separate = separate_pages(len(review.decisions))
    if not separate:
        return [("rubrik", _heading(review, lang, body)), *body]
    # At scale (record/pages.py): the long parts become pages of their own, a stub in their place.
    d = params.decision
    moved = [(page_name(sid), heading_text(html)) for sid, html in body if movable(sid)]
    main: list[tuple[str, str]] = []
    pages: list[tuple[str, str]] = []
    for sid, html in body:
        if movable(sid):
            stub, page = split_section(sid, html, lang=lang, title=localized(d, "title", lang), dnr=d.dnr,
                                       pages=[(name, escape(text)) for name, text in moved])
            main.append((sid, stub))
            pages.append((f"sida-{sid}", page))
        else:
            main.append((sid, html))
    return [("rubrik", _heading(review, lang, main)), *main, *pages]


_H2 = re.compile(r'<h2 id="([^"]+)-rubrik">(.*?)</h2>', re.DOTALL)


def _contents(body: list[tuple[str, str]]) -> list[tuple[str, Markup]]:
    """(anchor, heading) of every section, read from the rendered fragments (already escaped)."""
    return [(m.group(1), Markup(m.group(2))) for _, html in body for m in _H2.finditer(html)]


def fund_name(fund: Fund, lang: str) -> str:
    """The fund's name in running text: "medel för ...", its first letter in lower case."""
    name = localized(fund, "name", lang)
    return name[:1].lower() + name[1:]


def _funds_in_words(params: Params, lang: str) -> str:
    names = [t(lang, "record", "record.fund_with_code", name=fund_name(f, lang), code=f.code)
             for f in params.funds.values()]
    if len(names) == 1:
        return names[0]
    return t(lang, "record", "record.and_list", items=", ".join(names[:-1]), last=names[-1])


def _kr(amount: int) -> str:
    return format_kr(int(amount))


def any_illustrative(review: Review) -> bool:
    """Does the record hold any illustrative value (and so need the legend)?"""
    params = review.inputs.params
    return bool(params.illustrative or params.decision.date_source == "illustrative"
                or any(f.budget_source == "illustrative" for f in params.funds.values())
                or (review.inputs.applications["source"] == "illustrative").any()
                or review.inputs.applications["illustrative_fields"].astype(str).str.strip().ne("").any())


def agrees_with_published(review: Review) -> bool:
    """Do the year's parameters give published totals, and do this review's sums agree with them? (Only
    then do the legend and the appendices say that the illustrative rows agree with them.)"""
    from fou_review.core.cycle import published_totals_agree

    funds = review.summary.funds
    return published_totals_agree(review.inputs.params, {f.fund: f.received_kr for f in funds},
                                  {f.fund: f.granted_kr for f in funds})


def _history(review: Review, lang: str) -> str:
    """Year over year (issue 11): only when the project holds earlier years; "" otherwise."""
    from fou_review.core.cycle import history_from
    from fou_review.record.cycle_pages import render_history_section

    inputs = review.inputs
    if not inputs.earlier:
        return ""
    this = (inputs.params.year, review.decisions[["applicants", "fund", "granted_kr"]],
            inputs.params.cycle.illustrative_year)
    return render_history_section(history_from(inputs.params, (*inputs.earlier, this)), lang)


def _heading(review: Review, lang: str, body: list[tuple[str, str]]) -> str:
    d = review.inputs.params.decision
    return render("heading.html.j2", lang, title=localized(d, "title", lang), dnr=d.dnr, date=d.date.isoformat(),
                  illustrative=d.date_source == "illustrative", legend=any_illustrative(review),
                  legend_id="record.legend" if agrees_with_published(review) else "cycle.legend",
                  illustrative_year=review.inputs.params.cycle.illustrative_year,
                  contents=_contents(body))


def _proposal(params: Params, lang: str) -> str:
    return render("proposal.html.j2", lang, funds=_funds_in_words(params, lang), year=params.year,
                  signatories=[(s.name, localized(s, "role", lang)) for s in params.signatories])


def _text(params: Params, lang: str) -> DecisionText:
    return params.texts.get(lang) or DecisionText()


def _allocated_to(params: Params, code: str, lang: str) -> str:
    """What a fund's money is set aside for, as the decision says it ("lokala utvecklingsprojekt (LUM)")."""
    words = _text(params, lang).allocated_to.get(code)
    return words or t(lang, "record", "record.fund_with_code", name=fund_name(params.funds[code], lang), code=code)


def _background(params: Params, lang: str) -> str:
    text = _text(params, lang)
    funds = []
    for code, fund in params.funds.items():
        facts = [t(lang, "record", "record.background.max_amount", amount=format_kr(fund.max_amount_kr))]
        if fund.max_project_years:
            facts.append(t(lang, "record", "record.background.years", code=code, years=fund.max_project_years))
        funds.append({"heading": t(lang, "record", "record.fund_with_code", name=localized(fund, "name", lang),
                                   code=code),
                      "paragraphs": [*text.funds.get(code, ()), " ".join(facts)]})
    return render("background.html.j2", lang, text=text, funds=funds)


def _preparation(params: Params, lang: str) -> str:
    text = _text(params, lang)
    return render("preparation.html.j2", lang, paragraphs=text.preparation) if text.preparation else ""


def _allocations(params: Params, summary: Summary, lang: str) -> list[str]:
    return [t(lang, "record", "record.allocated", granted=format_kr(f.granted_kr, t(lang, "record", "record.kronor")),
              to=_allocated_to(params, f.fund, lang)) for f in summary.funds]


def _matter(params: Params, summary: Summary, lang: str) -> str:
    windows = [t(lang, "record", "record.matter.window", code=code, opens=format_long_date(f.window.opens, lang),
                 closes=format_long_date(f.window.closes, lang)) for code, f in params.funds.items()]
    caps = [t(lang, "record", "record.matter.cap", code=code, cap=f.max_granted_per_applicant)
            for code, f in params.funds.items()]
    kronor = t(lang, "record", "record.kronor")
    received = [t(lang, "record", "record.matter.received_fund", n=f.received_n, code=f.fund,
                  applicants_n=f.applicants_n, received=format_kr(f.received_kr, kronor)) for f in summary.funds]
    return render("matter.html.j2", lang, paragraphs=_text(params, lang).matter, rules=windows + caps,
                  received_total=format_kr(summary.received_kr, kronor), received=received, year=params.year,
                  allocations=_allocations(params, summary, lang))


def _repayment(params: Params, lang: str) -> str:
    d = params.decision
    return render("repayment.html.j2", lang, deadline=format_long_date(d.repayment_deadline, lang),
                  address=d.repayment_address)


def _summary(params: Params, summary: Summary, lang: str) -> str:
    n_received = sum(f.received_n for f in summary.funds)
    kronor = t(lang, "record", "record.kronor")
    funds_granted = [t(lang, "record", "record.summary.fund", allocated=allocated, granted_n=f.granted_n,
                       received_n=f.received_n, applicants_n=f.applicants_n,
                       received=format_kr(f.received_kr, kronor))
                     for f, allocated in zip(summary.funds, _allocations(params, summary, lang), strict=True)]
    cols = [col(lang, "record.col.fund"), col(lang, "record.col.applications", True),
            col(lang, "record.col.requested", True), col(lang, "record.col.granted_number", True),
            col(lang, "record.col.granted_amount", True), col(lang, "record.col.budget", True)]
    rows: list[list[Cell]] = []
    for f in summary.funds:
        budget: Cell = _kr(f.budget_kr)
        if params.funds[f.fund].budget_source == "illustrative":
            budget = (Part(_kr(f.budget_kr)), Part(" "), Part(t(lang, "record", "record.illustrative"), "badge"))
        rows.append([f.fund, str(f.received_n), _kr(f.received_kr), str(f.granted_n), _kr(f.granted_kr), budget])
    budget_total: Cell = _kr(sum(f.budget_kr for f in summary.funds))
    if any(f.budget_source == "illustrative" for f in params.funds.values()):
        budget_total = (Part(str(budget_total)), Part(" "), Part(t(lang, "record", "record.illustrative"), "badge"))
    foot = Foot(t(lang, "record", "record.total"), 1, [str(n_received), _kr(summary.received_kr),
                                         str(sum(f.granted_n for f in summary.funds)), _kr(summary.granted_kr),
                                         budget_total])
    per_fund = Table(t(lang, "record", "record.summary.caption", year=params.year), cols, rows, foot=foot)
    return render("summary.html.j2", lang, funds=_funds_in_words(params, lang), received_kr=summary.received_kr,
                  received_n=n_received, granted_kr=summary.granted_kr, year=params.year,
                  funds_granted=funds_granted, per_fund=per_fund)


def _granted_tables(params: Params, decisions: pd.DataFrame, lang: str) -> str:
    tables = []
    for code, fund in params.funds.items():
        rows = decisions[(decisions["fund"] == code) & (decisions["granted_kr"] > 0)]
        cols = [col(lang, "record.col.administration"), Col(localized(fund, "title_label", lang)),
                col(lang, "record.col.amount", True)]
        body_rows: list[list[Cell]] = [[str(a), str(title), _kr(g)] for a, title, g in
                                       zip(rows["applicants"], rows["title"], rows["granted_kr"], strict=True)]
        caption = t(lang, "record", "record.granted.caption", fund=fund_name(fund, lang), year=params.year)
        foot = Foot(t(lang, "record", "record.total"), 2, [_kr(int(rows["granted_kr"].sum()))])
        tables.append(Table(caption, cols, body_rows, foot=foot,
                            css=f"granted fund-{code}", empty=t(lang, "record", "record.granted.none")))
    return render("granted.html.j2", lang, tables=tables)


@cache
def _result(met: bool, lang: str) -> Cell:
    return ((Part(t(lang, "record", "record.met"), "met"),) if met
            else (Part(t(lang, "record", "record.unmet"), "unmet"),))


def _checks(params: Params, summary: Summary, decisions: pd.DataFrame, lang: str) -> str:
    """Per fund: its budget, then one line per administration (granted count against the cap, largest
    grant against the fund's maximum, grants to ineligible applications); every check in <details>."""
    funds = []
    kr = cache(_kr)  # the limits repeat
    for code, fund in params.funds.items():
        checks = [c for c in summary.checks if c.fund == code]
        budget = next(c for c in checks if c.kind == "budget")
        per_app = {c.subject: c for c in checks if c.kind == "max_amount"}
        eligible = {c.subject: c for c in checks if c.kind == "eligible_only"}
        mine = decisions[(decisions["fund"] == code) & (decisions["granted_kr"] > 0)]
        grants: dict[str, list[tuple[str, int]]] = {}
        for app_id, names, amount in zip(*(mine[c].tolist() for c in ("id", "applicants", "granted_kr")), strict=True):
            for name in split_applicants(str(names)):
                grants.setdefault(name, []).append((str(app_id), int(amount)))
        cols = [col(lang, "record.col.administration"),
                Col(t(lang, "record", "record.checks.col.count", cap=fund.max_granted_per_applicant), True),
                Col(t(lang, "record", "record.checks.col.largest", maximum=_kr(fund.max_amount_kr)), True),
                col(lang, "record.checks.col.ineligible", True), col(lang, "record.col.result")]
        rows: list[list[Cell]] = []
        for cap in sorted((c for c in checks if c.kind == "count_cap"), key=lambda c: swedish_key(c.subject)):
            apps = grants.get(cap.subject, [])
            over = [a for a, _ in apps if a in per_app and not per_app[a].met]
            ineligible = [a for a, _ in apps if a in eligible and not eligible[a].met]
            largest = max((g for _, g in apps), default=0)
            rows.append([cap.subject, str(cap.value), kr(largest) if apps else "–", str(len(ineligible)),
                         _result(bool(cap.met and not over and not ineligible), lang)])
        per_fund = Table(t(lang, "record", "record.checks.caption", fund=code, year=params.year,
                           met=sum(c.met for c in checks), n=len(checks)), cols, rows, css="checks",
                         empty=t(lang, "record", "record.checks.none"))
        detail_cols = [col(lang, "record.col.id", css="nowrap"), col(lang, "record.col.granted", True),
                       col(lang, "record.checks.col.limit_app", True), col(lang, "record.checks.col.eligible"),
                       col(lang, "record.col.result")]
        detail_rows: list[list[Cell]] = [
            [a, kr(c.value), kr(c.limit),
             t(lang, "record", "record.eligible" if eligible[a].met else "record.not_eligible"),
             _result(bool(c.met and eligible[a].met), lang)] for a, c in per_app.items()]
        details = Table(t(lang, "record", "record.checks.details_caption", fund=code, year=params.year), detail_cols,
                        detail_rows, css="checks-details", empty=t(lang, "record", "record.granted.none"))
        budget_line = t(lang, "record", "record.checks.budget", fund=code, granted=_kr(budget.value),
                        budget=_kr(budget.limit))
        funds.append({"budget": budget_line, "budget_met": budget.met,
                      "budget_illustrative": fund.budget_source == "illustrative", "table": per_fund,
                      "details": details, "n_details": len(detail_rows)})
    return render("checks.html.j2", lang, n=len(summary.checks), unmet=sum(not c.met for c in summary.checks),
                  funds=funds)


def _provenance(params: Params, manifest: Mapping[str, Any], lang: str) -> str:
    files: list[list[Cell]] = []
    notebook = manifest.get("notebook")
    entries = ([notebook] if isinstance(notebook, Mapping) else []) + [
        item for item in manifest.get("inputs") or () if isinstance(item, Mapping)]
    for item in entries:
        files.append([(Part(str(item.get("path", "")), "code"),), (Part(str(item.get("sha256", "")), "hash"),)])
    table = Table(t(lang, "record", "record.provenance.caption"), [col(lang, "record.col.file"), Col("SHA-256")],
                  files,
                  css="provenance")
    parameters = manifest.get("parameters")
    pairs = ([_setting(str(k), parameters[k], lang) for k in sorted(parameters, key=str)]
             if isinstance(parameters, Mapping) else [])
    superseded = manifest.get("supersedes")
    version = manifest.get("package_version", t(lang, "record", "record.unknown"))
    return render("provenance.html.j2", lang, version=version,
                  year=manifest.get("year", params.year), files=table, parameters=pairs,
                  superseded=({"path": superseded.get("path", ""), "sha256": superseded.get("sha256", "")}
                              if isinstance(superseded, Mapping) else None))


_SETTINGS = ("lang", "year", "superseded_record", "superseded_sha256")


def _setting(name: str, value: object, lang: str) -> tuple[str, str]:
    """A setting of the run in words: ("Språk", "svenska") rather than ("lang", "sv")."""
    label = t(lang, "record", f"record.provenance.setting.{name}") if name in _SETTINGS else name
    if name == "lang" and value in LANGS:
        return label, t(lang, "record", f"record.language.{value}")
    return label, _plain(value)


def _plain(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = ["record_title", "render_record_sections"]
