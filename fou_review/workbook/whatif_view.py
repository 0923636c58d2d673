"""What-if in the workbook: widgets change the year's parameters and show, live, who gains and who loses.

`open_what_if(review, lang)` displays one control per settable parameter of `core.whatif` (per fund:
the budget, the maximum amount, what happens over it, the per-applicant cap, the remainder policy; per
criterion: its weight; raw or calibrated totals). After any change, `core.whatif.what_if` recomputes
the allocation against the computed one (only what the change touches), and the table lists each
application whose kronor, rank or reason changes: losses first, then gains (kronor, rank before and
after, reason before and after). A value the parameters would refuse is named in red instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as w
from IPython.display import display

from fou_review.collector import paused
from fou_review.core.load import YearInputs
from fou_review.core.params import Params
from fou_review.core.pipeline import Decided, Review
from fou_review.core.whatif import Baseline, WhatIf, what_if
from fou_review.errors import FouReviewError
from fou_review.texts.catalog import t
from fou_review.texts.reasons import reason_text
from fou_review.workbook.templating import render

SOURCE = "what-if"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # the widget's view in a notebook's display data


@dataclass(frozen=True)
class _Control:
    key: str  # a key of core.whatif.SETTABLE with the fund or criterion filled in
    widget: w.ValueWidget
    base: object  # the computed allocation's value


def _controls(params: Params, lang: str) -> list[_Control]:
    def tx(msgid: str, **values: object) -> str:
        return t(lang, "workbook", msgid, **values)

    wide = {"description_width": "initial"}
    out: list[_Control] = []
    for code, fund in params.funds.items():
        prefix = f"funds.{code}."
        out += [
            _Control(prefix + "budget_kr", w.BoundedIntText(value=fund.budget_kr, min=1, max=10**12, step=10_000,
                                                            description=tx("whatif.budget", fund=code), style=wide),
                     fund.budget_kr),
            _Control(prefix + "max_amount_kr", w.BoundedIntText(value=fund.max_amount_kr, min=1, max=10**12,
                                                                step=10_000, style=wide,
                                                                description=tx("whatif.max_amount", fund=code)),
                     fund.max_amount_kr),
            _Control(prefix + "over_max", w.Dropdown(options=[(tx("whatif.over_max.reject"), "reject"),
                                                              (tx("whatif.over_max.reduce"), "reduce")],
                                                     value=fund.over_max, style=wide,
                                                     description=tx("whatif.over_max", fund=code)), fund.over_max),
            _Control(prefix + "max_granted_per_applicant",
                     w.BoundedIntText(value=fund.max_granted_per_applicant, min=1, max=1000, style=wide,
                                      description=tx("whatif.cap", fund=code)), fund.max_granted_per_applicant),
            _Control(prefix + "remainder.partial", w.Checkbox(value=fund.remainder.partial, indent=False,
                                                              description=tx("whatif.partial", fund=code)),
                     fund.remainder.partial),
            _Control(prefix + "remainder.minimum_kr", w.BoundedIntText(value=fund.remainder.minimum_kr, min=0,
                                                                       max=10**12, step=1_000, style=wide,
                                                                       description=tx("whatif.minimum", fund=code)),
                     fund.remainder.minimum_kr),
        ]
    for c in params.criteria:
        name = c.name_sv if lang == "sv" else c.name_en
        out.append(_Control(f"criteria.{c.code}.weight", w.BoundedIntText(value=c.weight, min=1, max=1000, style=wide,
                                                                          description=tx("whatif.weight", name=name)),
                            c.weight))
    out.append(_Control("allocation_scores", w.Dropdown(options=[(tx("whatif.scores.raw"), "raw"),
                                                                 (tx("whatif.scores.calibrated"), "calibrated")],
                                                        value=params.allocation_scores, style=wide,
                                                        description=tx("whatif.scores")), params.allocation_scores))
    for control in out:
        control.widget.add_class("fou-whatif-" + control.key.replace(".", "-").replace("_", "-"))
    return out


class WhatIfView:
    """The what-if controls and the table of gains and losses; `widget` is what gets displayed."""

    def __init__(self, review: Review, lang: str = "sv") -> None:
        self.lang = lang
        inputs: YearInputs = review.inputs
        self.base = Baseline(inputs, review.eligibility, Decided(review.scoring, review.allocation, review.summary))
        self.controls = _controls(inputs.params, lang)
        self.result = w.HTML()
        self.result.add_class("fou-whatif-result")
        self.reset_button = w.Button(description=t(lang, "workbook", "whatif.reset"), layout={"width": "auto"})
        self.reset_button.add_class("fou-whatif-reset")
        self.reset_button.on_click(lambda _b: self.reset())
        for control in self.controls:
            control.widget.observe(lambda _change: self.update(), names="value")
        grid = w.GridBox([c.widget for c in self.controls],
                         layout=w.Layout(grid_template_columns="repeat(auto-fill, minmax(22em, 1fr))",
                                         grid_gap="0.2em 1em"))
        self.last: WhatIf | None = None
        self._quiet = False
        self.widget = w.VBox([w.HTML(render("whatif_intro.html.j2", lang)), grid, self.reset_button, self.result])
        self.widget.add_class("fou-whatif")
        self.update()

    def changes(self) -> dict[str, object]:
        """The parameters set to something else than in the computed allocation."""
        return {c.key: c.widget.value for c in self.controls if c.widget.value != c.base}

    def reset(self) -> None:
        """Every control back to the year's own parameters."""
        self._quiet = True
        try:
            for c in self.controls:
                c.widget.value = c.base
        finally:
            self._quiet = False
        self.update()

    def update(self) -> None:
        """Recompute the allocation with the controls' values and show the gains and losses."""
        if self._quiet:
            return
        changes = self.changes()
        try:
            result = what_if(self.base, changes, source=SOURCE)
        except FouReviewError as exc:
            self.last = None
            self.result.value = render("whatif_error.html.j2", self.lang, error=exc.message(self.lang))
            return
        self.last = result
        self.result.value = render_changes(result, len(changes), self.lang)


def render_changes(result: WhatIf, n_changed: int, lang: str) -> str:
    """The table of gains and losses (every value escaped by the template)."""
    rows = []
    for c in result.changes:
        fund = result.params.funds[c.fund]
        rows.append({"id": c.id, "fund": c.fund, "applicants": " & ".join(c.applicants), "kind": c.kind,
                     "before": c.before.granted_kr, "after": c.after.granted_kr, "delta": c.delta_kr,
                     "rank_before": c.before.rank, "rank_after": c.after.rank,
                     "reason_before": reason_text(c.before, fund, lang),
                     "reason_after": reason_text(c.after, fund, lang)})
    return render("whatif_changes.html.j2", lang, rows=rows, n_changed=n_changed, gains=len(result.gains),
                  losses=len(result.losses))


def open_what_if(review: Review, lang: str = "sv") -> WhatIfView:
    """Build and display the what-if view."""
    with paused():
        view = WhatIfView(review, lang)
        display(widget_bundle(view.widget, t(lang, "workbook", "whatif.static")), raw=True)  # type: ignore[no-untyped-call]
    return view


def widget_bundle(widget: w.Widget, static: str) -> dict[str, Any]:
    """The widget's display data with a plain text a reader understands where widgets cannot show
    (an untrusted notebook, a static export): `static`, as text and as escaped HTML.

    What ipywidgets' `_repr_mimebundle_` gives, but for its plain text (the widget's repr, every child's
    values written out: 2.4 MB of HTML for the analysis view at 10^4 applications), which `static` replaces.
    """
    data: dict[str, Any] = {"text/plain": static}
    if widget._view_name is not None:  # as `_repr_mimebundle_`: a widget without a view shows as text alone
        data[WIDGET_VIEW] = widget.get_view_spec()
    data["text/html"] = render("static_widget.html.j2", "sv", text=static)
    return data


__all__ = ["WhatIfView", "open_what_if", "render_changes", "widget_bundle"]
