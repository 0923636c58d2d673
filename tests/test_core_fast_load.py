"""The loaders' fast paths read exactly what their row-by-row paths read.

`tables.parse_csv_from_string` splits a plain CSV text itself and reads any other with the csv module
in one go; `load.parse_applications` and `load.parse_scores` check a whole column at a time and
fall back to the row-by-row checks only to name problems. Each fast path is checked here against
the path it stands in for: random CSV texts (hypothesis), and the 2022 year's and a synthetic
year's tables, valid and with wrong cells.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fou_review.core import load, tables
from fou_review.core.load import load_params, parse_applications, parse_scores
from fou_review.core.params import Alias, Params
from fou_review.core.tables import Table, parse_csv_from_string, read_table
from fou_review.errors import InputError

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def without(module: Any, name: str) -> Iterator[None]:
    """`module.name` (a fast path) answering None: the slower path does the work."""
    real = getattr(module, name)
    setattr(module, name, lambda *_a, **_k: None)
    try:
        yield
    finally:
        setattr(module, name, real)


def outcome(read: Callable[[], Any]) -> Any:
    """What `read` gives: its result, or the problems it raises (as texts)."""
    try:
        return read()
    except InputError as exc:
        return [p.text("en") for p in exc.problems]


def same_table(a: Any, b: Any) -> bool:
    return (a == b) if not isinstance(a, Table) else (isinstance(b, Table) and a.columns == b.columns
                                                     and a.rows == b.rows and a.file == b.file)


CELL = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t;1é\u00a0')), max_size=6)


@settings(max_examples=400, deadline=None)
@given(header=st.lists(st.sampled_from(["id", "fund", "title", "x"]), min_size=1, max_size=4, unique=True),
       data=st.data(), ending=st.sampled_from(["", "\n", "\n\n", "\r\n"]))
def test_csv_text_reads_the_same_by_every_path(header: list[str], data: st.DataObject, ending: str) -> None:
    width = st.just(len(header)) if data.draw(st.booleans()) else st.integers(0, 5)  # mostly full rows
    rows = data.draw(st.lists(width.flatmap(lambda n: st.lists(CELL, min_size=n, max_size=n)), max_size=6))
    text = "\n".join([",".join(header), *(",".join(r) for r in rows)]) + ending
    fast = outcome(lambda: parse_csv_from_string(text, "t.csv"))
    with without(tables, "_plain_table"):
        records = outcome(lambda: parse_csv_from_string(text, "t.csv"))
        with without(tables, "_table_of_records"):
            row_by_row = outcome(lambda: parse_csv_from_string(text, "t.csv"))
    assert same_table(fast, row_by_row) and same_table(records, row_by_row)


def test_the_years_files_are_plain(year: tuple[Path, Params]) -> None:
    root, _ = year
    for path in sorted((root / "data" / "2022").rglob("*.csv")):
        text = path.read_text("utf-8")
        header = tuple(h.strip() for h in text.partition("\n")[0].split(","))
        if '"' not in text:  # the split of its own reads these (quoted files go through the csv module)
            plain = tables._plain_table(text, header, path.name)
            assert plain is not None, path
            with without(tables, "_plain_table"):
                assert same_table(plain, parse_csv_from_string(text, path.name))


def _bench_year(root: Path, n: int) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from bench_scale import write_scale_year  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO / "bench"))
    write_scale_year(root, n, seed=3, repo=REPO)


@pytest.fixture(scope="module", params=["2022", "synthetic"])
def year(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Params]:
    """A project folder: the repository's 2022, or a synthetic year of 400 applications."""
    if request.param == "2022":
        return REPO, load_params(REPO, 2022)
    root = tmp_path_factory.mktemp("synthetic")
    _bench_year(root, 400)
    return root, load_params(root, 2022)


def _tables(root: Path) -> tuple[Table, list[Table]]:
    data = root / "data" / "2022"
    apps = read_table(data / "applications.csv", "data/2022/applications.csv")
    return apps, [read_table(p, p.name) for p in sorted((data / "scores").glob("*.csv"))]


def _with_cell(table: Table, row: int, column: str, text: str) -> Table:
    rows = [(n, dict(v)) for n, v in table.rows]
    rows[row][1][column] = text
    return Table.from_rows(table.file, table.columns, rows)


def _both(read: Callable[[], pd.DataFrame], module: Any, fast: str) -> tuple[Any, Any]:
    quick = outcome(read)
    with without(module, fast):
        slow = outcome(read)
    return quick, slow


def _assert_same(quick: Any, slow: Any) -> None:
    if isinstance(slow, pd.DataFrame):
        assert isinstance(quick, pd.DataFrame)
        pd.testing.assert_frame_equal(quick, slow)
    else:
        assert isinstance(quick, list) and quick == slow and slow  # the same problems, in the same order


APPLICATION_EDITS = [(0, "id", "LUM 1"), (1, "fund", "XYZ"), (2, "requested_kr", "12 5OO"),
                     (3, "received", "2021-13-01"), (4, "applicants", "Ingen sådan förvaltning"), (5, "title", " "),
                     (6, "project_year", "9"), (7, "last_report", "kanske"), (8, "source", "gissat"), (1, "id", "")]
SCORE_EDITS = [(0, "score", "8"), (1, "score", "tre"), (2, "criterion", "okänd"), (3, "application_id", "X-1"),
               (4, "score", "")]


def test_applications_read_the_same_by_columns_and_by_rows(year: tuple[Path, Params]) -> None:
    root, params = year
    apps, _ = _tables(root)
    assert load._valid_applications(apps, params, False) is not None  # the fast path reads a valid table
    _assert_same(*_both(lambda: parse_applications(apps, params), load, "_valid_applications"))
    for row, column, text in APPLICATION_EDITS:
        if column in apps.columns:
            edited = _with_cell(apps, row, column, text)
            _assert_same(*_both(lambda e=edited: parse_applications(e, params), load, "_valid_applications"))


def test_a_former_name_is_judged_by_each_row_s_date() -> None:
    """One former name on two rows, received before and after the renaming, in a year that rejects former
    names: only the later row is wrong, by both paths."""
    params = load_params(REPO, 2022)
    params = dataclasses.replace(params, aliases=(Alias("Gamla stan", "Bromma", dt.date(2021, 9, 5)),),
                                 cycle=dataclasses.replace(params.cycle, predecessor_names="reject"))
    apps, _ = _tables(REPO)
    early, late = 0, 1  # the earlier row first: a reading that went by the name alone would miss the later
    edited = apps
    for row, received in ((early, "2021-09-01"), (late, "2021-09-09")):
        edited = _with_cell(_with_cell(edited, row, "received", received), row, "applicants", "Gamla stan")
    quick, slow = _both(lambda: parse_applications(edited, params), load, "_valid_applications")
    _assert_same(quick, slow)
    assert len(slow) == 1 and f"row {apps.row_numbers[late]}" in slow[0] and "Gamla stan" in slow[0]


def test_a_former_name_accepted_is_read_by_each_row_s_date() -> None:
    """A year that accepts former names: the rows naming one are read one by one (the column's other cells once
    each), the same frame by both paths."""
    params = load_params(REPO, 2022)
    params = dataclasses.replace(params, aliases=(Alias("Gamla stan", "Bromma", dt.date(2021, 9, 5)),))
    apps, _ = _tables(REPO)
    edited = apps
    for row, received in ((0, "2021-09-01"), (1, "2021-09-09")):
        edited = _with_cell(_with_cell(edited, row, "received", received), row, "applicants", "Gamla stan")
    quick, slow = _both(lambda: parse_applications(edited, params), load, "_valid_applications")
    _assert_same(quick, slow)
    assert isinstance(quick, pd.DataFrame) and quick["applicants"].tolist()[:2] == [("Bromma",), ("Bromma",)]


def test_scores_read_the_same_by_columns_and_by_rows(year: tuple[Path, Params]) -> None:
    root, params = year
    apps, score_tables = _tables(root)
    ids = set(apps.column("id"))
    for table in score_tables:
        reviewer = Path(table.file).stem
        scale = (params.scale.minimum, params.scale.maximum)
        codes = {a: i for i, a in enumerate(ids)}
        assert load._score_codes(table, reviewer, params.criterion_codes(), scale, codes) is not None  # read fast
        _assert_same(*_both(lambda t=table, r=reviewer: parse_scores(t, r, params, ids), load, "_score_codes"))
    table = score_tables[0]
    reviewer = Path(table.file).stem
    for row, column, text in SCORE_EDITS:
        edited = _with_cell(table, row, column, text)
        quick, slow = _both(lambda e=edited: parse_scores(e, reviewer, params, ids), load, "_score_codes")
        _assert_same(quick, slow)  # (an emptied score is no problem: one row fewer, in both)


def test_a_year_s_scores_read_the_same_by_their_positions(year: tuple[Path, Params]) -> None:
    """`load_year` makes the scores' frame from each file's positions (`load._score_codes`) as it makes it from
    the files' frames (`parse_scores`), both for the year and with a file of problems."""
    root, _ = year
    quick, slow = _both(lambda: load.load_year(root, 2022).scores, load, "_score_codes")
    _assert_same(quick, slow)
    assert list(quick.dtypes.astype(str)) == list(slow.dtypes.astype(str))
    for column in ("reviewer", "application_id", "criterion"):
        assert quick[column].cat.categories.equals(slow[column].cat.categories)
        assert quick[column].cat.codes.dtype == slow[column].cat.codes.dtype


def _copy_year(root: Path, to: Path) -> list[Path]:
    """The year's parameters and data copied to `to`; its score files."""
    for part in ("params", "data"):
        shutil.copytree(root / part, to / part)
    return sorted((to / "data" / "2022" / "scores").glob("*.csv"))


def _edit_scores(path: Path, edit: Callable[[int, list[str]], list[str]]) -> None:
    """Each row's cells of a score file replaced by `edit(index of the score column, cells)`."""
    lines = path.read_text("utf-8").splitlines()
    column = lines[0].split(",").index("score")
    path.write_text("\n".join([lines[0], *(",".join(edit(column, line.split(","))) for line in lines[1:])]) + "\n",
                    "utf-8")


def test_scores_read_the_same_with_a_file_read_row_by_row(tmp_path: Path, year: tuple[Path, Params]) -> None:
    """A reviewer who has scored nothing yet, and a grade written with ten digits (read only row by row): the
    year's scores are the files' frames put together, by either reading."""
    scores = _copy_year(year[0], tmp_path)
    _edit_scores(scores[-1], lambda column, cells: [("" if i == column else c) for i, c in enumerate(cells)])
    quick, slow = _both(lambda: load.load_year(tmp_path, 2022).scores, load, "_score_codes")
    _assert_same(quick, slow)
    _edit_scores(scores[0], lambda column, cells: [(c.zfill(10) if i == column and c else c)
                                                   for i, c in enumerate(cells)])
    assert load._score_codes(read_table(scores[0], "s.csv"), scores[0].stem, year[1].criterion_codes(),
                             (year[1].scale.minimum, year[1].scale.maximum), {}) is None
    quick, slow = _both(lambda: load.load_year(tmp_path, 2022).scores, load, "_score_codes")
    _assert_same(quick, slow)


def test_a_year_s_score_problems_are_the_same_by_either_reading(tmp_path: Path, year: tuple[Path, Params]) -> None:
    scores = _copy_year(year[0], tmp_path)
    text = scores[0].read_text("utf-8").splitlines()
    first = text[1].split(",")
    text[2] = ",".join([first[0], first[1], *text[2].split(",")[2:]])  # an (application, criterion) twice
    text[3] = text[3].replace(text[3].split(",")[0], "X-1", 1)  # an unknown application
    scores[0].write_text("\n".join(text) + "\n", "utf-8")
    quick, slow = _both(lambda: load.load_year(tmp_path, 2022), load, "_score_codes")
    _assert_same(quick, slow)
    assert any("X-1" in p for p in slow) and any("already scored" in p for p in slow)
