"""Column widths for the archival PDF's tables, measured once from the fonts' advance widths.

WeasyPrint's automatic table layout shapes every cell's text through Pango twice more (its narrowest
and its widest width) before laying the table out: about a third of the time it took to render the
2022 record. The archival PDF uses the fixed table layout instead (`archive.css`), with the widths
set here by the same rule as the automatic layout (CSS 2.1, 17.5.2.2): each column gets at least its
longest unbreakable word and shares the rest of the page width in proportion to how much more its
widest cell wants. Text widths come from the archival fonts' horizontal metrics (fontTools), in ems
of the table's font.

The widths are set on the parsed page only (each first-row cell's `style`); the published HTML's
bytes are not touched. The geometry below is that of `record.css`'s print styles; a test keeps the
two in step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HTML_NS = "{http://www.w3.org/1999/xhtml}"  # WeasyPrint's parser leaves HTML tags unqualified; either is read
# record.css, @media print: A4 with 15 mm side margins; tables 8pt (7pt for the long lists); cells padded
# 0.25rem (4 px) left and right with 1 px borders.
PAGE_WIDTH_MM = 210.0
SIDE_MARGINS_MM = 15.0 + 15.0
TABLE_PT = 8.0
SMALL_TABLE_PT = 7.0
SMALL_TABLES = frozenset({"gross", "ranking"})
CELL_EDGES_PX = 2 * 4.0 + 1.0
BADGE_SCALE = 0.8  # .badge: 0.8em, padded 0.3rem each side with a 1 px border
BADGE_EDGES_PX = 2 * 4.8 + 2.0
MONO_SCALE = 0.85  # code: 0.85em
PX_PER_MM = 96.0 / 25.4  # CSS pixels
PX_PER_PT = 96.0 / 72.0
SLACK_EM = 0.1  # room for rounding, so that a word measured to fit does fit
BREAKS = re.compile(r"[ \t\n\r\f\u200b]+")  # where a line may break (not at a no-break space)
HYPHEN_BREAKS = re.compile(r"(?<=[-\u2013])(?=\D)")  # and after a hyphen or en dash, but not before a digit


@dataclass(frozen=True)
class Metrics:
    """Advance widths in em, by character, of one font file; `default` for a character it lacks."""

    widths: dict[int, float]
    default: float

    def width(self, text: str) -> float:
        """The width of `text` on one line, in em."""
        get, default = self.widths.get, self.default
        return sum(get(ord(char), default) for char in text)


@cache
def _metrics(path: Path) -> Metrics:
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), lazy=True)
    per_em = float(font["head"].unitsPerEm)
    advances = font["hmtx"].metrics
    widths = {code: advances[glyph][0] / per_em for code, glyph in font.getBestCmap().items()}
    font.close()
    return Metrics(widths, default=0.6)


@dataclass(frozen=True)
class Fonts:
    """The three faces a table's text is measured in."""

    regular: Metrics
    bold: Metrics
    mono: Metrics


def fonts_from(files: dict[str, Path]) -> Fonts:
    """The metrics of the archival faces, by file name (`LiberationSans-Regular.ttf`, ...)."""
    return Fonts(_metrics(files["LiberationSans-Regular.ttf"]), _metrics(files["LiberationSans-Bold.ttf"]),
                 _metrics(files["LiberationMono-Regular.ttf"]))


def _local(tag: Any) -> str:
    return tag[len(HTML_NS):] if isinstance(tag, str) and tag.startswith(HTML_NS) else str(tag)


def _classes(element: Any) -> set[str]:
    return set(str(element.get("class", "")).split())


@dataclass
class _Span:
    """One piece of a cell's text in one face and size: its narrowest and widest width, in em."""

    narrowest: float = 0.0
    widest: float = 0.0


def _measure(text: str, metrics: Metrics, scale: float, breakable_anywhere: bool) -> _Span:
    if breakable_anywhere:
        return _Span(max((metrics.width(char) for char in text), default=0.0) * scale, metrics.width(text) * scale)
    words = [word for word in BREAKS.split(text) if word]
    narrowest = max((metrics.width(part) for word in words for part in HYPHEN_BREAKS.split(word)), default=0.0)
    return _Span(narrowest * scale, metrics.width(" ".join(words)) * scale)


def _pieces(element: Any, fonts: Fonts, bold: bool, scale: float, table_px: float) -> Iterator[_Span]:
    """The measured pieces of `element`'s text (its own, its children's and its tail, which is in the
    parent's face: `bold` and `scale` are the parent's)."""
    name, classes = _local(element.tag), _classes(element)
    inner_bold = bold or name in ("th", "strong", "b")
    inner_scale = scale * MONO_SCALE if name == "code" else scale
    metrics = fonts.mono if name == "code" else fonts.bold if inner_bold else fonts.regular
    if "badge" in classes:  # an inline block: measured as one piece with its padding and border
        inner_scale *= BADGE_SCALE
        inner = [_measure(element.text or "", metrics, inner_scale, False)]
        inner += [piece for child in element for piece in _pieces(child, fonts, inner_bold, inner_scale, table_px)]
        edges = BADGE_EDGES_PX / table_px
        yield _Span(max(piece.narrowest for piece in inner) + edges, sum(piece.widest for piece in inner) + edges)
    else:
        yield _measure(element.text or "", metrics, inner_scale, "hash" in classes)
        for child in element:
            yield from _pieces(child, fonts, inner_bold, inner_scale, table_px)
    if element.tail:
        yield _measure(element.tail, fonts.bold if bold else fonts.regular, scale, False)


def _cell_widths(cell: Any, fonts: Fonts, bold: bool, table_px: float) -> tuple[float, float]:
    """A cell's narrowest and widest content width in em (padding and border included)."""
    pieces = list(_pieces(cell, fonts, bold, 1.0, table_px))
    edges = CELL_EDGES_PX / table_px
    narrowest = max((piece.narrowest for piece in pieces), default=0.0)
    return narrowest + SLACK_EM + edges, sum(piece.widest for piece in pieces) + SLACK_EM + edges


def _rows(table: Any) -> Iterator[tuple[Any, bool]]:
    """Each row of `table` with whether its text is bold (a footer row)."""
    for part in table:
        name = _local(part.tag)
        if name == "tr":
            yield part, False
        elif name in ("thead", "tbody", "tfoot"):
            for row in part:
                if _local(row.tag) == "tr":
                    yield row, name == "tfoot"


def column_widths(table: Any, fonts: Fonts) -> list[float] | None:
    """The width of each column's content, in per cent of the page width (with the cells' padding and
    borders they fill it); None for a table whose first row spans columns (left to the automatic layout)."""
    rows = list(_rows(table))
    if not rows:
        return None
    first = [cell for cell in rows[0][0] if _local(cell.tag) in ("td", "th")]
    if not first or any(int(cell.get("colspan", "1")) != 1 for cell in first):
        return None
    table_pt = SMALL_TABLE_PT if _classes(table) & SMALL_TABLES else TABLE_PT
    table_px = table_pt * PX_PER_PT
    available = (PAGE_WIDTH_MM - SIDE_MARGINS_MM) * PX_PER_MM / table_px
    narrowest, widest = [0.0] * len(first), [0.0] * len(first)
    for row, bold in rows:
        column = 0
        for cell in (cell for cell in row if _local(cell.tag) in ("td", "th")):
            span = int(cell.get("colspan", "1"))
            if span == 1 and column < len(first):  # a cell spanning columns (a total's label) decides none alone
                low, high = _cell_widths(cell, fonts, bold, table_px)
                narrowest[column], widest[column] = max(narrowest[column], low), max(widest[column], high)
            column += span
    return _distribute(narrowest, widest, available, CELL_EDGES_PX / table_px)


def _distribute(narrowest: list[float], widest: list[float], available: float, edges: float) -> list[float]:
    """CSS 2.1's automatic widths for a table as wide as `available` (em), as the per cent of it that each
    column's content box takes (a cell's `width` leaves out its padding and border: `edges`).

    Where the automatic layout would let a table wider than the page overflow it, the columns whose
    longest word is longest are narrowed to one width, just enough to fit: only their longest words break.
    """
    low, high = sum(narrowest), sum(widest)
    if high <= available and high > 0:
        widths = widest
    elif low >= available:
        widths = _capped(narrowest, available)
    else:
        share = (available - low) / (high - low)
        widths = [a + (b - a) * share for a, b in zip(narrowest, widest, strict=True)]
    scale = available / (sum(widths) or 1.0)
    return [max(0.0, 100.0 * (width * scale - edges) / available) for width in widths]


def _capped(narrowest: list[float], available: float) -> list[float]:
    """`narrowest` with its largest values lowered to one cap, so that the sum is `available`."""
    ordered = sorted(narrowest, reverse=True)
    below, cap = sum(ordered), 0.0
    for count, value in enumerate(ordered, start=1):
        below -= value
        cap = (available - below) / count  # the widest `count` columns at `cap`, the rest as they are
        if count == len(ordered) or cap >= ordered[count]:
            break
    return [min(width, max(cap, 0.0)) for width in narrowest]


def fix_table_columns(root: Any, fonts: Fonts) -> int:
    """Set the width of every table's columns in the parsed page `root` (on its first row's cells); the
    number of tables set."""
    count = 0
    for table in [element for element in root.iter() if _local(element.tag) == "table"]:
        shares = column_widths(table, fonts)
        if shares is None:
            continue
        first = next(_rows(table))[0]
        cells = [cell for cell in first if _local(cell.tag) in ("td", "th")]
        for cell, share in zip(cells, shares, strict=True):
            style = cell.get("style", "")
            cell.set("style", f"{style}; width: {share:.3f}%" if style else f"width: {share:.3f}%")
        count += 1
    return count


__all__ = ["Fonts", "Metrics", "column_widths", "fix_table_columns", "fonts_from"]
