"""Writing the decisions table as CSV (and Excel), safe to open in a spreadsheet program.

A text cell from the inputs that starts with =, +, -, @ (or a tab or carriage return) would be read
as a formula by Excel or LibreOffice; such cells get a leading apostrophe, the usual neutraliser.

The CSV and Excel files head their columns with the field names of `CSV_COLUMNS` (a file format,
the same in both languages); headings a reader sees (`decisions_for_display`) and the sheet's name
come from the `cli` catalogue (`decisions.col.<column>`, `decisions.sheet`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from fou_review.atomic import write_atomic
from fou_review.texts.catalog import t

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_T = TypeVar("_T")
CSV_COLUMNS = ["id", "fund", "applicants", "title", "requested_kr", "granted_kr", "decision", "reason",
               "reason_code", "rank", "total_score", "source"]


def neutralise(value: object) -> object:
    """'=HYPERLINK(...)' -> "'=HYPERLINK(...)"; numbers and other text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralised_texts(texts: Sequence[str]) -> list[str]:
    """`neutralise` of each of `texts` (each a `str`), in one pass."""
    return [f"'{v}" if v.startswith(FORMULA_START) else v for v in texts]


def _cell(value: object) -> str:
    """A value as the CSV writes it: '' where missing, a float to 2 places, anything else as text (neutralised)."""
    if not isinstance(value, str):  # (text, most of the cells, skips the tests)
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return ""
        if isinstance(value, float):
            return f"{value:.2f}"
    return str(neutralise(value))


def decisions_to_csv_string(decisions: pd.DataFrame, columns: list[str] | None = None) -> str:
    """The decisions as CSV text (`columns`, default `CSV_COLUMNS`); floats to 2 places, formulas neutralised."""
    cols = columns or CSV_COLUMNS
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    writer.writerows(zip(*(_csv_cells(decisions[col]) for col in cols), strict=True))
    return buf.getvalue()


def _csv_cells(column: pd.Series) -> list[str]:
    """`_cell` of each value of `column` (as `_each` gives them); a column of texts only neutralised in one pass."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iuf":
        return _each(column, _cell, str, _csv_decimal)
    values = column.tolist()
    if set(map(type, values)) == {str}:
        return neutralised_texts(values)
    return list(map(_cell, values))


def _each(column: pd.Series, value: Callable[[object], _T], whole: Callable[[int], _T],
          decimal: Callable[[float], _T]) -> list[_T]:
    """`value` of each value of `column` (`Series.tolist`: its values as Python scalars); for a column of
    numpy integers `whole` of each, of numpy floats `decimal` of each: what `value` gives them, without
    its tests per value."""
    values = column.tolist()
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iu":
        return list(map(whole, values))
    if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
        return list(map(decimal, values))
    return list(map(value, values))


def _csv_decimal(value: float) -> str:
    """`_cell` of a float."""
    return "" if math.isnan(value) else f"{value:.2f}"


def write_decisions_csv(decisions: pd.DataFrame, path: Path) -> None:
    """Write the decisions file (`decisions_to_csv_string`, UTF-8) to `path` atomically."""
    write_atomic(path, decisions_to_csv_string(decisions).encode("utf-8"))


# The columns a reader sees, per language (columns of the decisions table); the headings are the
# catalogue's `decisions.col.<column>` (`decision_en` and `reason_en` share `decision` and `reason`).
DISPLAY_COLUMNS: dict[str, list[str]] = {
    "sv": ["id", "fund", "applicants", "title", "requested_kr", "granted_kr", "decision", "reason"],
    "en": ["id", "fund", "applicants", "title", "requested_kr", "granted_kr", "decision_en", "reason_en"],
}


def display_heading(column: str, lang: str) -> str:
    """The heading a reader sees over `column` of the decisions table, in `lang`."""
    return t(lang, "cli", f"decisions.col.{column.removesuffix('_en')}")


def decisions_for_display(decisions: pd.DataFrame, lang: str = "sv") -> pd.DataFrame:
    """The decisions table with headings in the reader's language (one row per application)."""
    cols = DISPLAY_COLUMNS[lang]
    return decisions[cols].set_axis([display_heading(c, lang) for c in cols], axis=1).reset_index(drop=True)


def decisions_export_frame(decisions: pd.DataFrame, lang: str = "sv") -> pd.DataFrame:
    """The CSV/Excel columns (CSV_COLUMNS); in English, `decision` and `reason` are the English words."""
    frame = decisions.copy()
    if lang == "en":
        frame["decision"], frame["reason"] = frame["decision_en"], frame["reason_en"]
    return frame[CSV_COLUMNS]


# A fixed time for the workbook's properties and zip entries: the same table gives the same bytes.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# The worksheet part around its rows, as openpyxl 3.1 writes a plain sheet (no styles, widths or views of our own).
_SHEET_HEAD = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr><outlinePr '
               'summaryBelow="1" summaryRight="1"/><pageSetUpPr/></sheetPr><dimension ref="A1:{last}"/><sheetViews>'
               '<sheetView workbookViewId="0"><selection activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
               '<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/><sheetData>')
_SHEET_TAIL = ('</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
               '</worksheet>')
_MAX_TEXT = 32767  # openpyxl keeps the first 32 767 characters of a text, the most a cell holds
# Characters XML 1.0 cannot carry (openpyxl refuses the control characters, lxml the rest).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def decisions_to_xlsx_bytes(decisions: pd.DataFrame, columns: list[str] | None = None, *,
                            sheet_title: str | None = None) -> bytes:
    """The decisions as an .xlsx workbook, byte-identical for the same table.

    Text is written as text (an inline string, data type 's') after `neutralise`, so a value from the
    inputs can never become a formula; whole numbers as numbers; a score with two decimals as a number.
    openpyxl writes the workbook around an empty sheet (properties, styles, the sheet's title); the
    sheet's rows are written here (`_sheet_xml`), as openpyxl would write them, a row at a time.
    """
    import datetime as dt
    import zipfile

    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    cols = columns or CSV_COLUMNS
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title if sheet_title is not None else t("sv", "cli", "decisions.sheet")
    fixed = dt.datetime(*_FIXED_TIME)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "fou-review"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).write_data()  # not save_workbook: it stamps the time of saving
    parts = {sheet.path[1:]: _sheet_xml(decisions, cols)}
    return _zip_with_fixed_times(raw.getvalue(), parts)


def _sheet_xml(decisions: pd.DataFrame, cols: list[str]) -> bytes:
    """The worksheet part: a heading row of `cols`, then a row per row of `decisions` (`_xlsx_value`)."""
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(i) for i in range(1, len(cols) + 1)]
    heading = "".join(_cells_xml(letter, [name], start=1)[0] for letter, name in zip(letters, cols, strict=True))
    columns = [_cells_xml(letter, _each(decisions[col], _xlsx_value, int, _xlsx_decimal))
               for letter, col in zip(letters, cols, strict=True)]
    rows = [f'<row r="1">{heading}</row>']
    rows += [f'<row r="{number}">{"".join(cells)}</row>' for number, cells in enumerate(zip(*columns), start=2)]
    text = _SHEET_HEAD.format(last=f"{letters[-1]}{len(rows)}") + "".join(rows) + _SHEET_TAIL
    if _NOT_XML.search(text) is not None:  # only a value can hold one: the markup is plain ASCII
        _refuse(text)
    return text.encode("ascii", "xmlcharrefreplace")  # as lxml writes: other characters as &#...;


def _cells_xml(letter: str, values: list[object], start: int = 2) -> list[str]:
    """The cells of one column from row `start` on, as openpyxl writes them: '' for None (no cell), text
    as an inline string (its first 32 767 characters), a number as `safe_string` gives it."""
    from openpyxl.compat import safe_string

    cells = []
    for number, value in enumerate(values, start=start):
        if value is None:
            cells.append("")
        elif not isinstance(value, str):
            cells.append(f'<c r="{letter}{number}" t="n"><v>{safe_string(value)}</v></c>')
        elif not value:
            cells.append(f'<c r="{letter}{number}" t="inlineStr"></c>')
        else:
            text = value[:_MAX_TEXT]
            space = ' xml:space="preserve"' if text != text.strip() else ""
            cells.append(f'<c r="{letter}{number}" t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>')
    return cells


def _escape(text: str) -> str:
    """Text content escaped as lxml escapes it (a carriage return too, so that it reads back as one)."""
    return escape(text, {"\r": "&#13;"})


def _refuse(text: str) -> None:
    """Fail as the sheet written through openpyxl failed on `text` (holding a character XML cannot carry):
    openpyxl refused a cell holding one of its `ILLEGAL_CHARACTERS_RE` (control characters) as it was set,
    before anything was written; lxml any other such character as the sheet was written."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils.exceptions import IllegalCharacterError

    illegal = ILLEGAL_CHARACTERS_RE.search(text)
    if illegal is not None:
        raise IllegalCharacterError(f"{illegal.group()!r} cannot be used in worksheets.")
    raise ValueError("All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters")


def _xlsx_value(value: object) -> object:
    """A value as the sheet holds it: None where missing, a whole number, a float to 2 places, anything
    else (a bool too) as text (neutralised)."""
    if not isinstance(value, str):  # (text, most of the cells, skips the tests)
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int) or (hasattr(value, "dtype") and str(getattr(value, "dtype", "")).startswith("int")):
            return int(value)  # type: ignore[call-overload]
        if isinstance(value, float):
            return round(value, 2)
    return neutralise(str(value))


def _xlsx_decimal(value: float) -> float | None:
    """`_xlsx_value` of a float."""
    return None if math.isnan(value) else round(value, 2)


def _zip_with_fixed_times(data: bytes, parts: dict[str, bytes]) -> bytes:
    """The zip `data` again, every entry dated `_FIXED_TIME`, the entries named in `parts` holding those bytes."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, parts[info.filename] if info.filename in parts else src.read(info.filename))
    return out.getvalue()
