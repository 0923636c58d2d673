"""decisions.csv and decisions.xlsx: the sheet written row by row holds what openpyxl's own writer made.

`_openpyxl_xlsx_bytes` is the workbook writer as it was before the sheet's rows were written by
`decisions_file._sheet_xml` (every cell through openpyxl's worksheet): the new writer's workbook must read
back the same (sheet title, every cell's value and data type, the document's properties), and with
today's openpyxl it is the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.exceptions import IllegalCharacterError

from fou_review.core.pipeline import review_year
from fou_review.record import decisions_file
from fou_review.record.decisions_file import (
    CSV_COLUMNS,
    decisions_export_frame,
    decisions_to_csv_string,
    decisions_to_xlsx_bytes,
)

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2022
# Text a spreadsheet program or a reader could be fooled by: formulas, bidi controls, spaces, markup.
HOSTILE = ["=1+1", "+x", "@x", "-x", "=", "\t=tab", "\r=cr", "a\r\nb", "x\u202ey", "\u2066isolate\u2069",
           "\u200fRLM", " lead", "trail ", "\xa0", "<b>&amp;</b>", "\"quoted\" 'x'", "#N/A", "'", "", "😀 é ø",
           "\u2028line", "\x85next", "x" * 40_000]


def _openpyxl_xlsx_bytes(decisions: pd.DataFrame, columns: list[str] | None = None, *,
                         sheet_title: str | None = None) -> bytes:
    """The writer before: every cell through openpyxl's worksheet (its code as it was)."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    cols = columns or CSV_COLUMNS
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title if sheet_title is not None else "Beslut"
    sheet.append(cols)
    for values in decisions[cols].itertuples(index=False):
        sheet.append([_old_xlsx_value(v) for v in values])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    fixed = dt.datetime(1980, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "fou-review"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).write_data()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def _old_xlsx_value(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (hasattr(value, "dtype") and str(getattr(value, "dtype", "")).startswith("int")):
        return int(value)  # type: ignore[call-overload]
    if isinstance(value, float):
        return round(value, 2)
    return decisions_file.neutralise(str(value))


def _old_cell(value: object) -> str:
    """`decisions_file._cell` as it was (the reference for the CSV writer)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(decisions_file.neutralise(value))


def _old_csv_string(decisions: pd.DataFrame, columns: list[str] = CSV_COLUMNS) -> str:
    """The CSV writer before: a row at a time through `_cell` (`_old_cell`)."""
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in decisions[columns].itertuples(index=False):
        writer.writerow([_old_cell(v) for v in row])
    return buf.getvalue()


def _read_back(data: bytes) -> dict[str, Any]:
    """What a reader of the workbook gets: sheet titles, every cell (value, data type), the properties."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    props = book.properties
    return {"titles": book.sheetnames, "dimensions": sheet.dimensions,
            "cells": [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()],
            "properties": (props.creator, props.created, props.modified, props.lastModifiedBy, props.title)}


def _assert_same_workbook(table: pd.DataFrame, **kwargs: Any) -> None:
    new, old = decisions_to_xlsx_bytes(table, **kwargs), _openpyxl_xlsx_bytes(table, **kwargs)
    back = _read_back(new)
    assert back == _read_back(old)
    assert not [v for row in back["cells"] for v, kind in row if kind == "f"]
    assert new == old  # today's openpyxl writes these very bytes


def _with_hostile_text(table: pd.DataFrame) -> pd.DataFrame:
    hostile = table.copy()
    for i, text in enumerate(HOSTILE):
        row = (i * 37) % len(hostile)
        for col in ("applicants", "title", "reason", "source"):
            hostile.loc[hostile.index[row], col] = text
    hostile.loc[hostile.index[1], "rank"] = pd.NA
    hostile.loc[hostile.index[2], "total_score"] = float("nan")
    hostile.loc[hostile.index[3], "total_score"] = 4.125
    return hostile


@pytest.fixture(scope="module")
def decisions_2022() -> pd.DataFrame:
    return review_year(ROOT, YEAR).decisions


@pytest.fixture(scope="module")
def decisions_1000(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The decisions of bench_scale's synthetic year of 1 000 applications."""
    root = tmp_path_factory.mktemp("scale")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_scale import write_scale_year  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    write_scale_year(root, 1000, repo=ROOT)
    return review_year(root, YEAR).decisions


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_2022_workbook_reads_back_as_before(decisions_2022: pd.DataFrame, lang: str) -> None:
    _assert_same_workbook(decisions_export_frame(decisions_2022, lang), sheet_title="Beslut")
    committed = (ROOT / "reports" / str(YEAR) / "decisions.xlsx").read_bytes()
    assert _read_back(decisions_to_xlsx_bytes(decisions_export_frame(decisions_2022))) == _read_back(committed)


def test_a_synthetic_year_with_hostile_text_reads_back_as_before(decisions_1000: pd.DataFrame) -> None:
    table = _with_hostile_text(decisions_export_frame(decisions_1000))
    _assert_same_workbook(table, sheet_title="Decisions & <more>")
    cells = _read_back(decisions_to_xlsx_bytes(table))["cells"]
    texts = {v for row in cells for v, kind in row if kind == "s"}
    assert {"'=1+1", "'+x", "'@x", "'-x", "'\t=tab", "x\u202ey", " lead", "a\r\nb"} <= texts
    assert len(cells) == len(table) + 1 and all(len(row) == len(CSV_COLUMNS) for row in cells)


def test_cells_of_every_kind_read_back_as_before() -> None:
    table = pd.DataFrame({
        "text": ["=SUM(A1)", "plain", None, "", "  "],
        "whole": np.array([0, -5, 10**17, 2**40, 7], dtype="int64"),
        "nullable": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        "score": [1.005, float("nan"), 2.0, -0.125, 1e-7],
        "infinite": [float("inf"), 1.0, 2.0, 3.0, 4.0],
        "flag": [True, False, True, False, True],
        "objects": pd.Series([1, 2.5, "x", None, True], dtype=object),
    })
    _assert_same_workbook(table, columns=list(table.columns))
    empty = pd.DataFrame({"a": [None, "x"], "b": [float("nan"), 1.0]}, dtype=object)
    _assert_same_workbook(empty, columns=["a", "b"])  # a row without a cell
    _assert_same_workbook(empty.iloc[:0], columns=["a", "b"])  # no row but the heading


@pytest.mark.parametrize(("values", "error"), [
    (["ok", "x\x00y"], IllegalCharacterError), (["ok", "x\x1by"], IllegalCharacterError),
    (["ok", "x\ufffey"], ValueError), (["ok", "x\ud800y"], ValueError),
    # openpyxl refused the control character as its cell was set, before lxml met the other one
    (["x\ufffe", "y\x1b"], IllegalCharacterError)])
def test_a_character_xml_cannot_carry_fails_as_before(values: list[str], error: type[Exception]) -> None:
    table = pd.DataFrame({"a": values})
    with pytest.raises(error):
        _openpyxl_xlsx_bytes(table, ["a"])
    with pytest.raises(error):
        decisions_to_xlsx_bytes(table, ["a"])


def test_the_csv_is_as_before(decisions_2022: pd.DataFrame, decisions_1000: pd.DataFrame) -> None:
    for table in (decisions_export_frame(decisions_2022), _with_hostile_text(decisions_export_frame(decisions_1000)),
                  decisions_export_frame(decisions_2022, "en")):
        assert decisions_to_csv_string(table) == _old_csv_string(table)
    kinds = pd.DataFrame({
        "text": ["=SUM(A1)", "plain", "", "  ", "\tx"], "missing": ["-1", None, "x", "y", "z"],
        "whole": np.array([0, -5, 10**17, 2**40, 7], dtype="int64"), "nullable": pd.array([1, None, 3, 4, 5], "Int64"),
        "score": [1.005, float("nan"), 2.0, -0.125, 1e-7], "flag": [True, False, True, False, True],
        "objects": pd.Series([1, 2.5, "=x", None, True], dtype=object),
        "strings": pd.array(["+a", "b", None, "@c", "d"], dtype="string")})
    assert decisions_to_csv_string(kinds, list(kinds.columns)) == _old_csv_string(kinds, list(kinds.columns))
    committed = (ROOT / "reports" / str(YEAR) / "decisions.csv").read_text("utf-8")
    assert decisions_to_csv_string(decisions_export_frame(decisions_2022)) == committed
