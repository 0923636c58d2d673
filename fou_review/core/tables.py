"""Reading spreadsheets: CSV (UTF-8, with or without BOM, LF or CRLF) and Excel (.xlsx).

Every row comes back as text with the row number a spreadsheet program shows (the header is row 1),
so a later error can name file, row and column. An Excel cell holding a formula is refused: the
record must rest on values a person can read, not on a computation hidden in a cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from fou_review.errors import InputError, Problem


@dataclass(frozen=True)
class Table:
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
        raise InputError([Problem(file, "filen är tom; första raden ska vara kolumnnamnen")]) from None
    except csv.Error as exc:
        raise InputError([Problem(file, f"kan inte läsas som CSV: {exc}", row=1)]) from None
    columns = tuple(h.strip() for h in header)
    _check_header(columns, file)
    rows: list[tuple[int, dict[str, str]]] = []
    row_no = 1
    try:
        for cells in reader:
            row_no += 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(columns):
                raise InputError([Problem(file, f"raden har {len(cells)} fält men rubriken har {len(columns)}; "
                                          "kontrollera kommatecken och citattecken", row=row_no)])
            rows.append((row_no, {c: v.strip() for c, v in zip(columns, cells, strict=True)}))
    except csv.Error as exc:
        raise InputError([Problem(file, f"kan inte läsas som CSV: {exc}", row=row_no)]) from None
    return Table(file, columns, tuple(rows))


def _check_header(columns: tuple[str, ...], file: str) -> None:
    seen: set[str] = set()
    for i, c in enumerate(columns, 1):
        if not c:
            raise InputError([Problem(file, f"kolumn nummer {i} saknar namn i rubrikraden", row=1)])
        if c in seen:
            raise InputError([Problem(file, "kolumnen finns två gånger i rubrikraden", row=1, column=c)])
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
    return str(value).strip()


def read_xlsx(path: Path, file: str) -> Table:
    """Read the first sheet of an .xlsx workbook; refuse formulas, naming the cell."""
    import openpyxl  # imported here: only Excel users pay for it

    try:
        book = openpyxl.load_workbook(path, data_only=False, read_only=True)
    except Exception as exc:  # noqa: BLE001  (openpyxl raises many types for a broken file)
        raise InputError([Problem(file, f"kan inte läsas som Excel-fil (.xlsx): {exc}")]) from None
    try:
        sheet = book.worksheets[0]
        all_rows = list(sheet.iter_rows())
    finally:
        book.close()
    if not all_rows:
        raise InputError([Problem(file, "arbetsbladet är tomt; första raden ska vara kolumnnamnen")])
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
                problems.append(Problem(file, f"cellen {cell.coordinate} innehåller formeln {cell.value!s}; "
                                        "skriv in värdet i stället", row=row_no, column=col))
                values[col] = ""
            else:
                values[col] = _excel_text(cell.value)
        if any(values.values()):
            rows.append((row_no, {c: values.get(c, "") for c in columns}))
    if problems:
        raise InputError(problems)
    return Table(file, columns, tuple(rows))


def read_table(path: Path, file: str) -> Table:
    """Read a CSV or .xlsx file by its suffix."""
    if path.suffix.lower() == ".xlsx":
        return read_xlsx(path, file)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError([Problem(file, "filen saknas")]) from None
    except UnicodeDecodeError as exc:
        raise InputError([Problem(file, f"är inte UTF-8 (byte {exc.start}); spara filen som CSV UTF-8")]) from None
    return parse_csv_from_string(text, file)


def require_columns(table: Table, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[Problem]:
    """Problems for every missing required column and every column nobody reads."""
    problems = [Problem(table.file, f"kolumnen saknas; förväntade kolumnerna {', '.join(required)}",
                        row=1, column=c) for c in required if c not in table.columns]
    known = set(required) | set(optional)
    problems += [Problem(table.file, f"okänd kolumn; kända är {', '.join(required + optional)}", row=1, column=c)
                 for c in table.columns if c not in known]
    return problems
