"""Reading input files: the only place in the core that opens one.

The parsers (`params.parse_params_from_string`, `tables.parse_csv_from_string`,
`tables.parse_xlsx_from_bytes`, `load.parse_overrides_from_string`, ...) are pure: they take text or
bytes and a name for errors. `core.load` pairs each with one of these readers. A file that is
missing or is not UTF-8 text is an `InputError` naming it.
"""

from __future__ import annotations

from pathlib import Path

from fou_review.errors import InputError, Problem


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
