"""Writing the decisions table as CSV (and Excel), safe to open in a spreadsheet program.

A text cell from the inputs that starts with =, +, -, @ (or a tab or carriage return) would be read
as a formula by Excel or LibreOffice; such cells get a leading apostrophe, the usual neutraliser.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ["id", "fund", "applicants", "title", "requested_kr", "granted_kr", "decision", "reason",
               "reason_code", "rank", "total_score", "source"]


def neutralise(value: object) -> object:
    """'=HYPERLINK(...)' -> "'=HYPERLINK(...)"; numbers and other text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(neutralise(value))


def decisions_to_csv_string(decisions: pd.DataFrame, columns: list[str] | None = None) -> str:
    cols = columns or CSV_COLUMNS
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for row in decisions[cols].itertuples(index=False):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_decisions_csv(decisions: pd.DataFrame, path: Path) -> None:
    write_atomic(path, decisions_to_csv_string(decisions).encode("utf-8"))
