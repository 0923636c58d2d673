"""The words of every decision: a reason code and its text in Swedish and English."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from string import Formatter

import numpy as np
import pandas as pd

from fou_review.texts.money import format_kr

DECISION_WORDS = {  # decision -> (sv, en)
    "granted": ("beviljas", "granted"),
    "partly": ("beviljas delvis", "partly granted"),
    "rejected": ("avslås", "rejected"),
}

TEXTS: dict[str, tuple[str, str]] = {
    "granted": ("Beviljas: rangordnad {rank} av {ranked} i {fund} och ryms i budgeten.",
                "Granted: ranked {rank} of {ranked} in {fund} and fits the budget."),
    "granted_reduced": ("Beviljas med högsta beloppet {max_kr}: sökt belopp {requested_kr} är över taket.",
                        "Granted at the maximum {max_kr}: the request of {requested_kr} is over the cap."),
    "granted_partial": (("Beviljas delvis: rangordnad {rank} av {ranked}; återstående budget {remaining_kr} "
                        "räckte inte till hela beloppet."),
                        ("Partly granted: ranked {rank} of {ranked}; the remaining budget of {remaining_kr} did "
                        "not cover the whole request.")),
    "override": ("Nämndens beslut, avviker från beräkningen: {override_reason}",
                 "The committee's decision, departing from the computation: {override_reason}"),
    "rejected_cap": (("Avslås: {partner} har redan beviljats {cap} ansökningar i {fund} (högst {cap} per "
                     "förvaltning{joint_sv})."),
                     ("Rejected: {partner} already has {cap} granted applications in {fund} (at most {cap} per "
                     "administration{joint_en}).")),
    "rejected_budget": (("Avslås: rangordnad {rank} av {ranked}; återstående budget {remaining_kr} räcker inte "
                        "till sökt belopp {requested_kr}."),
                        ("Rejected: ranked {rank} of {ranked}; the remaining budget of {remaining_kr} does not "
                        "cover the request of {requested_kr}.")),
    "not_scored": ("Avslås: ansökan saknar bedömning i minst ett kriterium och kan inte rangordnas.",
                   "Rejected: the application lacks scores for at least one criterion and cannot be ranked."),
}

INELIGIBLE: dict[str, tuple[str, str]] = {
    "unknown_applicant": ("sökande förvaltning finns inte bland årets förvaltningar",
                          "the applicant is not an administration of this year"),
    "no_approved_report": ("godkänd återrapport för förra årets medel saknas",
                           "no approved report on last year's grant"),
    "outside_window": ("ansökan kom in utanför ansökningsperioden {opens}–{closes}",
                       "received outside the application window {opens} to {closes}"),
    "excluded_purpose": ("{fund} beviljas inte för ändamålet {purpose!r}",
                         "{fund} is not granted for the purpose {purpose!r}"),
    "over_maximum": ("sökt belopp {requested_kr} är över högsta beloppet {max_kr}",
                     "the request of {requested_kr} is over the maximum of {max_kr}"),
    "project_too_long": ("projektet är längre än {max_years} år",
                         "the project is longer than {max_years} years"),
}


def template(code: str, lang: str = "sv") -> str:
    """The format string of a decision code (or of an `ineligible:<rule>,<rule>` code)."""
    i = 0 if lang == "sv" else 1
    if code.startswith("ineligible:"):
        head = "Avslås, ej behörig: " if lang == "sv" else "Rejected, not eligible: "
        return head + "; ".join(INELIGIBLE[rule][i] for rule in code.split(":", 1)[1].split(",")) + "."
    return TEXTS[code][i]


def _shown(key: str, value: object) -> object:
    return format_kr(value) if key.endswith("_kr") and isinstance(value, int) else value


def explain(code: str, facts: Mapping[str, object], lang: str = "sv") -> str:
    """The reason text for a decision code (or an `ineligible:<rule>,<rule>` code)."""
    return template(code, lang).format(**{k: _shown(k, v) for k, v in facts.items()})


def _used_fields(code: str) -> tuple[str, ...]:
    """The facts the Swedish and English texts of a code actually use."""
    names = {name for lang in ("sv", "en") for _, name, _, _ in Formatter().parse(template(code, lang)) if name}
    return tuple(sorted(names))


def _column(values: Sequence[object] | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuO":
        return values
    column = np.empty(len(values), dtype=object)
    column[:] = list(values)
    return column


def _convert(value: object, conversion: str | None) -> object:
    return repr(value) if conversion == "r" else ascii(value) if conversion == "a" else value


def _bind(text: str, shared: Mapping[str, object], by_row: tuple[str, ...]) -> tuple[str, tuple[int, ...]] | None:
    """The template with the shared facts filled in now, as a %-template for the per-row facts.

    Returns the %-template and, for each of its %s/%r, the index in `by_row` of the fact it shows
    (%-formatting a tuple is the cheapest way to write many texts); None when a per-row field has a
    format spec, which %-formatting cannot express.
    """
    out: list[str] = []
    order: list[int] = []
    for literal, name, spec, conversion in Formatter().parse(text):
        out.append(literal.replace("%", "%%"))
        if name is None:
            continue
        if name in shared:
            out.append(format(_convert(shared[name], conversion), spec or "").replace("%", "%%"))
        elif spec:
            return None
        else:
            out.append("%r" if conversion == "r" else "%a" if conversion == "a" else "%s")
            order.append(by_row.index(name))
    return "".join(out), tuple(order)


def explain_many(codes: Sequence[str], row_facts: Mapping[str, Sequence[object] | np.ndarray],
                 groups: Sequence[str],
                 group_facts: Mapping[str, Mapping[str, object]]) -> tuple[list[str], list[str]]:
    """`explain` for many rows at once, in Swedish and English.

    `row_facts` holds one value per row; `group_facts[groups[i]]` the facts shared by a group of rows
    (a fund's limits). Rows are handled per (code, group): the group's facts are filled into the
    template once, each distinct amount is written out once, then each row's text is one %-format.
    """
    n = len(codes)
    sv = np.empty(n, dtype=object)
    en = np.empty(n, dtype=object)
    if n == 0:
        return [], []
    columns = {k: _column(v) for k, v in row_facts.items()}
    code_ids, code_names = pd.factorize(np.asarray(codes, dtype=object))
    group_ids, group_names = pd.factorize(np.asarray(groups, dtype=object))
    combined = code_ids * len(group_names) + group_ids
    order = np.argsort(combined, kind="stable")
    cuts = np.flatnonzero(np.diff(combined[order])) + 1
    for rows in np.split(order, cuts):  # the rows of one (code, group)
        code, group = str(code_names[code_ids[rows[0]]]), str(group_names[group_ids[rows[0]]])
        used = _used_fields(code)
        by_row = tuple(k for k in used if k in columns)
        shared = {k: _shown(k, group_facts[group][k]) for k in used if k not in columns}
        shown_columns = []
        for k in by_row:
            raw = columns[k][rows].tolist()
            if k.endswith("_kr"):  # amounts are written out once per distinct value
                look = {v: _shown(k, v) for v in set(raw)}
                raw = [look[v] for v in raw]
            shown_columns.append(raw)
        for out, lang in ((sv, "sv"), (en, "en")):
            bound = _bind(template(code, lang), shared, by_row)
            if bound is None:  # a format spec on a per-row fact: the general (slower) way
                text = template(code, lang)
                out[rows] = [text.format_map({**shared, **dict(zip(by_row, values, strict=True))})
                             for values in zip(*shown_columns, strict=True)]
            elif bound[1]:
                out[rows] = [bound[0] % values for values in zip(*(shown_columns[i] for i in bound[1]), strict=True)]
            else:
                out[rows] = bound[0] % ()
    return sv.tolist(), en.tolist()
