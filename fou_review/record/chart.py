"""The record's chart: requested vs granted per administration, as inline SVG (no script).

One chart per fund (their scales differ a hundredfold), administrations in Swedish alphabetical
order, a joint application as its own row (as the decision's tables list it), so the bars add up
to the fund's totals. Integer coordinates only: the same review gives the same bytes. Each chart has
`role="img"` with a `<title>` and `<desc>` naming every number, and the same numbers follow in a
table, so nothing is told by the picture alone.
"""

from __future__ import annotations

from fou_review.core.pipeline import Review
from fou_review.record.markup import Col, esc, kr, paragraph, section, swedish_key, table, tr
from fou_review.texts.money import format_kr

WIDTH = 720
LABEL_W = 240  # room for "Rinkeby-Kista & Spånga-Tensta"
AMOUNT_W = 100  # room for the amount after the longest bar
BAR_H = 12
GROUP_H = 2 * BAR_H + 14
TOP = 34
REQUESTED = ("#c9d1d9", "#3b434b")  # fill, stroke: light bar with a dark outline (3:1 against white)
GRANTED = ("#1f4e79", "#1f4e79")
TEXT = "#1a1a1a"


def chart_rows(review: Review, fund_code: str) -> list[tuple[str, int, int]]:
    """(administration, requested, granted) for one fund, sorted in Swedish alphabetical order."""
    rows = review.decisions[review.decisions["fund"] == fund_code]
    sums: dict[str, list[int]] = {}
    for name, requested, granted in zip(rows["applicants"], rows["requested_kr"], rows["granted_kr"], strict=True):
        pair = sums.setdefault(str(name), [0, 0])
        pair[0] += int(requested)
        pair[1] += int(granted)
    return [(name, sums[name][0], sums[name][1]) for name in sorted(sums, key=swedish_key)]


def _bar(x: int, y: int, width: int, colours: tuple[str, str]) -> str:
    return (f'<rect x="{x}" y="{y}" width="{width}" height="{BAR_H}" fill="{colours[0]}" '
            f'stroke="{colours[1]}" stroke-width="1"/>')


def _text(x: int, y: int, text: str, anchor: str = "start") -> str:
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="{TEXT}" font-size="12">{esc(text)}</text>'


def render_svg(rows: list[tuple[str, int, int]], chart_id: str, title: str, desc: str, lang: str) -> str:
    """The SVG for rows of (label, requested, granted)."""
    bar_w = WIDTH - LABEL_W - AMOUNT_W
    top = max([r for _, r, _ in rows] + [g for _, _, g in rows] + [1])
    height = TOP + GROUP_H * len(rows) + 6
    out = [(f'<svg class="chart" role="img" aria-labelledby="{chart_id}-titel {chart_id}-besk" '
            f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'),
           f'<title id="{chart_id}-titel">{esc(title)}</title>',
           f'<desc id="{chart_id}-besk">{esc(desc)}</desc>',
           _bar(LABEL_W, 8, 24, REQUESTED), _text(LABEL_W + 30, 19, tr(lang, "Sökt", "Requested")),
           _bar(LABEL_W + 120, 8, 24, GRANTED), _text(LABEL_W + 150, 19, tr(lang, "Beviljat", "Granted"))]
    for i, (label, requested, granted) in enumerate(rows):
        y = TOP + i * GROUP_H
        out.append(_text(LABEL_W - 8, y + BAR_H + 4, label, "end"))
        for j, (amount, colours) in enumerate(((requested, REQUESTED), (granted, GRANTED))):
            w = amount * bar_w // top
            w = max(w, 1) if amount else 0
            by = y + j * BAR_H
            if w:
                out.append(_bar(LABEL_W, by, w, colours))
            out.append(_text(LABEL_W + w + 4, by + BAR_H - 2, format_kr(amount)))
    out.append("</svg>")
    return "\n".join(out)


def render_chart(review: Review, lang: str) -> str:
    """The chart section: per fund an SVG and a table with the same numbers."""
    params = review.inputs.params
    body = [paragraph(esc(tr(
        lang, "Diagrammen visar sökt och beviljat belopp per förvaltning. En gemensam ansökan visas på en egen rad. "
              "Samma siffror finns i tabellen under varje diagram.",
        "The charts show the amount requested and granted per administration. A joint application has a row of "
        "its own. The same numbers are in the table under each chart.")))]
    for code in params.funds:
        rows = chart_rows(review, code)
        title = tr(lang, f"Sökt och beviljat per förvaltning, {code} {params.year}",
                   f"Requested and granted per administration, {code} {params.year}")
        desc = tr(lang, "Liggande stapeldiagram, två staplar per förvaltning. ",
                  "Horizontal bar chart, two bars per administration. ") + "; ".join(
            tr(lang, f"{n}: sökt {format_kr(r)}, beviljat {format_kr(g)}",
               f"{n}: requested {format_kr(r)}, granted {format_kr(g)}") for n, r, g in rows) + "."
        body.append(f"<h3>{esc(title)}</h3>")
        body.append('<figure class="chart">\n' + render_svg(rows, f"diagram-{esc(code)}", title, desc, lang)
                    + "\n</figure>")
        cols = [Col(tr(lang, "Förvaltning", "Administration")), Col(tr(lang, "Sökt", "Requested"), True),
                Col(tr(lang, "Beviljat", "Granted"), True)]
        foot = (tr(lang, "Totalt", "Total"), 1, [kr(sum(r for _, r, _ in rows)), kr(sum(g for _, _, g in rows))])
        body.append(table(tr(lang, f"Diagrammets siffror: {title}", f"The chart's numbers: {title}"), cols,
                          [[esc(n), kr(r), kr(g)] for n, r, g in rows], foot=foot, css="chart-data",
                          empty=tr(lang, "Inga ansökningar.", "No applications.")))
    return section("diagram", tr(lang, "Sökt och beviljat per förvaltning", "Requested and granted per "
                                 "administration"), body)
