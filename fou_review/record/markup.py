"""Small HTML building blocks for the record: escaping, accessible tables, words and numbers.

Every string that comes from the inputs goes through `esc` before it reaches the page. Table cells
are passed in as HTML that the caller has already escaped (so a cell may hold a small badge), and
`table` adds the structure WCAG asks for: a `<caption>`, `<th scope="col">` headings, a row
heading `<th scope="row">` per row, and the totals in `<tfoot>`.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fou_review.texts.money import NBSP, format_kr

LANGS = ("sv", "en")
MONTHS = {
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
           "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


def esc(value: object) -> str:
    """HTML-escape any text from the inputs (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


def tr(lang: str, sv: str, en: str) -> str:
    """The Swedish or the English wording."""
    return sv if lang == "sv" else en


def long_date(day: dt.date, lang: str) -> str:
    """A date in running text: "6 juni 2022" / "6 June 2022" (tables use ISO 8601)."""
    return f"{day.day}{NBSP}{MONTHS[lang][day.month - 1]} {day.year}"


def kr(amount: int) -> str:
    """An amount for a table cell, escaped: "500 000 kr"."""
    return esc(format_kr(int(amount)))


def kronor(amount: int, lang: str = "sv") -> str:
    """An amount in running text, escaped: "4 998 030 kronor"."""
    return esc(format_kr(int(amount), "kronor"))


def decimal(value: float, lang: str, places: int = 2) -> str:
    """A score with a decimal comma in Swedish: 31.75 -> "31,75"; NaN -> "–"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{float(value):.{places}f}"
    return text.replace(".", ",") if lang == "sv" else text


def met_word(met: bool, lang: str) -> str:
    """A check's outcome in words (never colour alone), with a class for the visual cue."""
    word = tr(lang, "uppfyllt", "met") if met else tr(lang, "ej uppfyllt", "not met")
    return f'<strong class="{"met" if met else "unmet"}">{esc(word)}</strong>'


def badge(text: str) -> str:
    return f'<span class="badge">{esc(text)}</span>'


def swedish_key(text: str) -> tuple[str, str]:
    """Sort key in Swedish alphabetical order (å, ä, ö after z), ties broken by the exact text."""
    table = str.maketrans({"å": "z\u0001", "ä": "z\u0002", "ö": "z\u0003", "é": "e", "ü": "y"})
    return (text.lower().translate(table), text)


@dataclass(frozen=True)
class Col:
    label: str  # plain text, escaped by `table`
    numeric: bool = False
    css: str = ""  # extra classes for the column's cells: "nowrap", "wide"


def table(caption: str, cols: Sequence[Col], rows: Iterable[Sequence[str]], *,
          foot: tuple[str, int, Sequence[str]] | None = None, css: str = "",
          caption_html: str | None = None, empty: str = "–") -> str:
    """An accessible table. `rows` and the foot cells are HTML already escaped by the caller.

    The first cell of each row becomes `<th scope="row">`. `foot` is (label, columns it spans,
    the remaining cells), rendered in `<tfoot>` with the label as a row heading. A table without
    rows gets one cell spanning every column with the text `empty`.
    """
    cls = f' class="{css}"' if css else ""
    out = [f"<table{cls}>", f"<caption>{caption_html if caption_html is not None else esc(caption)}</caption>",
           "<thead><tr>"]
    out += [f'<th scope="col"{_num(c)}>{esc(c.label)}</th>' for c in cols]
    out.append("</tr></thead>")
    out.append("<tbody>")
    n_rows = 0
    for row in rows:
        n_rows += 1
        if len(row) != len(cols):
            raise ValueError(f"a row of {len(row)} cells in a table of {len(cols)} columns: {caption}")
        out.append("<tr>")
        for i, (c, cell) in enumerate(zip(cols, row, strict=True)):
            out.append(f'<th scope="row"{_num(c)}>{cell}</th>' if i == 0 else f"<td{_num(c)}>{cell}</td>")
        out.append("</tr>")
    if not n_rows:
        out.append(f'<tr><td colspan="{len(cols)}">{esc(empty)}</td></tr>')
    out.append("</tbody>")
    if foot is not None:  # after tbody, as the HTML standard orders it
        label, span, cells = foot
        colspan = f' colspan="{span}"' if span > 1 else ""
        out.append(f'<tfoot><tr><th scope="row"{colspan}>{esc(label)}</th>')
        out += [f"<td{_num(c)}>{cell}</td>" for c, cell in zip(cols[span:], cells, strict=True)]
        out.append("</tr></tfoot>")
    out.append("</table>")
    return "\n".join(out)


def _num(col: Col) -> str:
    classes = " ".join(c for c in ("num" if col.numeric else "", col.css) if c)
    return f' class="{classes}"' if classes else ""


def section(section_id: str, heading: str, body: Sequence[str], *, level: int = 2) -> str:
    """A `<section>` labelled by its heading."""
    hid = f"{section_id}-rubrik"
    return "\n".join([f'<section id="{esc(section_id)}" aria-labelledby="{hid}">',
                      f'<h{level} id="{hid}">{esc(heading)}</h{level}>', *body, "</section>"])


def paragraph(text_html: str) -> str:
    return f"<p>{text_html}</p>"
