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
Within `recorded_reads()` they also note the SHA-256 of the bytes of each file read, so a loader can
say exactly what it parsed (`load.YearInputs.digests`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from fou_review.errors import InputError, Problem

_SPACES = " "  # what a cell loses at either end (a tab is kept: see the module's docstring)
# The digests of the files read within the innermost `recorded_reads()` of this thread (None: none open).
_READS: ContextVar[dict[str, str] | None] = ContextVar("fou_review_reads", default=None)
READ_TWICE_DIFFERENTLY = ""  # a file's digest when it was read twice with different bytes (matches no SHA-256)


@contextmanager
def recorded_reads() -> Iterator[Mapping[str, str]]:
    """Within: the SHA-256 (hex) of the bytes read of every file `read_bytes` reads, by its name in errors
    (its path relative to the project root). A scope opened within another adds what it recorded to the
    outer one on the way out. A file read twice with different bytes gets `READ_TWICE_DIFFERENTLY`."""
    outer = _READS.get()
    digests: dict[str, str] = {}
    token = _READS.set(digests)
    try:
        yield digests
    finally:
        _READS.reset(token)
        if outer is not None:
            for file, digest in digests.items():
                _note(outer, file, digest)


def _note(digests: dict[str, str], file: str, digest: str) -> None:
    digests[file] = digest if digests.get(file, digest) == digest else READ_TWICE_DIFFERENTLY


def read_bytes(path: Path, file: str) -> bytes:
    """The file's bytes; `file` is its name in errors (relative to the project root)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError([Problem.of(file, "file.missing")]) from None
    except OSError as exc:
        raise InputError([Problem.of(file, "file.unreadable", detail=exc.strerror or str(exc))]) from None
    digests = _READS.get()
    if digests is not None:
        _note(digests, file, hashlib.sha256(data).hexdigest())
    return data


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
    """An input table as read: its file name, its columns, and its rows' cells as text with their row numbers.

    The cells are kept by column (`cells[column][i]` is the text of row `row_numbers[i]`), so a loader can
    check a whole column at once; `rows` gives the same cells row by row.
    """

    file: str  # the name errors use, relative to the project root
    columns: tuple[str, ...]
    row_numbers: tuple[int, ...]  # the row number a spreadsheet program shows (the header is row 1)
    cells: Mapping[str, tuple[str, ...]]  # column -> its cells, one per row, in the order of `row_numbers`

    @classmethod
    def from_rows(cls, file: str, columns: tuple[str, ...], rows: Sequence[tuple[int, Mapping[str, str]]]) -> Table:
        """A table from its rows: (row number, {column: text}) each."""
        return cls(file, columns, tuple(r for r, _ in rows),
                   {c: tuple(v[c] for _, v in rows) for c in columns})

    def column(self, name: str) -> tuple[str, ...]:
        """The cells of column `name` (all empty when the table has no such column)."""
        found = self.cells.get(name)
        return found if found is not None else ("",) * len(self.row_numbers)

    @cached_property
    def rows(self) -> tuple[tuple[int, dict[str, str]], ...]:
        """(row number, {column: text}) for every row."""
        n = len(self.row_numbers)
        by_row = zip(*(self.cells[c] for c in self.columns), strict=True) if self.columns else [()] * n
        return tuple((n, dict(zip(self.columns, values, strict=True)))
                     for n, values in zip(self.row_numbers, by_row, strict=True))


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
    plain = _plain_table(text, columns, file)
    if plain is not None:
        return plain
    try:
        records = list(reader)
    except csv.Error:
        records = None
    table = None if records is None else _table_of_records(records, columns, file)
    if table is None:  # a broken row: read again, row by row, to name each problem where it is
        reader = csv.reader(io.StringIO(text, newline=""))
        next(reader)
        table = _table_row_by_row(reader, columns, file)
    return table


def _plain_table(text: str, columns: tuple[str, ...], file: str) -> Table | None:
    """The table of a plain CSV text, split without the csv module; None when the text is not that plain.

    Plain: no quote, carriage return or NUL anywhere (so each line is one row and each comma ends a cell),
    every row with as many cells as there are columns, and no row without text (its first cell is never
    blank). The csv module reads such a text to the same cells.
    """
    if not columns or '"' in text or "\r" in text or "\0" in text:
        return None
    body = text.partition("\n")[2]
    content = body.removesuffix("\n")  # the last line's end
    data = content.encode("utf-8", "surrogatepass")  # in UTF-8 no other character's bytes include ",", "\n", " "
    separators = data.translate(None, _NOT_SEPARATORS)
    rows = separators.count(b"\n") + 1 if body else 0
    if separators != ((b"," * (len(columns) - 1) + b"\n") * rows)[:-1]:
        return None  # a row with another number of cells
    flat = content.replace("\n", ",").split(",") if rows else []
    by_column = [tuple(flat[i::len(columns)]) for i in range(len(columns))]
    if not all(map(str.strip, by_column[0])):
        return None  # a row may be without text: left to the csv module's reading
    if _padded(data):
        cells = {c: _stripped(values) for c, values in zip(columns, by_column, strict=True)}
    else:
        cells = dict(zip(columns, by_column, strict=True))
    return Table(file, columns, tuple(range(2, rows + 2)), cells)


_NOT_SEPARATORS = bytes(b for b in range(256) if b not in b",\n")  # deleted: the commas and line ends remain


def _padded(data: bytes) -> bool:
    """May a cell of these lines (UTF-8) start or end with a space: is one next to a comma, a line's end, or
    either end of the text?"""
    if _SPACES.encode() not in data:
        return False
    codes = np.frombuffer(data, dtype=np.uint8)
    space = codes == ord(_SPACES)
    ends = (codes == ord(",")) | (codes == ord("\n"))
    return bool(space[0] or space[-1] or (space[1:] & ends[:-1]).any() or (space[:-1] & ends[1:]).any())


def _table_of_records(records: list[list[str]], columns: tuple[str, ...], file: str) -> Table | None:
    """The table of every record after the header, or None when a row has the wrong number of cells.

    Row numbers count records (a quoted cell over several lines is one row); a row without text is left
    out; cells lose surrounding spaces.
    """
    numbers: Sequence[int] = range(2, len(records) + 2)
    blank = {i for i, joined in enumerate(map("".join, records)) if not joined.strip()}
    if blank:
        numbers = [n for i, n in enumerate(numbers) if i not in blank]
        records = [r for i, r in enumerate(records) if i not in blank]
    if any(n != len(columns) for n in set(map(len, records))):
        return None
    by_column = list(zip(*records, strict=True)) if records else [()] * len(columns)
    cells = {c: _stripped(values) for c, values in zip(columns, by_column, strict=True)}
    return Table(file, columns, tuple(numbers), cells)


def _stripped(values: tuple[str, ...]) -> tuple[str, ...]:
    """The cells without surrounding spaces."""
    return tuple([v.strip(_SPACES) for v in values])


def _table_row_by_row(reader: Iterator[list[str]], columns: tuple[str, ...], file: str) -> Table:
    """The table read one record at a time, collecting each row's problem (wrong number of cells, not CSV)."""
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
    return Table.from_rows(file, columns, rows)


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
    return Table.from_rows(file, columns, rows)


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
