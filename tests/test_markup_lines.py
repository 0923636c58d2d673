"""`markup.macro_lines` against calling each line's macro: the same bytes for every kind of value.

The filter renders each macro once with markers for its arguments and fills in each line's arguments,
escaped as autoescape escapes `{{ value }}`; the chart's SVG lines are written by it. Here both write
random lines: text with markup, quotes, braces, bidi controls, zero-width characters and NUL, whole
numbers, floats, `Markup`, an argument written twice or not at all, braces in the macro's own text.
"""

from __future__ import annotations

import random

import pytest
from markupsafe import Markup

from fou_review.record.markup import environment

MACROS = """{% macro one(a) %}<p x="{{ a }}">{ {{ a }} }</p>
{% endmacro %}
{% macro two(a, b, c) %}
<rect x="{{ c }}" y="{{ a }}" fill="{{ colour }}"/>{{ a }}{{ c }}
{% endmacro %}
{% macro br() %}<br/>{% endmacro %}
"""

VALUES: list[object] = ["", "–", "1\u00a0000\u00a0kr", "<b>x</b>", "a & b", "\"quoted\" 'single'", "\u202egnp.exe",
                        "zero\u200bwidth", "{0}", "{{ x }}", "}{", "nul\0byte", "\x001\x00", 0, 7, -12, 10**20, 1.5,
                        float("nan"), Markup("<em>safe</em>"), None, True]


def test_macro_lines_write_what_each_macro_wrote() -> None:
    env = environment()
    filled = env.from_string(MACROS + "{{ lines | macro_lines(one=one, two=two, br=br) }}")
    looped = env.from_string(MACROS + "{% for kind, args in lines %}"
                                      "{% if kind == 'one' %}{{ one(*args) }}"
                                      "{% elif kind == 'two' %}{{ two(*args) }}"
                                      "{% else %}{{ br(*args) }}{% endif %}{% endfor %}")
    rng = random.Random(5)
    texts, numbers = [v for v in VALUES if type(v) is str], [v for v in VALUES if type(v) is int]
    for _ in range(300):
        lines = []
        values = rng.choice([VALUES, texts, numbers])  # an argument's values escaped together: of one kind, or not
        for _ in range(rng.choice([0, 1, 3, 20])):
            name = rng.choice(["one", "two", "br"])
            n = {"one": 1, "two": 3, "br": 0}[name]
            lines.append((name, tuple(rng.choice(values) for _ in range(n))))
        colour = rng.choice(["#1a1a1a", "a\"b", "{x}"])
        assert filled.render(lines=lines, colour=colour) == looped.render(lines=lines, colour=colour), lines


def test_a_macro_writing_nul_is_refused() -> None:
    template = environment().from_string('{% macro bad(a) %}{{ a }}{{ "\\0" }}{% endmacro %}'
                                         "{{ lines | macro_lines(bad=bad) }}")
    with pytest.raises(ValueError, match="NUL"):
        template.render(lines=[("bad", ("x",))])
