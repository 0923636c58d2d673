"""The workbook's views take what the notebook's review already holds: the same as computing it again.

- the live preview's first allocation is the review's (no fund decided again) while the score files are
  the ones it read and the ranking uses raw totals; it then follows changes as before;
- the eligibility screen's reasons are the decisions' own texts;
- what-if with no change is the computed allocation;
- a widget's display data is ipywidgets' own, but for its plain text;
- `natural_order` (the views' order of ids) is the sort by `natural_key`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import ipywidgets as w
import numpy as np
import pandas as pd
import pytest

from bench.bench_scale import write_scale_year
from fou_review.core.allocation import natural_key, natural_order
from fou_review.core.load import load_year
from fou_review.core.params import load_params
from fou_review.core.pipeline import Review, review_year
from fou_review.core.whatif import baseline, what_if
from fou_review.texts.catalog import format_kr
from fou_review.texts.reasons import reason_text
from fou_review.workbook.analysis_view import eligibility_screen
from fou_review.workbook.preview import LivePreview, render_preview
from fou_review.workbook.scorestore import ScoreStore
from fou_review.workbook.templating import render
from fou_review.workbook.whatif_view import widget_bundle


@pytest.fixture(params=["2022", "synthetic"])
def year_root(request: pytest.FixtureRequest, root: Path, tmp_path: Path, repo_root: Path) -> Path:
    """The 2022 inputs, or a synthetic year whose whole-year allocation walks the ranking as arrays while
    each fund alone is walked row by row (`allocation._ARRAY_WALK_FROM`)."""
    if request.param == "2022":
        return root
    synthetic = tmp_path / "synthetic"
    write_scale_year(synthetic, 4000, seed=1, repo=repo_root)
    return synthetic


def _same(a: LivePreview, b: LivePreview) -> None:
    for fund in a.inputs.params.funds:
        x, y = a._cache[fund], b._cache[fund]
        pd.testing.assert_frame_equal(x.decisions, y.decisions)
        assert x.fund == y.fund and x.checks == y.checks
        pd.testing.assert_frame_equal(x.cap_use.reset_index(drop=True), y.cap_use.reset_index(drop=True))
    ra, rb = a.last, b.last
    assert ra is not None and rb is not None and ra.decisions is not None and rb.decisions is not None
    pd.testing.assert_frame_equal(ra.decisions, rb.decisions)
    assert ra.summary is not None and rb.summary is not None
    assert ra.summary.funds == rb.summary.funds and ra.summary.checks == rb.summary.checks
    pd.testing.assert_frame_equal(ra.summary.cap_use, rb.summary.cap_use)
    assert ra.changes == rb.changes
    for lang in ("sv", "en"):
        assert render_preview(ra, a, lang) == render_preview(rb, b, lang)


def test_the_preview_starts_from_the_review_and_equals_deciding_every_fund(year_root: Path) -> None:
    review = review_year(year_root, 2022)
    seeded = LivePreview(year_root, 2022, review=review)
    assert not seeded._dirty and seeded.eligibility is review.eligibility  # nothing decided again
    computed = LivePreview(year_root, 2022, review.inputs)
    assert computed._dirty
    seeded.refresh()
    computed.refresh()
    _same(seeded, computed)
    params = review.inputs.params
    app = str(review.inputs.applications["id"].iloc[-1])
    change = ScoreStore(year_root, params, params.reviewers[0]).set_score(app, params.criterion_codes()[0], None)
    assert change is not None
    seeded.refresh(change)
    computed.refresh(change)
    _same(seeded, computed)


def test_the_preview_decides_again_when_a_score_file_changed(root: Path) -> None:
    review = review_year(root, 2022)
    params = load_params(root, 2022)
    assert ScoreStore(root, params, "ledamot-b").set_score("LUM-02", "strategisk", None) is not None
    preview = LivePreview(root, 2022, review=review)  # the file changed since the review read it
    assert preview._dirty == set(params.funds)
    preview.refresh()
    again = review_year(root, 2022)
    pd.testing.assert_frame_equal(preview.last.decisions, again.decisions)  # type: ignore[union-attr]
    assert not LivePreview(root, 2022, review=again)._dirty
    assert LivePreview(root, 2022, load_year(root, 2022), review=again)._dirty  # another reading's review: unused


def test_with_calibrated_totals_the_preview_is_the_whole_years_run(tmp_path: Path, repo_root: Path) -> None:
    # the biases come from every score of the year: a fund decided alone (its own scores' biases) would
    # rank otherwise, as it does here
    root = tmp_path / "calibrated"
    write_scale_year(root, 600, seed=4, repo=repo_root)
    path = root / "params" / "2022.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nallocation_scores: calibrated\n", encoding="utf-8")
    review = review_year(root, 2022)
    params = review.inputs.params
    assert params.allocation_scores == "calibrated"
    seeded, computed = LivePreview(root, 2022, review=review), LivePreview(root, 2022, review.inputs)
    assert not seeded._dirty and computed._dirty
    one_fund_alone = computed._allocate_fund("LUM").decisions
    lum = review.inputs.applications["fund"].to_numpy() == "LUM"
    whole_year = review.decisions[lum].set_axis(one_fund_alone.index)
    assert not one_fund_alone["granted_kr"].equals(whole_year["granted_kr"])  # why the year is decided whole
    for preview in (seeded, computed):
        preview.refresh()
        pd.testing.assert_frame_equal(preview.last.decisions, review.decisions)  # type: ignore[union-attr]
    app = str(review.inputs.applications["id"].iloc[0])
    change = ScoreStore(root, params, params.reviewers[1]).set_score(app, params.criterion_codes()[0], None)
    assert change is not None
    seeded.refresh(change)
    pd.testing.assert_frame_equal(seeded.last.decisions, review_year(root, 2022).decisions)  # type: ignore[union-attr]


def _eligibility_screen_per_row(review: Review, lang: str) -> str:
    """The eligibility screen as it was written before: each reason by `reason_text` from the typed detail."""
    apps, params = review.inputs.applications, review.inputs.params
    table = review.allocation.table
    eligible = review.eligibility["eligible"].to_numpy(dtype=bool)
    ids, funds, applicants, titles, requested = (apps[c].tolist() for c in
                                                 ("id", "fund", "applicants", "title", "requested_kr"))
    rows = []
    kr = cache(lambda amount: format_kr(amount, lang=lang))
    for i in sorted(np.flatnonzero(~eligible).tolist(), key=lambda k: natural_key(str(ids[k]))):
        fund = params.funds[str(funds[i])]
        rows.append((str(ids[i]), fund.code, " & ".join(applicants[i]), str(titles[i]), kr(int(requested[i])),
                     reason_text(table.detail(int(i)), fund, lang)))
    return render("eligibility.html.j2", lang, rows=rows, total=len(apps))


def test_the_eligibility_screen_shows_the_decisions_reasons(year_root: Path) -> None:
    review = review_year(year_root, 2022)
    for lang in ("sv", "en"):
        screen = eligibility_screen(review, lang)
        assert screen == _eligibility_screen_per_row(review, lang)
        assert screen.count("<tr>") > 1


def test_what_if_with_no_change_is_the_computed_allocation(repo_root: Path) -> None:
    base = baseline(load_year(repo_root, 2022))
    same = what_if(base, {})
    assert same.changes == () and same.params == base.inputs.params
    budget = base.inputs.params.funds["LUM"].budget_kr
    again = what_if(base, {"funds.LUM.budget_kr": budget})  # a change to the same value: decided again
    assert again.decided is not base.decided and again.changes == ()
    ours, theirs = same.decided.allocation.table, again.decided.allocation.table
    for name in ("ids", "granted_kr", "code", "rank", "ranked", "budget_before_kr", "budget_after_kr", "cap_count"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name))
    assert same.decided.summary.funds == again.decided.summary.funds
    assert same.decided.summary.checks == again.decided.summary.checks


def test_a_widget_s_display_data_is_ipywidgets_own_but_for_its_plain_text() -> None:
    for widget in (w.VBox([w.HTML("<b>x</b>" * 100), w.Button(description="y")]), w.Widget()):
        own = widget._repr_mimebundle_() or {}
        bundle = widget_bundle(widget, "static")
        assert list(bundle) == ([*own, "text/html"] if own else ["text/plain", "text/html"])
        assert {k: v for k, v in bundle.items() if k not in ("text/plain", "text/html")} == \
            {k: v for k, v in own.items() if k != "text/plain"}
        assert bundle["text/plain"] == "static"


@pytest.mark.parametrize("ids", [
    [f"LUM-{i:02d}" for i in range(1, 30)],  # one pattern, increasing with the rows
    [f"A{i:07d}" for i in (5, 3, 9, 1, 7)],  # one pattern, not increasing
    ["LUM-9", "LUM-10", "MUL-2", "LUM-09", "A", "LUM-9", "10", "9", "LUM-10b", "LUM-1"],  # mixed, repeated
])
def test_natural_order_is_the_sort_by_natural_key(ids: list[str]) -> None:
    rows = np.arange(3, 3 + 2 * len(ids), 2)
    of_row = dict(zip(rows.tolist(), ids, strict=True))
    expected = sorted(rows.tolist(), key=lambda k: natural_key(of_row[k]))
    assert natural_order(ids, rows).tolist() == expected
    shuffled = rows[::-1].copy()
    assert natural_order([of_row[k] for k in shuffled.tolist()], shuffled).tolist() == sorted(
        shuffled.tolist(), key=lambda k: natural_key(of_row[k]))
