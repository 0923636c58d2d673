"""The record's chart: requested vs granted per administration, as inline SVG (no script).

One chart per fund (their scales differ a hundredfold), administrations in Swedish alphabetical
order, a joint application as its own row (as the decision's tables list it), so the bars add up
to the fund's totals. Integer coordinates only: the same review gives the same bytes. Each chart has
`role="img"` with a `<title>` and `<desc>` naming every number, and the same numbers follow in a
table, so nothing is told by the picture alone. The SVG is a template (`chart.html.j2`); this module
computes its geometry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from fou_review.core.pipeline import Review
from fou_review.record.markup import Cell, Foot, Table, col, render, swedish_key
from fou_review.texts.catalog import format_kr, t

WIDTH = 720
LABEL_W = 240  # room for "Rinkeby-Kista & Spånga-Tensta"
AMOUNT_W = 100  # room for the amount after the longest bar
BAR_H = 12
GROUP_H = 2 * BAR_H + 14
TOP = 34
REQUESTED = ("#c9d1d9", "#3b434b")  # fill, stroke: light bar with a dark outline (3:1 against white)
GRANTED = ("#1f4e79", "#1f4e79")
TEXT = "#1a1a1a"


@dataclass(frozen=True)
class Bar:
    """One bar and the amount written after it (a zero amount has no bar, only its amount)."""

    x: int
    y: int
    width: int
    fill: str
    stroke: str
    amount: str


@dataclass(frozen=True)
class Group:
    """An administration's label and its two bars (requested, granted)."""

    label: str
    label_y: int
    bars: tuple[Bar, Bar]


def chart_rows(review: Review, fund_code: str) -> list[tuple[str, int, int]]:
    """(administration, requested, granted) for one fund, sorted in Swedish alphabetical order."""
    rows = review.decisions[review.decisions["fund"] == fund_code]
    sums: dict[str, list[int]] = {}
    for name, requested, granted in zip(*(rows[c].tolist() for c in ("applicants", "requested_kr", "granted_kr")),
                                        strict=True):
        pair = sums.setdefault(str(name), [0, 0])
        pair[0] += int(requested)
        pair[1] += int(granted)
    return [(name, sums[name][0], sums[name][1]) for name in sorted(sums, key=swedish_key)]


def chart_geometry(rows: list[tuple[str, int, int]], kr: Callable[[int], str] = format_kr) -> tuple[int, list[Group]]:
    """The SVG's height and its groups of bars for rows of (label, requested, granted); `kr` writes the amounts."""
    bar_w = WIDTH - LABEL_W - AMOUNT_W
    top = max([r for _, r, _ in rows] + [g for _, _, g in rows] + [1])
    groups = []
    for i, (label, requested, granted) in enumerate(rows):
        y = TOP + i * GROUP_H
        bars = []
        for j, (amount, (fill, stroke)) in enumerate(((requested, REQUESTED), (granted, GRANTED))):
            w = amount * bar_w // top
            bars.append(Bar(LABEL_W, y + j * BAR_H, max(w, 1) if amount else 0, fill, stroke, kr(amount)))
        groups.append(Group(label, y + BAR_H + 4, (bars[0], bars[1])))
    return TOP + GROUP_H * len(rows) + 6, groups


def _lines(groups: list[Group]) -> list[tuple[str, tuple[int | str, ...]]]:
    """The SVG's lines per administration, as (the template's macro, its arguments): the label, then per bar
    its rect and amount, or its amount alone when it has no bar."""
    lines: list[tuple[str, tuple[int | str, ...]]] = []
    for group in groups:
        lines.append(("label", (group.label_y, group.label)))
        for b in group.bars:
            amount_x, amount_y = b.x + b.width + 4, b.y + BAR_H - 2
            if b.width:
                lines.append(("bar", (b.x, b.y, b.width, b.fill, b.stroke, amount_x, amount_y, b.amount)))
            else:
                lines.append(("amount", (amount_x, amount_y, b.amount)))
    return lines


def render_chart(review: Review, lang: str) -> str:
    """The chart section: per fund an SVG and a table with the same numbers."""
    params = review.inputs.params
    charts = []
    kr = cache(format_kr)  # each amount is written in the description, after its bar and in the table
    for code in params.funds:
        rows = chart_rows(review, code)
        title = t(lang, "record", "record.chart.title", fund=code, year=params.year)
        desc = t(lang, "record", "record.chart.desc", rows="; ".join(
            t(lang, "record", "record.chart.desc_row", name=n, requested=kr(r), granted=kr(g))
            for n, r, g in rows))
        height, groups = chart_geometry(rows, kr)
        cols = [col(lang, "record.col.administration"), col(lang, "record.col.requested", True),
                col(lang, "record.col.granted", True)]
        cells: list[list[Cell]] = [[n, kr(r), kr(g)] for n, r, g in rows]
        foot = Foot(t(lang, "record", "record.total"), 1, [format_kr(sum(r for _, r, _ in rows)),
                                             format_kr(sum(g for _, _, g in rows))])
        charts.append({"id": f"diagram-{code}", "title": title, "desc": desc, "height": height, "lines": _lines(groups),
                       "table": Table(t(lang, "record", "record.chart.table_caption", title=title), cols, cells,
                                      foot=foot,
                                      css="chart-data", empty=t(lang, "record", "record.chart.none"))})
    return render("chart.html.j2", lang, charts=charts, width=WIDTH, label_w=LABEL_W, bar_h=BAR_H,
                  requested=REQUESTED, granted=GRANTED, text_colour=TEXT)
