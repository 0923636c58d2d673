"""The record's rules and criteria as applied that year, and the ranking with its scores."""

from __future__ import annotations

from functools import reduce
from itertools import compress
from operator import not_
from typing import Any

import pandas as pd

from fou_review.core.params import Criterion, Fund, Params, TieBreakKey
from fou_review.core.pipeline import Review
from fou_review.record.markup import Cell, Col, Part, Table, col, localized, render
from fou_review.texts.catalog import format_kr, format_kr_each, format_long_date, format_number, format_number_each, t

# The decision's columns in each language (the core writes the decision and reason in both).
DECISION_COLUMNS = {"sv": ("decision", "reason"), "en": ("decision_en", "reason_en")}


def criterion_label(params: Params, code: str, lang: str = "sv") -> str:
    """K1, K2, ...: the short name the tables use for a criterion."""
    return t(lang, "record", "record.criterion_label", n=params.criterion_codes().index(code) + 1)


def _number(value: float, lang: str) -> str:
    return str(int(value)) if float(value).is_integer() else format_number(value, lang)


def _mark(params: Params, kind: str, lang: str) -> str:
    """The illustrative mark's word when the year's `kind` of rule or data is illustrative, else ""."""
    return t(lang, "record", "record.illustrative") if kind in params.illustrative else ""


def _condition(c: Criterion, params: Params, lang: str) -> Cell:
    if not c.requires_any:
        return t(lang, "record", "record.condition.always")
    words = _condition_words(c, params, lang)
    mark = _mark(params, "thresholds", lang)
    return (Part(words), Part(" "), Part(mark, "badge")) if mark else words


def _condition_words(c: Criterion, params: Params, lang: str) -> str:
    parts = [t(lang, "record", "record.condition.at_least", threshold=_number(threshold, lang),
               label=criterion_label(params, o, lang))
             for o, threshold in c.requires_any]
    return t(lang, "record", "record.condition.only_if",
                conditions=reduce(lambda a, b: t(lang, "record", "record.or", first=a, second=b), parts))


def _fund_rules(fund: Fund, lang: str) -> list[Cell]:
    budget: Cell = format_kr(fund.budget_kr)
    if fund.budget_source == "illustrative":
        budget = (Part(format_kr(fund.budget_kr)), Part(" "), Part(t(lang, "record", "record.illustrative"), "badge"))
    joint = t(lang, "record", f"record.joint.{fund.joint_counts_for}")
    excluded = ", ".join(fund.excluded_purposes) or t(lang, "record", "record.none")
    years = (t(lang, "record", "record.rules.years", years=fund.max_project_years) if fund.max_project_years
             else t(lang, "record", "record.rules.no_limit"))
    rest = (t(lang, "record", "record.rules.remainder_partial", minimum=format_kr(fund.remainder.minimum_kr))
            if fund.remainder.partial else t(lang, "record", "record.rules.remainder_next"))
    window = f"{fund.window.opens.isoformat()} – {fund.window.closes.isoformat()}"
    return [budget, t(lang, "record", "record.rules.max_amount", amount=format_kr(fund.max_amount_kr),
                         policy=t(lang, "record", f"record.over_max.{fund.over_max}")),
            t(lang, "record", "record.rules.cap", cap=fund.max_granted_per_applicant, joint=joint), window, excluded,
            years, rest]


def _tie_break_words(key: TieBreakKey, lang: str, params: Params) -> str:
    order = "desc" if key.descending else "asc"
    if key.key.startswith("criterion:"):
        label = criterion_label(params, key.key.split(":", 1)[1], lang)
        return t(lang, "record", f"record.tie.criterion.{order}", label=label)
    return t(lang, "record", f"record.tie.{key.key}.{order}")


_RULES = ("budget", "max_amount", "cap", "window", "excluded", "years", "remainder")


def render_rules(review: Review, lang: str) -> str:
    """Budgets, caps, windows and criteria of the year, all from the parameters."""
    params = review.inputs.params
    d = params.decision
    per_fund = [_fund_rules(f, lang) for f in params.funds.values()]
    cols = [col(lang, "record.col.rule")] + [Col(code) for code in params.funds]
    rows: list[list[Cell]] = [[t(lang, "record", f"record.rule.{rule}"), *(cells[i] for cells in per_fund)]
                              for i, rule in enumerate(_RULES)]
    rules = Table(t(lang, "record", "record.rules.caption", year=params.year), cols, rows, css="rules")
    scale = params.scale
    descriptors = getattr(scale, f"descriptors_{lang}")
    scale_table = Table(t(lang, "record", "record.scale.caption"),
                        [col(lang, "record.col.grade"), col(lang, "record.col.descriptor")],
                        [[str(g), str(descriptors[g])] for g in sorted(descriptors)], css="scale",
                        badge=_mark(params, "scale", lang))
    criteria = Table(t(lang, "record", "record.criteria.caption", year=params.year),
                     [col(lang, "record.col.number"), col(lang, "record.col.criterion"),
                      col(lang, "record.col.weight", True, badge=_mark(params, "weights", lang)),
                      col(lang, "record.col.condition")],
                     [[criterion_label(params, c.code, lang), localized(c, "name", lang), str(c.weight),
                       _condition(c, params, lang)] for c in params.criteria], css="criteria")
    return render("rules.html.j2", lang, year=params.year, rules=rules,
                  deadline=format_long_date(d.repayment_deadline, lang), address=d.repayment_address,
                  reviewers=len(params.reviewers), minimum=scale.minimum, maximum=scale.maximum,
                  scale=scale_table, criteria=criteria,
                  scoring_mark=_mark(params, "reviewers", lang) or _mark(params, "scale", lang),
                  tie_break_mark=_mark(params, "tie_break", lang),
                  tie_break=[_tie_break_words(k, lang, params) for k in params.tie_break])


def _score_cells(means: list[str], spreads: list[int], counts: list[bool], lang: str) -> list[Cell]:
    """One criterion's score cells: mean and spread, marked when the criterion does not count for the row
    (one cell object per text, so the template writes each marked text once)."""
    pairs = list(zip(means, map(int, spreads), strict=True))
    written = {pair: t(lang, "record", "record.ranking.score", mean=pair[0], spread=pair[1])
               for pair in dict.fromkeys(pairs)}  # each (mean, spread) written once: they repeat at scale
    texts = list(map(written.__getitem__, pairs))
    cells: list[Cell] = list(texts)
    marked: dict[str, Cell] = {}
    for k in compress(range(len(texts)), map(not_, counts)):
        score = texts[k]
        if score not in marked:
            marked[score] = (Part(score), Part(" "), Part(t(lang, "record", "record.ranking.does_not_count"), "badge"))
        cells[k] = marked[score]
    return cells


def _kr_or_dash(amounts: list[Any]) -> list[str]:
    """Each amount in kronor (`format_kr`), "–" where it is missing."""
    missing = [bool(pd.isna(a)) for a in amounts]
    written = iter(format_kr_each([int(a) for a, gone in zip(amounts, missing, strict=True) if not gone]))
    return ["–" if gone else next(written) for gone in missing]


def _ranking_rows(rows_frame: pd.DataFrame, by_id: pd.DataFrame, params: Params, lang: str) -> tuple[
        list[tuple[Cell, ...]], list[str]]:
    """The ranking table's rows of one fund, and the criteria that do not count ("K2 för LUM-07")."""
    if rows_frame.empty:
        return [], []
    codes = params.criterion_codes()
    labels = {c: criterion_label(params, c, lang) for c in codes}
    d = by_id.loc[rows_frame["id"]]  # the decision of every ranked row, in the ranking's order
    ids = rows_frame["id"].tolist()
    counts = [rows_frame[f"{c}_counts"].tolist() for c in codes]
    scores = [_score_cells(format_number_each(rows_frame[f"{c}_mean"].tolist(), lang),
                           rows_frame[f"{c}_spread"].tolist(), counted, lang) for c, counted in zip(codes, counts)]
    n_min = rows_frame[[f"{c}_n" for c in codes]].astype(int).min(axis=1).tolist() if codes else []
    reviewers = [t(lang, "record", "record.ranking.reviewers_conflicted", n=n, conflicted=int(conflicted))
                 if int(conflicted) else str(n)
                 for n, conflicted in zip(n_min, rows_frame["conflicted_reviewers"].tolist(), strict=True)]
    rows = list(zip([str(int(rank)) for rank in rows_frame["rank"].tolist()], [str(i) for i in ids],
                    [str(a) for a in d["applicants"].tolist()], *scores,
                    format_number_each(rows_frame["total_score"].tolist(), lang), reviewers,
                    _kr_or_dash(d["budget_before_kr"].tolist()),
                    [str(decision) for decision in d[DECISION_COLUMNS[lang][0]].tolist()], strict=True))
    # each row's criteria that do not count, row by row (found a criterion at a time)
    gaps = sorted((k, j) for j, counted in enumerate(counts) for k in compress(range(len(ids)), map(not_, counted)))
    not_counted = [t(lang, "record", "record.ranking.criterion_for", label=labels[codes[j]], id=ids[k])
                   for k, j in gaps]
    return rows, not_counted


def render_ranking(review: Review, lang: str) -> str:
    """Per fund: the ranked applications with mean score per criterion, spread, total and decision."""
    params, decisions = review.inputs.params, review.decisions
    reason_col = DECISION_COLUMNS[lang][1]
    ranked = review.allocation.ranked
    by_id = decisions.set_index("id")
    funds = []
    for fund_code in params.funds:
        rows_frame = ranked[ranked["fund"] == fund_code] if len(ranked) else ranked
        cols = [col(lang, "record.col.rank", True), col(lang, "record.col.id", css="nowrap"),
                col(lang, "record.col.administration")]
        scores = _mark(params, "scores", lang)
        cols += [Col(t(lang, "record", "record.ranking.criterion_col", label=criterion_label(params, c.code, lang),
                          weight=c.weight), True, badge=scores) for c in params.criteria]
        cols += [col(lang, "record.col.total_score", True, badge=scores),
                 col(lang, "record.col.reviewers", True,
                     badge=_mark(params, "conflicts", lang) or _mark(params, "reviewers", lang)),
                 col(lang, "record.col.left_before", True), col(lang, "record.col.decision")]
        rows, not_counted = _ranking_rows(rows_frame, by_id, params, lang)
        unranked = decisions[(decisions["fund"] == fund_code) & decisions["rank"].isna()]
        funds.append({
            "table": Table(t(lang, "record", "record.ranking.caption", fund=fund_code, year=params.year), cols, rows,
                           css="ranking", empty=t(lang, "record", "record.ranking.none")),
            "not_counted": ", ".join(not_counted),
            "unranked": [("line", (str(i), str(r)))  # (the template's macro, its arguments)
                         for i, r in zip(unranked["id"].tolist(), unranked[reason_col].tolist(), strict=True)],
        })
    return render("ranking.html.j2", lang, funds=funds)
