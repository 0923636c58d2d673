"""The record's HTML: Jinja2 templates with autoescape on, and the plain data they render.

Each section of the record has its own template under ``templates/sections/``; ``macros.html.j2``
holds the accessible table (a `<caption>`, `<th scope="col">` headings, a row heading
`<th scope="row">` per row, the totals in `<tfoot>`, one cell spanning every column when there
are no rows), the section wrapper and the badge. Python prepares plain data (`Table`, `Col`,
cells of `Part`) and calls `render`; it never writes HTML itself. Every word comes from the
``record`` message catalogue: ``t(lang, "record", "record.<id>")`` (`fou_review.texts.catalog.t`),
in the templates as in Python.

Autoescape is on, so text from the inputs cannot become markup. Bidirectional controls and
zero-width characters (`HIDDEN`) are shown visibly as ``⟨U+202E⟩``, so a title cannot reorder its
cell or its neighbours, nor hide text. Values are escaped as
`html.escape(quote=True)` writes them (``'`` as ``&#x27;``, ``"`` as ``&quot;``) rather than as
MarkupSafe does (``&#39;``, ``&#34;``): the published records were written that way, and the same
review must keep giving the same bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import chain, repeat
from typing import Literal

import jinja2
import markupsafe
from markupsafe import Markup

from fou_review.texts import catalog
from fou_review.texts.jinja_cache import bytecode_cache

LANGS = catalog.LANGS

PartKind = Literal["text", "badge", "strong", "code", "hash", "met", "unmet"]


@dataclass(frozen=True)
class Part:
    """A piece of a table cell: plain text, or text shown as a badge, in bold, as code, ..."""

    text: str
    kind: PartKind = "text"


Cell = str | tuple[Part, ...]  # plain text, or pieces rendered one after the other


@dataclass(frozen=True)
class Col:
    """A table column: its heading (plain text) and how its cells are set."""

    label: str
    numeric: bool = False
    css: str = ""  # extra classes for the column's cells: "nowrap", "wide"
    badge: str = ""  # a mark after the heading, e.g. "illustrativ" for a column of illustrative values

    @property
    def classes(self) -> str:
        """The cells' class attribute value ("" for none)."""
        return " ".join(c for c in ("num" if self.numeric else "", self.css) if c)


def col(lang: str, msgid: str, numeric: bool = False, css: str = "", badge: str = "") -> Col:
    """A column headed by the message `msgid` of the record's catalogue."""
    return Col(catalog.t(lang, "record", msgid), numeric, css, badge)


@dataclass(frozen=True)
class Foot:
    """The totals row: a row heading spanning `span` columns, then one cell per remaining column."""

    label: str
    span: int
    cells: Sequence[Cell]


@dataclass(frozen=True)
class Table:
    """What the `table` macro needs; the first cell of each row becomes the row heading."""

    caption: str
    cols: Sequence[Col]
    rows: Sequence[Sequence[Cell]] = ()
    foot: Foot | None = None
    css: str = ""
    empty: str = "–"  # the one cell of a table without rows
    badge: str = ""  # a mark after the caption
    foot_cols: Sequence[Col] = field(init=False)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.cols):
                raise ValueError(f"a row of {len(row)} cells in a table of {len(self.cols)} columns: {self.caption}")
        if self.foot is not None and len(self.foot.cells) != len(self.cols) - self.foot.span:
            raise ValueError(f"a foot of {len(self.foot.cells)} cells after a span of {self.foot.span} in a table "
                             f"of {len(self.cols)} columns: {self.caption}")
        object.__setattr__(self, "foot_cols", tuple(self.cols[self.foot.span:]) if self.foot else ())


# Bidirectional embeddings, overrides and isolates, the marks, and the zero-width characters.
HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u061c]")


def visible(text: str) -> str:
    """`text` with every bidi control and zero-width character written out as ⟨U+XXXX⟩."""
    if text.isascii():  # (known without reading it) none of them
        return text
    return HIDDEN.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def _escape(value: object) -> object:
    """Autoescape's escaping, with the entities `html.escape` writes (see the module's docstring)."""
    if type(value) is str:
        return _escaped(value)
    if type(value) is int:  # a coordinate, a count (asking an int for `__html__` costs more than writing it)
        return _escaped(str(value))
    if hasattr(value, "__html__"):  # a macro's output, already safe
        return value
    return _escaped(str(value))


@lru_cache(maxsize=1 << 16)
def _escaped(text: str) -> Markup:
    """`text` escaped (a record repeats many cells: "–", the decisions, the column classes)."""
    return Markup(html.escape(visible(text), quote=True))


def _autoescaped(value: object) -> str:
    """`value` escaped exactly as autoescape writes `{{ value }}`: `_escape` (the environment's `finalize`),
    then MarkupSafe's `escape`; directly (`_escaped`, cached) for a str or an int."""
    if type(value) is str:
        return _escaped(value)
    if type(value) is int:
        return _escaped(str(value))
    return str(markupsafe.escape(_escape(value)))


def _escaped_column(texts: Sequence[str]) -> list[str]:
    """Each text escaped as `_escaped` escapes it, a column at a time: `visible` and `html.escape` replace
    character by character, so the texts are escaped joined by a character none of them holds (NUL) and
    split again."""
    joined = "\0".join(texts)
    if joined.count("\0") != len(texts) - 1:  # a text holds the separator
        return [_escaped(text) for text in texts]
    return html.escape(visible(joined), quote=True).split("\0")


def table_rows(table: Table, before_cell: Callable[[int, Col], Markup], row_end: Callable[[int], Markup],
               cell: Callable[[Cell], Markup]) -> Markup:
    """The rows of `table` (the template's `table_rows` filter): each cell after `before_cell` of its column,
    each row closed by `row_end`, those tags rendered by the template once per column; a cell of plain
    text escaped exactly as autoescape writes `{{ text }}` (`_autoescaped`), any
    other cell written by the template's `cell` macro (once per cell object). Column by column, so the
    plain texts of a column (most cells) are escaped in one pass."""
    if not table.rows:
        return Markup("")
    if not table.cols:
        raise ValueError(f"rows in a table without columns: {table.caption}")
    written: dict[int, tuple[Cell, str]] = {}  # the `cell` macro's output by cell object (kept alive in it)

    def one(content: Cell) -> str:
        if isinstance(content, str):
            return _autoescaped(content)
        done = written.get(id(content))
        if done is None:
            done = written[id(content)] = (content, str(markupsafe.escape(cell(content))))
        return done[1]

    pieces: list[Iterable[str]] = []
    for i, (c, column) in enumerate(zip(table.cols, zip(*table.rows, strict=True), strict=True)):
        pieces.append(repeat(str(before_cell(i, c))))
        pieces.append(_written_column(column, one))
    pieces.append(repeat(str(row_end(len(table.cols)))))
    return Markup("".join(chain.from_iterable(zip(*pieces))))  # (the repeats end with the shortest: the rows)


def _written_column(column: Sequence[Cell], one: Callable[[Cell], str]) -> Sequence[str]:
    """Each cell of a column as `one` writes it: its plain texts (`type` str) escaped together
    (`_escaped_column`), the other cells by `one`."""
    kinds = set(map(type, column))
    if kinds == {str}:
        return _escaped_column(column)  # type: ignore[arg-type]
    if str not in kinds:
        return list(map(one, column))
    texts = iter(_escaped_column([c for c in column if type(c) is str]))
    return [next(texts) if type(c) is str else one(c) for c in column]


_SLOT = re.compile("\0(\\d+)\0")


def _form(macro: jinja2.runtime.Macro) -> tuple[list[str], list[int]]:
    """`macro`'s output as its texts and, between each two, the number of the argument written there. Rendered
    once, with markers (safe text no template holds) for the arguments."""
    written = str(macro(*(Markup(f"\0{i}\0") for i in range(len(macro.arguments)))))
    cut = _SLOT.split(written)
    if any("\0" in piece for piece in cut[0::2]):
        raise ValueError(f"the macro {macro.name} writes a NUL of its own")
    return cut[0::2], [int(piece) for piece in cut[1::2]]


def _escaped_values(values: Sequence[object]) -> Sequence[str]:
    """Each value escaped as `_autoescaped` escapes it: texts in one pass (`_escaped_column`), whole numbers
    written as they are (their digits and minus sign need no escaping)."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return _escaped_column(values)  # type: ignore[arg-type]
    if kinds == {int}:
        return list(map(str, values))
    return list(map(_autoescaped, values))


def _filled(form: tuple[list[str], list[int]], arguments: list[Sequence[object]]) -> list[str]:
    """The lines one macro writes (`form`, from `_form`), one per arguments, argument by argument."""
    texts, slots = form
    if not slots:
        return [texts[0]] * len(arguments)
    values = [_escaped_values(column) for column in zip(*arguments, strict=True)]
    pieces: list[Iterable[str]] = [repeat(texts[0])]
    for slot, text in zip(slots, texts[1:], strict=True):
        pieces += [values[slot], repeat(text)]
    return list(map("".join, zip(*pieces)))  # (the repeats end with the shortest: the lines)


def macro_lines(lines: Iterable[tuple[str, Sequence[object]]], **macros: jinja2.runtime.Macro) -> Markup:
    """Each line, (macro name, arguments), written by that macro of `macros` (the template's `macro_lines` filter).

    Each macro is rendered once (`_form`) and each line's arguments, escaped exactly as autoescape writes
    `{{ value }}` (`_autoescaped`), put in their places: the same text as calling the
    macro per line, at 10^4 lines. The lines of a macro are filled in together, an argument at a time (its
    texts escaped in one pass), then put back in their order. So a macro given here only writes its
    arguments (`{{ x }}`): it does not compute with them or test them (a line's shape is which macro writes
    it)."""
    forms = {name: _form(macro) for name, macro in macros.items()}
    lines = list(lines)
    names = [name for name, _ in lines]
    by_macro: dict[str, list[Sequence[object]]] = {name: [] for name in names}
    for name, arguments in lines:
        by_macro[name].append(arguments)
    filled = {name: iter(_filled(forms[name], arguments)) for name, arguments in by_macro.items()}
    return Markup("".join(map(next, [filled[name] for name in names])))


@cache
def environment() -> jinja2.Environment:
    """The record's template environment (autoescape on; block tags leave no blank lines)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fou_review.record", "templates/sections"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined, finalize=_escape, bytecode_cache=bytecode_cache())
    env.filters["table_rows"] = table_rows
    env.filters["macro_lines"] = macro_lines
    return env


def render(template: str, lang: str, /, **context: object) -> str:
    """One section's HTML fragment: `template` rendered with `context`, ``lang``, ``t`` and ``kr``."""
    page = environment().get_template(template).render(lang=lang, t=catalog.t, kr=catalog.format_kr, **context)
    return page.removesuffix("\n")


def localized(obj: object, name: str, lang: str) -> str:
    """A field of the parameters given in both languages: `name`_sv or `name`_en."""
    return str(getattr(obj, f"{name}_{lang}"))


_SWEDISH = str.maketrans({"å": "z\u0001", "ä": "z\u0002", "ö": "z\u0003", "é": "e", "ü": "y"})


def swedish_key(words: str) -> tuple[str, str]:
    """Sort key in Swedish alphabetical order (å, ä, ö after z), ties broken by the exact text."""
    return (words.lower().translate(_SWEDISH), words)
