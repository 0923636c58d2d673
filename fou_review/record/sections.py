"""The record of a year's allocation as HTML fragments, in the structure of the decision document.

`render_record_sections` is pure: it reads no files and returns an ordered list of
(section id, HTML fragment). The review notebook displays each fragment in its own cell and
`html_export.notebook_to_record_html` joins them into the frozen `allocation.html`. Every number
and every word comes from the `Review` (and the run's manifest), so the tables, sums, checks and
reasons cannot disagree with each other.
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
from fou_review.record.markup import (
    LANGS,
    Col,
    badge,
    esc,
    kr,
    kronor,
    met_word,
    paragraph,
    section,
    table,
    tr,
)
from fou_review.record.rules import render_ranking, render_rules

COMMITTEE = ("Socialnämnden", "The social services committee")
ADMINISTRATION = ("Socialförvaltningen", "The social services administration")


def record_title(review: Review, lang: str = "sv") -> str:
    """The page title: the decision's title and its Dnr."""
    d = review.inputs.params.decision
    return f"{tr(lang, d.title_sv, d.title_en)} – Dnr {d.dnr}"


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


def _fund_name(fund: Fund, lang: str) -> str:
    name = tr(lang, fund.name_sv, fund.name_en)
    return name[:1].lower() + name[1:]


def _funds_in_words(params: Params, lang: str) -> str:
    names = [f"{_fund_name(f, lang)} ({f.code})" for f in params.funds.values()]
    joiner = tr(lang, " och ", " and ")
    return ", ".join(names[:-1]) + joiner + names[-1] if len(names) > 1 else names[0]


def _heading(params: Params, lang: str) -> str:
    d = params.decision
    title = tr(lang, d.title_sv, d.title_en)
    date_note = ""
    if d.date_source == "illustrative":
        date_note = " " + badge(tr(lang, "illustrativt", "illustrative"))
    out = ['<header id="rubrik">',
           f'<p class="doctype">{esc(tr(lang, "Tjänsteutlåtande", "Official report"))}</p>',
           f"<h1>{esc(title)}</h1>",
           '<dl class="meta">',
           f"<dt>Dnr</dt><dd>{esc(d.dnr)}</dd>",
           (f"<dt>{esc(tr(lang, 'Datum', 'Date'))}</dt><dd><time datetime=\"{d.date.isoformat()}\">"
            f"{d.date.isoformat()}</time>{date_note}</dd>"),
           "</dl>"]
    if d.date_source == "illustrative":
        out.append(paragraph(esc(tr(lang, "Datumet är illustrativt: det är inte publicerat i beslutsdokumentet.",
                                    "The date is illustrative: the decision document does not publish it."))))
    out.append("</header>")
    return "\n".join(out)


def _proposal(params: Params, lang: str) -> str:
    funds = _funds_in_words(params, lang)
    first = tr(lang, f"{COMMITTEE[0]} godkänner förvaltningens förslag till fördelning av {funds} "
                     f"för {params.year}.",
               f"{COMMITTEE[1]} approves the administration's proposed allocation of {funds} for {params.year}.")
    second = tr(lang, "Ärendet överlämnas till stadsdelsnämnderna för kännedom.",
                "The matter is forwarded to the district committees for their information.")
    return section("forslag-till-beslut", tr(lang, "Förvaltningens förslag till beslut", "Proposed decision"),
                   [f"<ol>\n<li>{esc(first)}</li>\n<li>{esc(second)}</li>\n</ol>"])


def _summary(params: Params, summary: Summary, lang: str) -> str:
    n_received = sum(f.received_n for f in summary.funds)
    body = [paragraph(tr(lang,
                         f"Årets ansökningar om {esc(_funds_in_words(params, lang))} omfattar totalt "
                         f"{kronor(summary.received_kr)} ({n_received} ansökningar). {ADMINISTRATION[0]} föreslår "
                         f"att {kronor(summary.granted_kr)} fördelas för {params.year}. "
                         "Förvaltningens förslag innebär att:",
                         f"This year's applications for {esc(_funds_in_words(params, lang))} amount to "
                         f"{kronor(summary.received_kr)} in all ({n_received} applications). "
                         f"{ADMINISTRATION[1]} proposes that {kronor(summary.granted_kr)} be allocated for "
                         f"{params.year}. The proposal means that:"))]
    items = []
    for f in summary.funds:
        fund = params.funds[f.fund]
        items.append("<li>" + tr(
            lang,
            f"{kronor(f.granted_kr)} avsätts till {esc(_fund_name(fund, lang))} ({esc(f.fund)}): "
            f"{f.granted_n} av {f.received_n} ansökningar, som kom från {f.applicants_n} förvaltningar och "
            f"omfattar {kronor(f.received_kr)}",
            f"{kronor(f.granted_kr)} go to {esc(_fund_name(fund, lang))} ({esc(f.fund)}): "
            f"{f.granted_n} of {f.received_n} applications, which came from {f.applicants_n} administrations "
            f"and amount to {kronor(f.received_kr)}") + "</li>")
    body.append("<ul>\n" + "\n".join(items) + "\n</ul>")
    body.append(paragraph(esc(tr(lang, "Beslutet för varje ansökan och skälet till det finns i bilagorna.",
                                 "The decision on every application and its reason are in the appendices."))))
    cols = [Col(tr(lang, "Fond", "Fund")), Col(tr(lang, "Ansökningar", "Applications"), True),
            Col(tr(lang, "Sökt", "Requested"), True), Col(tr(lang, "Beviljas, antal", "Granted, number"), True),
            Col(tr(lang, "Beviljas, belopp", "Granted, amount"), True), Col(tr(lang, "Budget", "Budget"), True)]
    rows = []
    for f in summary.funds:
        fund = params.funds[f.fund]
        note = " " + badge(tr(lang, "illustrativ", "illustrative")) if fund.budget_source == "illustrative" else ""
        rows.append([esc(f.fund), str(f.received_n), kr(f.received_kr), str(f.granted_n), kr(f.granted_kr),
                     kr(f.budget_kr) + note])
    foot = (tr(lang, "Totalt", "Total"), 1,
            [str(n_received), kr(summary.received_kr), str(sum(f.granted_n for f in summary.funds)),
             kr(summary.granted_kr), kr(sum(f.budget_kr for f in summary.funds))])
    body.append(table(tr(lang, f"Sökt och föreslaget per fond {params.year}",
                         f"Requested and proposed per fund {params.year}"), cols, rows, foot=foot))
    return section("sammanfattning", tr(lang, "Sammanfattning", "Summary"), body)


def _granted_tables(params: Params, decisions: pd.DataFrame, lang: str) -> str:
    body = [paragraph(esc(tr(lang, "Förvaltningen och FoU-rådet föreslår att medlen beviljas enligt tabellerna "
                                   "nedan. Alla inkomna ansökningar, med beslut och skäl, finns i bilagorna.",
                             "The administration and the FoU council propose that the funds be granted as in the "
                             "tables below. Every application received, with its decision and reason, is in the "
                             "appendices.")))]
    for code, fund in params.funds.items():
        rows = decisions[(decisions["fund"] == code) & (decisions["granted_kr"] > 0)]
        cols = [Col(tr(lang, "Förvaltning", "Administration")), Col(tr(lang, fund.title_label_sv,
                                                                        fund.title_label_en)),
                Col(tr(lang, "Summa", "Amount"), True)]
        body_rows = [[esc(a), esc(t), kr(g)] for a, t, g in
                     zip(rows["applicants"], rows["title"], rows["granted_kr"], strict=True)]
        caption = tr(lang, f"Förslag till fördelning av {_fund_name(fund, lang)} {params.year}",
                     f"Proposed allocation of {_fund_name(fund, lang)} {params.year}")
        body.append(table(caption, cols, body_rows, foot=(tr(lang, "Totalt", "Total"), 2,
                                                          [kr(int(rows["granted_kr"].sum()))]),
                          css=f"granted fund-{esc(code)}",
                          empty=tr(lang, "Inga ansökningar beviljas.", "No application is granted.")))
    return section("fordelning", tr(lang, "Förslag till fördelning", "Proposed allocation"), body)


_CHECK_ORDER = ("budget", "count_cap", "max_amount", "eligible_only")


def _check_row(check: Check, fund: Fund, lang: str) -> list[str]:
    if check.kind == "budget":
        what = tr(lang, "Beviljat totalt ryms i fondens budget", "Total granted fits the fund's budget")
        limit, value = tr(lang, "högst ", "at most ") + kr(check.limit), kr(check.value)
    elif check.kind == "count_cap":
        joint = tr(lang, " (en gemensam ansökan räknas för varje part)", " (a joint application counts for each "
                   "partner)") if fund.joint_counts_for == "each_partner" else tr(
            lang, " (en gemensam ansökan räknas för den första sökande)",
            " (a joint application counts for the first applicant)")
        what = tr(lang, "Beviljade ansökningar per förvaltning", "Granted applications per administration") + joint
        limit, value = tr(lang, f"högst {check.limit}", f"at most {check.limit}"), str(check.value)
    elif check.kind == "max_amount":
        what = tr(lang, "Beviljat belopp högst fondens högsta belopp och högst det sökta",
                  "Amount granted at most the fund's maximum and at most the request")
        limit, value = tr(lang, "högst ", "at most ") + kr(check.limit), kr(check.value)
    else:
        what = tr(lang, "Endast behöriga ansökningar beviljas", "Only eligible applications are granted")
        limit = esc(tr(lang, "behörig", "eligible"))
        value = esc(tr(lang, "behörig", "eligible") if check.met else tr(lang, "ej behörig", "not eligible"))
    return [esc(check.subject), esc(what), limit, value, met_word(check.met, lang)]


def _checks(params: Params, summary: Summary, lang: str) -> str:
    n, unmet = len(summary.checks), [c for c in summary.checks if not c.met]
    if unmet:
        lead = tr(lang, f"<strong class=\"unmet\">{len(unmet)} av {n} kontroller är inte uppfyllda.</strong> "
                        "Förslaget följer inte årets regler och ska rättas innan beslut.",
                  f"<strong class=\"unmet\">{len(unmet)} of {n} checks are not met.</strong> "
                  "The proposal does not follow this year's rules and must be corrected before a decision.")
    else:
        lead = tr(lang, f"Alla {n} kontroller är uppfyllda.", f"All {n} checks are met.")
    body = [paragraph(lead + " " + esc(tr(
        lang, "Kontrollerna räknas om från besluten ovan, oberoende av fördelningen: fondens budget, antalet "
              "beviljade ansökningar per förvaltning, högsta belopp per ansökan och att bara behöriga ansökningar "
              "beviljas.",
        "The checks are recounted from the decisions above, independently of the allocation: the fund's budget, "
        "the number of granted applications per administration, the maximum per application, and that only "
        "eligible applications are granted.")))]
    cols = [Col(tr(lang, "Gäller", "Subject")), Col(tr(lang, "Kontroll", "Check")),
            Col(tr(lang, "Gräns", "Limit"), True), Col(tr(lang, "Utfall", "Outcome"), True),
            Col(tr(lang, "Resultat", "Result"))]
    for code, fund in params.funds.items():
        checks = sorted((c for c in summary.checks if c.fund == code), key=lambda c: _CHECK_ORDER.index(c.kind))
        rows = [_check_row(c, fund, lang) for c in checks]
        met = sum(c.met for c in checks)
        caption = tr(lang, f"Kontroller {code} {params.year}: {met} av {len(checks)} uppfyllda",
                     f"Checks {code} {params.year}: {met} of {len(checks)} met")
        body.append(table(caption, cols, rows, css="checks"))
    return section("kontroller", tr(lang, "Kontroll av regler och tak", "Checks of the rules and caps"), body)


def _provenance(params: Params, manifest: Mapping[str, Any], lang: str) -> str:
    version = manifest.get("package_version", tr(lang, "okänd", "unknown"))
    year = manifest.get("year", params.year)
    body = [paragraph(esc(tr(
        lang, f"Beslutsunderlaget är framställt med fou-review {version} ur filerna nedan. Kontrollsummorna "
              "(SHA-256) visar vilka filer det bygger på; samma filer ger exakt samma beslutsunderlag. "
              f"Kommandot fou-review verify {year} gör om körningen och jämför.",
        f"This record was made with fou-review {version} from the files below. The checksums (SHA-256) show "
        "which files it rests on; the same files give exactly the same record. The command "
        f"fou-review verify {year} runs it again and compares.")))]
    files: list[tuple[str, str]] = []
    notebook = manifest.get("notebook")
    if isinstance(notebook, Mapping):
        files.append((str(notebook.get("path", "")), str(notebook.get("sha256", ""))))
    for item in manifest.get("inputs") or ():
        if isinstance(item, Mapping):
            files.append((str(item.get("path", "")), str(item.get("sha256", ""))))
    cols = [Col(tr(lang, "Fil", "File")), Col("SHA-256")]
    body.append(table(tr(lang, "Filer som beslutsunderlaget bygger på", "Files this record rests on"), cols,
                      [[f"<code>{esc(p)}</code>", f'<code class="hash">{esc(h)}</code>'] for p, h in files],
                      css="provenance"))
    parameters = manifest.get("parameters")
    if isinstance(parameters, Mapping) and parameters:
        items = "\n".join(f"<dt><code>{esc(k)}</code></dt><dd><code>{esc(_plain(parameters[k]))}</code></dd>"
                          for k in sorted(parameters, key=str))
        body.append(f"<h3>{esc(tr(lang, 'Körningens parametrar', 'Parameters of the run'))}</h3>")
        body.append(f'<dl class="parameters">\n{items}\n</dl>')
    body.append(f"<p>{esc(tr(lang, 'Programversion', 'Package version'))}: <code>{esc(version)}</code></p>")
    superseded = manifest.get("supersedes")
    if isinstance(superseded, Mapping):
        body.append(paragraph(
            esc(tr(lang, "Detta beslutsunderlag ersätter ett tidigare, som finns kvar oförändrat: ",
                   "This record supersedes an earlier one, which is kept unchanged: "))
            + f"<code>{esc(superseded.get('path', ''))}</code> (SHA-256 "
            f'<code class="hash">{esc(superseded.get("sha256", ""))}</code>).'))
    else:
        body.append(paragraph(esc(tr(lang, "Detta beslutsunderlag ersätter inget tidigare.",
                                     "This record supersedes no earlier one."))))
    return section("ursprung", tr(lang, "Underlagets ursprung", "Provenance"), body)


def _plain(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = ["record_title", "render_record_sections"]
