"""The record's appendices: the gross list of every application received, per fund.

Every row carries the decision in words and its reason, and says which of its facts are
illustrative (filled in where the published document is silent) rather than published.
"""

from __future__ import annotations

import pandas as pd

from fou_review.core.pipeline import Review
from fou_review.record.markup import Col, badge, esc, kr, paragraph, section, table, tr

FIELD_WORDS = {  # column -> (sv, en), for the note on which facts of a published row are illustrative
    "requested_kr": ("sökt belopp", "amount requested"),
    "received": ("inkomstdatum", "date received"),
    "project_year": ("projektår", "project year"),
    "planned_years": ("planerad längd", "planned length"),
    "last_report": ("återrapport", "report"),
    "purpose": ("ändamål", "purpose"),
    "title": ("titel", "title"),
    "applicants": ("sökande", "applicant"),
}
REPORT_EN = {"godkänd": "approved", "ej godkänd": "not approved", "ej inkommen": "not received",
             "ej aktuell": "not applicable"}
PURPOSE_EN = {"studiebesök": "study visit", "studieresa": "study trip", "kurs": "course", "konferens": "conference"}


def _field_words(fields: str, lang: str) -> str:
    # contact_person is never published, so it is not named here either
    return ", ".join(FIELD_WORDS[f][0 if lang == "sv" else 1] for f in fields.split() if f in FIELD_WORDS)


def _source_cell(source: str, fields: str, lang: str, common: str | None) -> str:
    """Published, illustrative, or published with some facts illustrative (named unless `common`)."""
    if source == "illustrative":
        return badge(tr(lang, "illustrativ", "illustrative"))
    words = _field_words(fields, lang)
    if not words:
        return esc(tr(lang, "publicerad", "published"))
    if common is not None:
        return badge(tr(lang, "delvis illustrativ", "partly illustrative"))
    return esc(tr(lang, "publicerad; ", "published; ")) + badge(tr(lang, "illustrativ", "illustrative")) + " " + esc(
        words)


def _common_fields(apps: pd.DataFrame, ids: list[str], lang: str) -> str | None:
    """The illustrative facts, when every partly illustrative published row has the same ones."""
    sets = {_field_words(str(apps.at[i, "illustrative_fields"]), lang) for i in ids
            if apps.at[i, "source"] != "illustrative"} - {""}
    return sets.pop() if len(sets) == 1 else None


def render_appendix(review: Review, fund_code: str, number: int, lang: str) -> str:
    """Bilaga <number>: every application to the fund, in the order received in the input."""
    params = review.inputs.params
    fund = params.funds[fund_code]
    apps = review.inputs.applications.set_index("id")
    rows_frame = review.decisions[review.decisions["fund"] == fund_code]
    ids = list(rows_frame["id"])
    with_years = fund.max_project_years is not None
    with_purpose = any(apps.at[i, "purpose"] for i in ids)
    cols = [Col("Id", css="nowrap"), Col(tr(lang, "Förvaltning", "Administration")),
            Col(tr(lang, fund.title_label_sv, fund.title_label_en)),
            Col(tr(lang, "Inkom", "Received"), css="nowrap")]
    if with_years:
        cols.append(Col(tr(lang, "Projektår", "Project year")))
    if with_purpose:
        cols.append(Col(tr(lang, "Ändamål", "Purpose")))
    cols += [Col(tr(lang, "Återrapport", "Report")), Col(tr(lang, "Sökt", "Requested"), True),
             Col(tr(lang, "Beviljat", "Granted"), True), Col(tr(lang, "Beslut", "Decision")),
             Col(tr(lang, "Skäl", "Reason"), css="wide"), Col(tr(lang, "Uppgifter", "Data"))]
    common = _common_fields(apps, ids, lang)
    rows = []
    for _, d in rows_frame.iterrows():
        a = apps.loc[d["id"]]
        row = [esc(d["id"]), esc(d["applicants"]), esc(d["title"]), esc(a["received"])]
        if with_years:
            row.append(_years(a["project_year"], a["planned_years"], lang))
        if with_purpose:
            purpose = str(a["purpose"])
            row.append(esc(purpose if lang == "sv" else PURPOSE_EN.get(purpose, purpose)))
        report = str(a["last_report"])
        row += [esc(report if lang == "sv" else REPORT_EN.get(report, report)), kr(d["requested_kr"]),
                kr(d["granted_kr"]), f"<strong>{esc(d['decision'] if lang == 'sv' else d['decision_en'])}</strong>",
                esc(d["reason"] if lang == "sv" else d["reason_en"]),
                _source_cell(str(a["source"]), str(a["illustrative_fields"]), lang, common)]
        rows.append(row)
    granted_n = int((rows_frame["granted_kr"] > 0).sum())
    span = len(cols) - 5
    foot = (tr(lang, f"Totalt, {len(rows)} ansökningar: {granted_n} beviljas, {len(rows) - granted_n} avslås",
               f"Total, {len(rows)} applications: {granted_n} granted, {len(rows) - granted_n} rejected"), span,
            [kr(int(rows_frame["requested_kr"].sum())), kr(int(rows_frame["granted_kr"].sum())), "", "", ""])
    name = tr(lang, f"inkomna {fund_code}-ansökningar", f"{fund_code} applications received")
    heading = tr(lang, f"Bilaga {number}: Bruttolista över {name} {params.year}",
                 f"Appendix {number}: Gross list of {name} {params.year}")
    illustrative = int((rows_frame["source"] == "illustrative").sum())
    body = [paragraph(esc(tr(
        lang, f"Alla {len(rows)} ansökningar som kom in till {fund_code}, med beslut och skäl. Rader och uppgifter "
              "märkta ”illustrativ” är inte publicerade i beslutsdokumentet utan ifyllda för att visa reglerna; "
              f"de stämmer med de publicerade summorna. Illustrativa rader: {illustrative}.",
        f"All {len(rows)} applications received for {fund_code}, with decision and reason. Rows and facts marked "
        "“illustrative” are not published in the decision document but filled in to show the rules at work; "
        f"they agree with the published totals. Illustrative rows: {illustrative}.")))]
    if common is not None:
        body.append(paragraph(esc(tr(lang, f"I rader märkta ”delvis illustrativ” är dessa uppgifter illustrativa: {common}.",
                                     f"In rows marked “partly illustrative” these facts are illustrative: {common}."))))
    body.append('<div class="scroll">' + table(heading, cols, rows, foot=foot, css="gross",
                                                 empty=tr(lang, "Inga ansökningar kom in.",
                                                          "No applications were received.")) + "</div>")
    return section(f"bilaga-{number}", heading, body)


def _years(year: object, planned: object, lang: str) -> str:
    if pd.isna(year) and pd.isna(planned):
        return "–"
    y = "–" if pd.isna(year) else str(int(year))  # type: ignore[call-overload]
    p = "–" if pd.isna(planned) else str(int(planned))  # type: ignore[call-overload]
    return esc(tr(lang, f"{y} av {p}", f"{y} of {p}"))
