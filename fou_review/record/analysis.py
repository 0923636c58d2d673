"""The record's section on reviewer calibration and the robustness of the decision.

`render_analysis(review, lang) -> str` gathers `core.calibration.calibrate` and
`core.robustness.robustness` of the year's inputs into the `analysis.html.j2` template: the method
named, each reviewer's bias and spread with their uncertainty, raw and calibrated totals side by side
per fund, which decisions calibration would change, and per fund how often each ranked application
is granted with a reviewer left out and in the reviewer resamples, marking those at the funding line
that cannot be told apart. Values computed from illustrative scores carry the illustrative mark.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from fou_review.core.agreement import agreement
from fou_review.core.allocation import natural_order
from fou_review.core.calibration import Calibration
from fou_review.core.params import Params
from fou_review.core.pipeline import Review
from fou_review.core.robustness import Robustness
from fou_review.record.markup import Cell, Col, Part, Table, col, render
from fou_review.texts.catalog import format_kr_each, format_number, format_number_each, t


def _mark(params: Params, kind: str, lang: str) -> str:
    return t(lang, "record", "record.illustrative") if kind in params.illustrative else ""


def _percent(share: float, lang: str) -> str:
    return f"{format_number(share * 100, lang, 0)}\u00a0%"


def _interval(low: float, high: float, lang: str) -> str:
    return t(lang, "record", "record.analysis.interval", low=format_number(low, lang), high=format_number(high, lang))


def _in_natural_order(ids: list[str]) -> list[str]:
    """`ids` sorted by `natural_key` (`natural_order`: without a key per id where they share one pattern)."""
    return [ids[k] for k in natural_order(ids, np.arange(len(ids))).tolist()]


def _ranks(frame: pd.DataFrame, name: str, positions: list[int]) -> list[str]:
    """A column of ranks at `positions`, in that order: each a whole number, "–" where it is missing."""
    values, missing = frame[name].tolist(), frame[name].isna().tolist()
    return ["–" if missing[k] else str(int(values[k])) for k in positions]


def _bias_table(cal: Calibration, params: Params, lang: str) -> Table:
    conf = _percent(cal.confidence, lang)
    scores = _mark(params, "scores", lang)
    cols = [col(lang, "record.analysis.col.reviewer", badge=_mark(params, "reviewers", lang)),
            col(lang, "record.analysis.col.n_scores", True),
            col(lang, "record.analysis.col.bias", True, badge=scores),
            col(lang, "record.analysis.col.bias_se", True),
            Col(t(lang, "record", "record.analysis.col.bias_interval", confidence=conf), True),
            col(lang, "record.analysis.col.spread", True, badge=scores),
            Col(t(lang, "record", "record.analysis.col.spread_interval", confidence=conf), True)]
    rows: list[list[Cell]] = [[r.reviewer, str(r.n_scores), format_number(r.bias, lang), format_number(r.bias_se, lang),
                               _interval(r.bias_low, r.bias_high, lang), format_number(r.spread, lang),
                               _interval(r.spread_low, r.spread_high, lang)] for r in cal.reviewers]
    return Table(t(lang, "record", "record.analysis.bias_caption", year=params.year), cols, rows, css="calibration")


def _column(frame: pd.DataFrame, name: str, positions: list[int]) -> list[Any]:
    """A column's values at `positions`, in that order."""
    values = frame[name].tolist()
    return [values[k] for k in positions]


def _totals_tables(cal: Calibration, params: Params, lang: str) -> list[Table]:
    scores = _mark(params, "scores", lang)
    tables = []
    for code in params.funds:
        mine = cal.totals[(cal.totals["fund"] == code) & cal.totals["total_raw"].notna()]
        ids = [str(i) for i in mine["id"].tolist()]
        at = natural_order(ids, np.arange(len(ids))).tolist()  # the rows by their ids in natural order
        cols = [col(lang, "record.col.id", css="nowrap"),
                col(lang, "record.analysis.col.total_raw", True, badge=scores),
                col(lang, "record.analysis.col.total_calibrated", True, badge=scores),
                col(lang, "record.analysis.col.rank_raw", True), col(lang, "record.analysis.col.rank_calibrated", True),
                col(lang, "record.analysis.col.granted_raw", True),
                col(lang, "record.analysis.col.granted_calibrated", True)]
        rows: list[tuple[Cell, ...]] = list(zip(
            [ids[k] for k in at],
            format_number_each([float(v) for v in _column(mine, "total_raw", at)], lang),
            format_number_each([float(v) for v in _column(mine, "total_calibrated", at)], lang),
            _ranks(mine, "rank_raw", at), _ranks(mine, "rank_calibrated", at),
            format_kr_each([int(v) for v in _column(mine, "granted_raw_kr", at)]),
            format_kr_each([int(v) for v in _column(mine, "granted_calibrated_kr", at)]), strict=True))
        tables.append(Table(t(lang, "record", "record.analysis.totals_caption", fund=code, year=params.year), cols,
                            rows, css="calibration-totals", empty=t(lang, "record", "record.ranking.none")))
    return tables


def _robust_tables(rob: Robustness, params: Params, lang: str) -> list[Table]:
    n_loo = rob.leave_one_out.shape[1]
    kept_all = rob.loo_kept.tolist()
    ids = [str(i) for i in rob.ids]
    funded_all, uncertain_all = rob.funded.tolist(), rob.uncertain.tolist()
    shares = rob.bootstrap_share.astype(float).tolist()
    words = {True: t(lang, "record", "record.robust.yes"), False: t(lang, "record", "record.robust.no")}
    at_line: Cell = (Part(t(lang, "record", "record.robust.uncertain"), "strong"),)
    # The counts and shares repeat (at most n + 1 and resamples + 1 values): each written once.
    of = cache(lambda k: t(lang, "record", "record.robust.of", k=k, n=max(n_loo, 1)))
    percent = cache(lambda share: _percent(share, lang))
    tables = []
    for code in params.funds:
        mine = np.flatnonzero((rob.funds == code) & rob.ranked)
        rows: list[list[Cell]] = [
            [ids[i], words[bool(funded_all[i])], of(kept_all[i]), percent(shares[i]),
             at_line if uncertain_all[i] else "–"]
            for i in natural_order([ids[k] for k in mine.tolist()], mine).tolist()]
        cols = [col(lang, "record.col.id", css="nowrap"), col(lang, "record.robust.col.decision"),
                col(lang, "record.robust.col.loo", True), col(lang, "record.robust.col.bootstrap", True),
                col(lang, "record.robust.col.uncertain")]
        tables.append(Table(t(lang, "record", "record.robust.caption", fund=code, year=params.year), cols, rows,
                            css="robustness", empty=t(lang, "record", "record.ranking.none"),
                            badge=_mark(params, "scores", lang)))
    return tables


def render_analysis(review: Review, lang: str) -> str:
    """The calibration and robustness section (see the module docstring)."""
    params = review.inputs.params
    shared = agreement(review)  # computed once per review: the workbook's view shows the same
    cal, rob = shared.calibration, shared.robustness
    settings = params.robustness
    conf = _percent(settings.confidence, lang)
    changed = _in_natural_order(list({c.id for c in cal.changes}))
    uncertain = _in_natural_order([str(i) for i in rob.ids[rob.uncertain]])
    return render(
        "analysis.html.j2", lang,
        method=t(lang, "record", "record.analysis.method", confidence=conf, resamples=settings.bootstrap_resamples,
                 seed=settings.seed),
        uses=t(lang, "record", "record.analysis.uses_calibrated" if cal.applied else "record.analysis.uses_raw"),
        biases=_bias_table(cal, params, lang),
        bias_sd=t(lang, "record", "record.analysis.bias_sd", sd=format_number(cal.bias_sd, lang)),
        totals=_totals_tables(cal, params, lang),
        calibration_changes=(t(lang, "record", "record.analysis.changes", ids=", ".join(changed)) if changed
                             else t(lang, "record", "record.analysis.no_change")),
        robust_lead=t(lang, "record", "record.robust.lead", resamples=settings.bootstrap_resamples,
                      seed=settings.seed, confidence=conf),
        robust=_robust_tables(rob, params, lang),
        uncertain=(t(lang, "record", "record.robust.some_uncertain", ids=", ".join(uncertain)) if uncertain
                   else t(lang, "record", "record.robust.none_uncertain")))


__all__ = ["render_analysis"]
