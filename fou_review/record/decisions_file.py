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
from pathlib import Path

import pandas as pd

from fou_review.atomic import write_atomic
from fou_review.texts.catalog import t

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ["id", "fund", "applicants", "title", "requested_kr", "granted_kr", "decision", "reason",
               "reason_code", "rank", "total_score", "source"]


def neutralise(value: object) -> object:
    """'=HYPERLINK(...)' -> "'=HYPERLINK(...)"; numbers and other text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: object) -> str:
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
    for row in decisions[cols].itertuples(index=False):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue()


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


def decisions_to_xlsx_bytes(decisions: pd.DataFrame, columns: list[str] | None = None, *,
                            sheet_title: str | None = None) -> bytes:
    """The decisions as an .xlsx workbook, byte-identical for the same table.

    Text is written as text (data type 's') after `neutralise`, so a value from the inputs can never
    become a formula; whole numbers as numbers; a score with two decimals as a number.
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
    sheet.append(cols)
    for values in decisions[cols].itertuples(index=False):
        sheet.append([_xlsx_value(v) for v in values])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never "f", whatever the text looks like
    fixed = dt.datetime(*_FIXED_TIME)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "fou-review"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).write_data()  # not save_workbook: it stamps the time of saving
    return _zip_with_fixed_times(raw.getvalue())


def _xlsx_value(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (hasattr(value, "dtype") and str(getattr(value, "dtype", "")).startswith("int")):
        return int(value)  # type: ignore[call-overload]
    if isinstance(value, float):
        return round(value, 2)
    return neutralise(str(value))


def _zip_with_fixed_times(data: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()
