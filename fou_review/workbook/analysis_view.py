"""The workbook's views of the year: the eligibility screen, and agreement between reviewers,
calibration and robustness recomputed from the saved scores.

- `eligibility_screen(review, lang)`: the applications that are not eligible, with every failed rule
  in words (static HTML, shown without trusting the notebook).
- `open_analysis(review, root, lang)`: each reviewer's bias against co-reviewers on the same
  applications and spread, with their uncertainty (`core.calibration.calibrate`), the decisions that
  calibration would change, and per application how often it is funded with each reviewer left out
  and over the reviewer resamples, marking those at the funding line that cannot be told apart
  (`core.robustness.robustness`). A button recomputes it from the score files as saved now.

Amounts are grouped kronor, titles whole, no row index: the record's conventions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import ipywidgets as w
import numpy as np
from IPython.display import HTML, display

from fou_review.collector import paused
from fou_review.core.agreement import agreement
from fou_review.core.allocation import natural_order
from fou_review.core.pipeline import Review, review_year
from fou_review.errors import FouReviewError
from fou_review.texts.catalog import format_int, format_kr, format_number, t
from fou_review.texts.reasons import reason_text
from fou_review.workbook.templating import render
from fou_review.workbook.whatif_view import widget_bundle

REASON_COLUMNS = {"sv": "reason", "en": "reason_en"}  # the decisions' reason texts, by language


def eligibility_screen(review: Review, lang: str = "sv") -> str:
    """The eligibility screen as HTML: every application that is not eligible, and why."""
    apps, params = review.inputs.applications, review.inputs.params
    table = review.allocation.table
    eligible = review.eligibility["eligible"].to_numpy(dtype=bool)
    ids, funds, applicants, titles, requested = (apps[c].tolist() for c in
                                                 ("id", "fund", "applicants", "title", "requested_kr"))
    # The decisions hold every reason in both languages (`reason_texts`: what `reason_text` says), and the
    # record has already written them; another language is written here.
    column = REASON_COLUMNS.get(lang)
    written = review.decisions[column].tolist() if column is not None else None
    rows = []
    kr = cache(lambda amount: format_kr(amount, lang=lang))  # requests repeat
    shown = np.flatnonzero(~eligible)
    for i in natural_order([str(ids[k]) for k in shown.tolist()], shown).tolist():
        fund = params.funds[str(funds[i])]
        reason = written[i] if written is not None else reason_text(table.detail(int(i)), fund, lang)
        rows.append((str(ids[i]), fund.code, " & ".join(applicants[i]), str(titles[i]), kr(int(requested[i])),
                     reason))
    return render("eligibility.html.j2", lang, rows=rows, total=len(apps))


def analysis_html(review: Review, lang: str = "sv") -> str:
    """Calibration and robustness of `review` as HTML (see the module docstring)."""
    params = review.inputs.params
    shared = agreement(review)  # the record's section shows the same, computed once
    cal, rob = shared.calibration, shared.robustness

    def num(x: float) -> str:
        return format_number(x, lang)

    reviewers = [{"name": r.reviewer, "n": r.n_scores, "bias": num(r.bias), "se": num(r.bias_se),
                  "bias_low": num(r.bias_low), "bias_high": num(r.bias_high), "spread": num(r.spread),
                  "spread_low": num(r.spread_low), "spread_high": num(r.spread_high)} for r in cal.reviewers]
    kr = cache(lambda amount: format_kr(amount, lang=lang))  # amounts repeat
    changes = [t(lang, "workbook", "analysis.change", id=c.id, before=kr(int(c.before.granted_kr)),
                 after=kr(int(c.after.granted_kr)), rank_before=c.before.rank or "–", rank_after=c.after.rank or "–")
               for c in cal.changes]  # thousands at 10^4 applications: written here, not by a call per line
    n_loo = rob.leave_one_out.shape[1]
    ids, funds, funded, uncertain = (x.tolist() for x in (rob.ids, rob.funds, rob.funded, rob.uncertain))
    kept = rob.loo_kept.tolist()
    shares = rob.bootstrap_share.tolist()
    # Each row's texts, written once per distinct value (a few hundred at 10^4 applications).
    decision = {True: t(lang, "workbook", "analysis.funded"), False: t(lang, "workbook", "analysis.not_funded")}
    n_text = format_int(max(n_loo, 1), lang)
    of = cache(lambda k: t(lang, "workbook", "analysis.of", k=format_int(k, lang), n=n_text))
    share = cache(lambda s: format_number(s * 100, lang, 0))
    ranked = np.flatnonzero(rob.ranked)
    robust = [(bool(uncertain[i]), str(ids[i]), str(funds[i]), decision[bool(funded[i])], of(kept[i]),
               share(float(shares[i])))
              for i in natural_order([str(ids[k]) for k in ranked.tolist()], ranked).tolist()]
    settings = params.robustness
    return render("analysis.html.j2", lang, reviewers=reviewers, changes=changes, robust=robust,
                  uncertain=t(lang, "workbook", "analysis.uncertain"), resamples=settings.bootstrap_resamples,
                  seed=settings.seed,
                  confidence=format_number(settings.confidence * 100, lang, 0), applied=cal.applied,
                  bias_sd=num(cal.bias_sd))


class AnalysisView:
    """Calibration and robustness, with a button that recomputes them from the saved score files."""

    def __init__(self, review: Review, root: Path | str, lang: str = "sv") -> None:
        self.root, self.year, self.lang = Path(root), review.inputs.params.year, lang
        self.body = w.HTML(analysis_html(review, lang))
        self.body.add_class("fou-analysis-body")
        self.refresh_button = w.Button(description=t(lang, "workbook", "analysis.refresh"), layout={"width": "auto"})
        self.refresh_button.add_class("fou-analysis-refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.widget = w.VBox([self.refresh_button, self.body])
        self.widget.add_class("fou-analysis")

    def refresh(self) -> None:
        """Read the year again (the score files as saved now) and recompute."""
        try:
            self.body.value = analysis_html(review_year(self.root, self.year), self.lang)
        except FouReviewError as exc:
            self.body.value = render("whatif_error.html.j2", self.lang, error=exc.message(self.lang))


def open_analysis(review: Review, root: Path | str, lang: str = "sv") -> AnalysisView:
    """Display the eligibility screen's neighbour: the calibration and robustness view, as HTML first
    (shown without trust) and as a widget that can recompute."""
    with paused():
        view = AnalysisView(review, root, lang)
        bundle: dict[str, Any] = widget_bundle(view.widget, t(lang, "workbook", "analysis.static"))
        bundle["text/html"] = render("analysis_static.html.j2", lang, body=view.body.value)
        display(bundle, raw=True)  # type: ignore[no-untyped-call]
    return view


def show_eligibility(review: Review, lang: str = "sv") -> None:
    """Display the eligibility screen."""
    with paused():
        display(HTML(eligibility_screen(review, lang)))  # type: ignore[no-untyped-call]


__all__ = ["AnalysisView", "analysis_html", "eligibility_screen", "open_analysis", "show_eligibility"]
