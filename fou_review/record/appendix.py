"""The record's appendices: the gross list of every application received, per fund.

Every row carries the decision in words and its reason, and says which of its facts are
illustrative (filled in where the published document is silent) rather than published.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import pandas as pd

from fou_review.core.pipeline import Review
from fou_review.record.markup import Cell, Col, Foot, Part, Table, col, localized, render
from fou_review.record.rules import DECISION_COLUMNS
from fou_review.texts.catalog import format_kr, format_kr_each, t

# The columns whose values a published row may have illustrative; named in the note by
# ``record.field.<column>`` (contact_person is never published, so it is not named either).
FIELDS = ("requested_kr", "received", "project_year", "planned_years", "last_report", "purpose", "title",
          "applicants")
# Values of the inputs' Swedish vocabularies, shown through ``record.report.<id>`` / ``record.purpose.<id>``.
REPORTS = {"godkänd": "approved", "ej godkänd": "not_approved", "ej inkommen": "not_received",
           "ej aktuell": "not_applicable"}
PURPOSES = {"studiebesök": "study_visit", "studieresa": "study_trip", "kurs": "course", "konferens": "conference"}
_VOCABULARIES = {"purpose": PURPOSES, "report": REPORTS}


@cache
def _field_words(fields: str, lang: str) -> str:
    return ", ".join(t(lang, "record", f"record.field.{f}") for f in fields.split() if f in FIELDS)


def _vocabulary(value: str, kind: str, lang: str) -> str:
    """A value of the inputs' purposes or reports (`kind`) in `lang` (a value outside them as it is)."""
    ids = _VOCABULARIES[kind]
    return t(lang, "record", f"record.{kind}.{ids[value]}") if value in ids else value


@cache
def _source_cell(source: str, fields: str, lang: str, common: str | None) -> Cell:
    """Published, illustrative, or published with some facts illustrative (named unless `common`)."""
    if source == "illustrative":
        return (Part(t(lang, "record", "record.illustrative"), "badge"),)
    words = _field_words(fields, lang)
    if not words:
        return t(lang, "record", "record.appendix.published")
    if common is not None:
        return (Part(t(lang, "record", "record.appendix.partly_illustrative"), "badge"),)
    return (Part(t(lang, "record", "record.appendix.published_but")), Part(" "),
            Part(t(lang, "record", "record.illustrative"), "badge"),
            Part(" "), Part(words))


def _common_fields(sources: list[str], fields: list[str], lang: str) -> str | None:
    """The illustrative facts, when every partly illustrative published row has the same ones."""
    sets = {_field_words(str(f), lang) for s, f in zip(sources, fields, strict=True) if s != "illustrative"} - {""}
    return sets.pop() if len(sets) == 1 else None


def _gross_rows(rows_frame: pd.DataFrame, apps: pd.DataFrame, columns: tuple[bool, bool], common: str | None,
                lang: str) -> list[tuple[Cell, ...]]:
    """One row per application of the fund (`apps`: each row's application, in the same order), written a
    column at a time."""
    with_years, with_purpose = columns
    decision_col, reason_col = DECISION_COLUMNS[lang]
    # Administrations, project years, purposes, reports and sources repeat: each text is written once.
    as_written, years, vocabulary = cache(_as_written), cache(_project_year), cache(_vocabulary)
    strong = cache(lambda words: (Part(words, "strong"),))  # the decision in bold, one cell per decision word
    cells: list[Sequence[Cell]] = [
        [str(a) for a in rows_frame["id"].tolist()],
        [as_written(str(a), str(w), lang)
         for a, w in zip(rows_frame["applicants"].tolist(), apps["applicants_as_written"].tolist(), strict=True)],
        [str(title) for title in rows_frame["title"].tolist()], [str(r) for r in apps["received"].tolist()]]
    if with_years:
        labels = apps["continues_label"].tolist() if "continues_label" in apps.columns else [""] * len(apps)
        cells.append([years(str(label), year, planned, lang) for label, year, planned in
                      zip(labels, _whole_each(apps["project_year"]), _whole_each(apps["planned_years"]), strict=True)])
    if with_purpose:
        cells.append([vocabulary(str(purpose), "purpose", lang) for purpose in apps["purpose"].tolist()])
    cells += [[vocabulary(str(report), "report", lang) for report in apps["last_report"].tolist()],
              format_kr_each([int(v) for v in rows_frame["requested_kr"].tolist()]),
              format_kr_each([int(v) for v in rows_frame["granted_kr"].tolist()]),
              [strong(str(words)) for words in rows_frame[decision_col].tolist()],
              [str(reason) for reason in rows_frame[reason_col].tolist()],
              [_source_cell(str(source), str(fields), lang, common)
               for source, fields in zip(apps["source"].tolist(), apps["illustrative_fields"].tolist(), strict=True)]]
    return list(zip(*cells, strict=True))


def render_appendix(review: Review, fund_code: str, number: int, lang: str) -> str:
    """Bilaga <number>: every application to the fund, in the order received in the input."""
    params = review.inputs.params
    fund = params.funds[fund_code]
    rows_frame = review.decisions[review.decisions["fund"] == fund_code]
    apps = review.inputs.applications.set_index("id").loc[rows_frame["id"]]  # each row's application
    with_years = fund.max_project_years is not None
    with_purpose = any(apps["purpose"].tolist())
    cols = [col(lang, "record.col.id", css="nowrap"), col(lang, "record.col.administration"),
            Col(localized(fund, "title_label", lang)), col(lang, "record.col.received", css="nowrap")]
    if with_years:
        cols.append(col(lang, "record.col.project_year"))
    if with_purpose:
        cols.append(col(lang, "record.col.purpose"))
    cols += [col(lang, "record.col.report"), col(lang, "record.col.requested", True),
             col(lang, "record.col.granted", True), col(lang, "record.col.decision"),
             col(lang, "record.col.reason", css="wide"), col(lang, "record.col.data")]
    common = _common_fields(apps["source"].tolist(), apps["illustrative_fields"].tolist(), lang)
    rows = _gross_rows(rows_frame, apps, (with_years, with_purpose), common, lang)
    granted_n = int((rows_frame["granted_kr"] > 0).sum())
    foot = Foot(t(lang, "record", "record.appendix.total", n=len(rows), granted=granted_n,
                  rejected=len(rows) - granted_n),
                len(cols) - 5, [format_kr(int(rows_frame["requested_kr"].sum())),
                                format_kr(int(rows_frame["granted_kr"].sum())), "", "", ""])
    heading = t(lang, "record", "record.appendix.heading", number=number, fund=fund_code, year=params.year)
    from fou_review.record.sections import agrees_with_published  # sections imports this module

    lead_id = "record.appendix.lead" if agrees_with_published(review) else "cycle.appendix.lead"
    return render("appendix.html.j2", lang, id=f"bilaga-{number}", heading=heading, n=len(rows), fund=fund_code,
                  lead_id=lead_id,
                  illustrative=int((rows_frame["source"] == "illustrative").sum()), common=common,
                  gross=Table(heading, cols, rows, foot=foot, css="gross",
                              empty=t(lang, "record", "record.appendix.none")))


def _whole_each(column: pd.Series) -> list[int | None]:
    """A column of whole numbers of the inputs, None where one is missing (a key for a cache, unlike pandas' NA)."""
    return [None if gone else int(value) for value, gone in zip(column.tolist(), column.isna().tolist(), strict=True)]


def _project_year(label: str, year: int | None, planned: int | None, lang: str) -> str:
    """The project year column: a continuation's (`_continuation`), else the year of the planned years."""
    return _continuation(label, year, planned, lang) or _years(year, planned, lang)


def _as_written(resolved: str, written: str, lang: str) -> str:
    """The administration as resolved, and as written when that differs ("Järva (skrivet: Rinkeby-Kista)")."""
    same = " & ".join(p.strip() for p in written.split("&") if p.strip()) == resolved
    return resolved if same or not written else t(lang, "record", "cycle.as_written", name=resolved, written=written)


def _continuation(label: str, year: object, planned: object, lang: str) -> str:
    """A continuation's project year: "fortsättning av LUM-02 (2023), år 3 av 3"; "" for a new project."""
    if not label or pd.isna(year):
        return ""
    p = "–" if pd.isna(planned) else str(int(planned))  # type: ignore[call-overload]
    return t(lang, "record", "cycle.continuation", id=label, year=int(year), planned=p)  # type: ignore[call-overload]


def _years(year: object, planned: object, lang: str) -> str:
    if pd.isna(year) and pd.isna(planned):
        return "–"
    y = "–" if pd.isna(year) else str(int(year))  # type: ignore[call-overload]
    p = "–" if pd.isna(planned) else str(int(planned))  # type: ignore[call-overload]
    return t(lang, "record", "record.appendix.years", year=y, planned=p)
