"""The record of a year's allocation as HTML fragments, in the structure of the decision document.

`render_record_sections` is pure: it reads no files and returns an ordered list of
(section id, HTML fragment). The review notebook displays each fragment in its own cell and
`html_export.notebook_to_record_html` joins them into the frozen `allocation.html`. Every number
and every word comes from the `Review` (and the run's manifest), so the tables, sums, checks and
reasons cannot disagree with each other. Each section is a template under `templates/sections/`;
the functions here only gather its data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from fou_review.core.params import Fund, Params
from fou_review.core.pipeline import Review
from fou_review.core.summary import Check, Summary
from fou_review.record.appendix import render_appendix
from fou_review.record.chart import render_chart
from fou_review.record.markup import LANGS, Cell, Col, Foot, Part, Table, col, localized, render
from fou_review.record.rules import render_ranking, render_rules
from fou_review.texts.catalog import format_kr, t


def record_title(review: Review, lang: str = "sv") -> str:
    """The page title: the decision's title and its Dnr."""
    d = review.inputs.params.decision
    return t(lang, "record", "record.title", title=localized(d, "title", lang), dnr=d.dnr)


def render_record_sections(review: Review, manifest: Mapping[str, Any], lang: str = "sv") -> list[tuple[str, str]]:
    """The whole record, in reading order, as (section id, HTML fragment) pairs."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    params, decisions, summary = review.inputs.params, review.decisions, review.summary
    sections = [
        ("rubrik", _heading(params, lang)),
        ("forslag-till-beslut", _proposal(params, lang)),
        ("sammanfattning", _summary(params, summary, lang)),
        ("fordelning", _granted_tables(params, decisions, lang)),
        ("kontroller", _checks(params, summary, lang)),
        ("regler", render_rules(review, lang)),
        ("rangordning", render_ranking(review, lang)),
        ("diagram", render_chart(review, lang)),
    ]
    for number, code in enumerate(params.funds, 1):
        sections.append((f"bilaga-{number}", render_appendix(review, code, number, lang)))
    sections.append(("ursprung", _provenance(params, manifest, lang)))
    return sections


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


def _heading(params: Params, lang: str) -> str:
    d = params.decision
    return render("heading.html.j2", lang, title=localized(d, "title", lang), dnr=d.dnr, date=d.date.isoformat(),
                  illustrative=d.date_source == "illustrative")


def _proposal(params: Params, lang: str) -> str:
    return render("proposal.html.j2", lang, funds=_funds_in_words(params, lang), year=params.year)


def _summary(params: Params, summary: Summary, lang: str) -> str:
    n_received = sum(f.received_n for f in summary.funds)
    funds_granted = [{"code": f.fund, "name": fund_name(params.funds[f.fund], lang), "granted_kr": f.granted_kr,
                      "granted_n": f.granted_n, "received_n": f.received_n, "applicants_n": f.applicants_n,
                      "received_kr": f.received_kr} for f in summary.funds]
    cols = [col(lang, "record.col.fund"), col(lang, "record.col.applications", True),
            col(lang, "record.col.requested", True), col(lang, "record.col.granted_number", True),
            col(lang, "record.col.granted_amount", True), col(lang, "record.col.budget", True)]
    rows: list[list[Cell]] = []
    for f in summary.funds:
        budget: Cell = _kr(f.budget_kr)
        if params.funds[f.fund].budget_source == "illustrative":
            budget = (Part(_kr(f.budget_kr)), Part(" "), Part(t(lang, "record", "record.illustrative"), "badge"))
        rows.append([f.fund, str(f.received_n), _kr(f.received_kr), str(f.granted_n), _kr(f.granted_kr), budget])
    foot = Foot(t(lang, "record", "record.total"), 1, [str(n_received), _kr(summary.received_kr),
                                         str(sum(f.granted_n for f in summary.funds)), _kr(summary.granted_kr),
                                         _kr(sum(f.budget_kr for f in summary.funds))])
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


_CHECK_ORDER = ("budget", "count_cap", "max_amount", "eligible_only")


def _check_row(check: Check, fund: Fund, lang: str) -> list[Cell]:
    if check.kind == "budget":
        what = t(lang, "record", "record.check.budget")
        limit, value = t(lang, "record", "record.at_most", limit=_kr(check.limit)), _kr(check.value)
    elif check.kind == "count_cap":
        joint = t(lang, "record", f"record.joint.{fund.joint_counts_for}")
        what = t(lang, "record", "record.check.count_cap", joint=joint)
        limit, value = t(lang, "record", "record.at_most", limit=check.limit), str(check.value)
    elif check.kind == "max_amount":
        what = t(lang, "record", "record.check.max_amount")
        limit, value = t(lang, "record", "record.at_most", limit=_kr(check.limit)), _kr(check.value)
    else:
        what = t(lang, "record", "record.check.eligible_only")
        limit = t(lang, "record", "record.eligible")
        value = t(lang, "record", "record.eligible" if check.met else "not_eligible")
    result = ((Part(t(lang, "record", "record.met"), "met"),) if check.met
              else (Part(t(lang, "record", "record.unmet"), "unmet"),))
    return [check.subject, what, limit, value, result]


def _checks(params: Params, summary: Summary, lang: str) -> str:
    cols = [col(lang, "record.col.subject"), col(lang, "record.col.check"), col(lang, "record.col.limit", True),
            col(lang, "record.col.outcome", True), col(lang, "record.col.result")]
    tables = []
    for code, fund in params.funds.items():
        checks = sorted((c for c in summary.checks if c.fund == code), key=lambda c: _CHECK_ORDER.index(c.kind))
        met = sum(c.met for c in checks)
        caption = t(lang, "record", "record.checks.caption", fund=code, year=params.year, met=met, n=len(checks))
        tables.append(Table(caption,
                            cols, [_check_row(c, fund, lang) for c in checks], css="checks"))
    return render("checks.html.j2", lang, n=len(summary.checks), unmet=sum(not c.met for c in summary.checks),
                  tables=tables)


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
    pairs = ([(str(k), _plain(parameters[k])) for k in sorted(parameters, key=str)]
             if isinstance(parameters, Mapping) else [])
    superseded = manifest.get("supersedes")
    version = manifest.get("package_version", t(lang, "record", "record.unknown"))
    return render("provenance.html.j2", lang, version=version,
                  year=manifest.get("year", params.year), files=table, parameters=pairs,
                  superseded=({"path": superseded.get("path", ""), "sha256": superseded.get("sha256", "")}
                              if isinstance(superseded, Mapping) else None))


def _plain(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = ["record_title", "render_record_sections"]
