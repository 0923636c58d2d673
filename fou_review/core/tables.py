"""Reading spreadsheets: CSV (UTF-8, with or without BOM, LF or CRLF) and Excel (.xlsx).

Every row comes back as text with the row number a spreadsheet program shows (the header is row 1),
so a later error can name file, row and column. An Excel cell holding a formula is refused: the
record must rest on values a person can read, not on a computation hidden in a cell.

Cells lose surrounding spaces, nothing else: a tab or a line break that a cell starts or ends with is
part of what was written and is kept.

This module and `core.load` are the loaders, the only core modules that read input files: the
parsers (`parse_csv_from_string`, `parse_xlsx_from_bytes`, `params.parse_params_from_string`,
`load.parse_overrides_from_string`) are pure, and `read_bytes` / `read_text` below are the only
functions that open a file (a missing file or one that is not UTF-8 is an `InputError` naming it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from fou_review.errors import InputError, Problem

_SPACES = " "  # what a cell loses at either end (a tab is kept: see the module's docstring)


def read_bytes(path: Path, file: str) -> bytes:
    """The file's bytes; `file` is its name in errors (relative to the project root)."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError([Problem.of(file, "file.missing")]) from None
    except OSError as exc:
        raise InputError([Problem.of(file, "file.unreadable", detail=exc.strerror or str(exc))]) from None


def read_text(path: Path, file: str) -> str:
    """The file's text, decoded as UTF-8 (a byte order mark is left for the parser to drop)."""
    return decode_utf8(read_bytes(path, file), file)


def decode_utf8(data: bytes, file: str) -> str:
    """Bytes read from `file` as UTF-8 text; anything else is an InputError naming the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem.of(file, "file.not_utf8", byte=exc.start)]) from None


@dataclass(frozen=True)
class Table:
    """An input table as read: its file name, its columns, and each row's cells as text with its row number."""

    file: str  # the name errors use, relative to the project root
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]  # (row number, {column: text})


def parse_csv_from_string(text: str, file: str) -> Table:
    """Parse CSV text; a leading BOM and CRLF line ends are accepted."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError([Problem.of(file, "table.empty")]) from None
    except csv.Error as exc:
        raise InputError([Problem.of(file, "table.not_csv", row=1, detail=str(exc))]) from None
    columns = tuple(h.strip() for h in header)
    _check_header(columns, file)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Problem] = []
    row_no = 1
    try:
        for cells in reader:
            row_no += 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(columns):
                problems.append(Problem.of(file, "table.field_count", row=row_no, cells=len(cells),
                                           columns=len(columns)))
                continue
            rows.append((row_no, {c: v.strip(_SPACES) for c, v in zip(columns, cells, strict=True)}))
    except csv.Error as exc:
        problems.append(Problem.of(file, "table.not_csv", row=row_no, detail=str(exc)))
    if problems:
        raise InputError(problems)
    return Table(file, columns, tuple(rows))


def _check_header(columns: tuple[str, ...], file: str) -> None:
    seen: set[str] = set()
    for i, c in enumerate(columns, 1):
        if not c:
            raise InputError([Problem.of(file, "table.unnamed_column", row=1, number=i)])
        if c in seen:
            raise InputError([Problem.of(file, "table.column_twice", row=1, column=c)])
        seen.add(c)


def _excel_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip(_SPACES)


def parse_xlsx_from_bytes(data: bytes, file: str) -> Table:
    """Parse the first sheet of an .xlsx workbook; refuse formulas, naming the cell."""
    import openpyxl  # imported here: only Excel users pay for it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=False, read_only=True)
    except Exception as exc:  # noqa: BLE001  (openpyxl raises many types for a broken file)
        raise InputError([Problem.of(file, "table.not_xlsx", detail=str(exc) or type(exc).__name__)]) from None
    try:
        sheet = book.worksheets[0]
        all_rows = list(sheet.iter_rows())
    finally:
        book.close()
    if not all_rows:
        raise InputError([Problem.of(file, "table.empty_sheet")])
    columns = tuple(_excel_text(c.value) for c in all_rows[0])
    while columns and not columns[-1]:
        columns = columns[:-1]
    _check_header(columns, file)
    problems: list[Problem] = []
    rows: list[tuple[int, dict[str, str]]] = []
    for row_no, cells in enumerate(all_rows[1:], start=2):
        values: dict[str, str] = {}
        for col, cell in zip(columns, cells, strict=False):
            if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                problems.append(Problem.of(file, "table.formula", row=row_no, column=col, cell=cell.coordinate,
                                           formula=str(cell.value)))
                values[col] = ""
            else:
                values[col] = _excel_text(cell.value)
        if any(values.values()):
            rows.append((row_no, {c: values.get(c, "") for c in columns}))
    if problems:
        raise InputError(problems)
    return Table(file, columns, tuple(rows))


def read_table(path: Path, file: str) -> Table:
    """Read a CSV (UTF-8) or .xlsx file by the suffix of `path`; `file` is its name in errors."""
    data = read_bytes(path, file)
    if path.suffix.lower() == ".xlsx":
        return parse_xlsx_from_bytes(data, file)
    return parse_csv_from_string(decode_utf8(data, file), file)


def require_columns(table: Table, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[Problem]:
    """Problems for every missing required column and every column nobody reads."""
    problems = [Problem.of(table.file, "table.missing_column", row=1, column=c, columns=", ".join(required))
                for c in required if c not in table.columns]
    known = set(required) | set(optional)
    problems += [Problem.of(table.file, "table.unknown_column", row=1, column=c,
                            columns=", ".join(required + optional))
                 for c in table.columns if c not in known]
    return problems
