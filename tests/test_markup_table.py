# ruff: noqa: E501 - the replaced macro is kept as it was written
"""The `table` macro against the one it replaced: the same bytes for every kind of table.

`markup.table_rows` writes a table's rows column by column (the tags around the cells rendered once per
column by the template, each cell escaped as autoescape escapes it); the macro that wrote each cell in a
template loop is kept here, and both render random tables: plain text with markup, quotes, bidi controls
and zero-width characters, cells of parts of every kind (shared and not), `Markup` cells, columns of every
class, one column, no rows, a foot, a badge.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import pytest
from markupsafe import Markup

from fou_review.record.markup import Cell, Col, Foot, Part, Table, environment

# The `table` macro before `table_rows` (its rows from the `body` below).
LOOPED = """{% from "macros.html.j2" import badge, cell, class_of %}
{% macro table(t) %}
<div class="scroll" role="region" aria-label="{{ t.caption }}" tabindex="0">
<table{% if t.css %} class="{{ t.css }}"{% endif %}>
<caption>{{ t.caption }}{% if t.badge %} {{ badge(t.badge) }}{% endif %}</caption>
<thead><tr>
{% for col in t.cols %}
<th scope="col"{{ class_of(col) }}>{{ col.label }}{% if col.badge %} {{ badge(col.badge) }}{% endif %}</th>
{% endfor %}
</tr></thead>
<tbody>
{% for css, content, cells in t.body %}
<tr>
<th scope="row"{% if not css %}{% elif css == "num" %} class="num"{% elif css == "nowrap" %} class="nowrap"{% elif css == "wide" %} class="wide"{% else %} class="{{ css }}"{% endif %}>{% if content is string %}{{ content }}{% else %}{{ cell(content) }}{% endif %}</th>
{% for css, content in cells %}
<td{% if not css %}{% elif css == "num" %} class="num"{% elif css == "nowrap" %} class="nowrap"{% elif css == "wide" %} class="wide"{% else %} class="{{ css }}"{% endif %}>
{%- if content is string %}{{ content }}{% else %}{% for p in content %}
{%- if p.kind == "badge" %}<span class="badge">{{ p.text }}</span>
{%- elif p.kind == "strong" %}<strong>{{ p.text }}</strong>
{%- else %}{{ cell((p,)) }}{% endif %}
{%- endfor %}{% endif %}</td>
{% endfor %}
</tr>
{% else %}
<tr><td colspan="{{ t.cols | length }}">{{ t.empty }}</td></tr>
{% endfor %}
</tbody>
{% if t.foot %}
<tfoot><tr><th scope="row"{% if t.foot.span > 1 %} colspan="{{ t.foot.span }}"{% endif %}>{{ t.foot.label }}</th>
{% for content in t.foot.cells %}
<td{{ class_of(t.foot_cols[loop.index0]) }}>{{ cell(content) }}</td>
{% endfor %}
</tr></tfoot>
{% endif %}
</table>
</div>
{%- endmacro %}
"""


@dataclass(frozen=True)
class Looped:
    """A `Table` as the looped macro read it (with `body`)."""

    table: Table

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)

    @property
    def body(self) -> Iterator[tuple[str, Cell, Iterator[tuple[str, Cell]]]]:
        classes = [c.classes for c in self.table.cols]
        first, rest = (classes[0], classes[1:]) if classes else ("", [])
        return ((first, row[0], zip(rest, islice(row, 1, None), strict=True)) for row in self.table.rows)


TEXTS = ["", "–", "1\u00a0000\u00a0kr", "<b>x</b>", "a & b", "\"quoted\" 'single'", "\u202egnp.exe", "zero\u200bwidth",
         "LUM-07", "Järva & Spånga", "{{ x }}", "line\nbreak", "nul\0byte"]
KINDS = ["text", "badge", "strong", "code", "hash", "met", "unmet"]
SHARED = (Part("Uppfyllt", "met"),)


def random_cell(rng: random.Random) -> Cell:
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(TEXTS) + str(rng.randrange(3))
    if roll < 0.7:
        return SHARED
    if roll < 0.75:
        return Markup("<em>safe</em>")
    return tuple(Part(rng.choice(TEXTS), rng.choice(KINDS)) for _ in range(rng.randrange(1, 4)))  # type: ignore[arg-type]


def random_table(rng: random.Random) -> Table:
    cols = [Col(rng.choice(TEXTS), rng.random() < 0.4, rng.choice(["", "", "nowrap", "wide", "x\"y"]),
                rng.choice(["", "", "illustrativ"])) for _ in range(rng.randrange(1, 6))]
    rows = [[random_cell(rng) for _ in cols] for _ in range(rng.choice([0, 1, 2, 7, 40]))]
    span = rng.randrange(1, len(cols) + 1)
    foot = Foot(rng.choice(TEXTS), span, [random_cell(rng) for _ in cols[span:]]) if rng.random() < 0.5 else None
    return Table(rng.choice(TEXTS), cols, rows, foot=foot, css=rng.choice(["", "ranking"]), empty=rng.choice(TEXTS),
                 badge=rng.choice(["", "illustrativ"]))


def test_table_rows_write_what_the_looped_macro_wrote() -> None:
    env = environment()
    new = env.from_string('{% from "macros.html.j2" import table %}{{ table(t) }}')
    old = env.from_string(LOOPED + "{{ table(t) }}")
    rng = random.Random(3)
    for _ in range(400):
        table = random_table(rng)
        assert new.render(t=table) == old.render(t=Looped(table)), table


def test_rows_need_columns() -> None:
    env = environment()
    with pytest.raises(ValueError, match="without columns"):
        env.from_string('{% from "macros.html.j2" import table %}{{ table(t) }}').render(t=Table("x", [], [[]]))
