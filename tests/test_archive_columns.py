"""The archival PDF's table columns (record/archive_columns.py): measured as WeasyPrint measures, in step
with the print styles, and every table of the 2022 record inside the page with no text outside its cell."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from fou_review.record import archive
from fou_review.record import archive_columns as columns

REPO = Path(__file__).resolve().parent.parent
PX_PER_PT = 96 / 72


@pytest.fixture(scope="module")
def fonts() -> columns.Fonts:
    archive.prepare()
    return columns.fonts_from({path.name: path for path in archive.font_files()})


def _print_css() -> str:
    """The record's @page rule and print styles (the end of record.css)."""
    css = (resources.files("fou_review.record") / "templates" / "record" / "record.css").read_text("utf-8")
    return css[css.index("@page"):]


def test_the_geometry_is_the_print_styles() -> None:
    css = _print_css()
    page = re.search(r"@page \{ size: A4; margin: (\S+) (\S+) (\S+) (\S+); \}", css)
    assert page is not None and columns.PAGE_WIDTH_MM == 210.0
    assert float(page.group(2).removesuffix("mm")) + float(page.group(4).removesuffix("mm")) == columns.SIDE_MARGINS_MM
    assert re.search(rf"\n  table \{{[^}}]*font-size: {columns.TABLE_PT:g}pt;", css)
    small = re.search(r"\n  (table\.\w+(?:, table\.\w+)*) \{ font-size: (\d+)pt; \}", css)
    assert small is not None and float(small.group(2)) == columns.SMALL_TABLE_PT
    assert {name.removeprefix("table.") for name in small.group(1).split(", ")} == columns.SMALL_TABLES
    padding = re.search(r"\n  th, td \{ padding: \S+ ([\d.]+)rem;", css)
    assert padding is not None and columns.CELL_EDGES_PX == 2 * float(padding.group(1)) * 16 + 1


@pytest.mark.parametrize("text", ["Socialförvaltningen", "arbetsmarknadsförvaltningen", "4 650 000 kr",
                                  "Hässelby-Vällingby", "Återrapport", "Ω≈ç√ – “citat”"])
def test_text_is_as_wide_as_weasyprint_lays_it_out(fonts: columns.Fonts, text: str) -> None:
    html = (f'<table style="font-size: 7pt; border-collapse: collapse"><tr><td style="padding: 0">{text}</td>'
            f'<td style="padding: 0; font-weight: bold">{text}</td></tr></table>')
    widths = [box.width for box in _boxes(archive.document(html).pages[0]._page_box, "TextBox")]
    assert sum(widths[:1]) == pytest.approx(fonts.regular.width(text) * 7 * PX_PER_PT, abs=0.2)
    assert sum(widths[1:]) == pytest.approx(fonts.bold.width(text) * 7 * PX_PER_PT, abs=0.2)


def test_a_table_that_fits_shares_the_page_by_its_widest_cells() -> None:
    shares = columns._distribute([2.0, 2.0], [10.0, 30.0], available=80.0, edges=1.0)
    assert shares == pytest.approx([100 * (20 - 1) / 80, 100 * (60 - 1) / 80])


def test_a_table_too_wide_breaks_only_its_longest_words() -> None:
    shares = columns._distribute([30.0, 10.0, 25.0], [60.0, 12.0, 40.0], available=60.0, edges=1.0)
    widths = [share * 60 / 100 + 1 for share in shares]
    assert widths == pytest.approx([25.0, 10.0, 25.0])  # the two longest narrowed to one cap; the short one whole
    assert sum(widths) == pytest.approx(60.0)


def test_a_first_row_spanning_columns_is_left_to_the_automatic_layout(fonts: columns.Fonts) -> None:
    import xml.etree.ElementTree as ET

    table = ET.fromstring("<table><tr><td colspan='2'>a</td></tr><tr><td>b</td><td>c</td></tr></table>")
    assert columns.column_widths(table, fonts) is None


def _boxes(box: Any, kind: str) -> list[Any]:
    found = [box] if type(box).__name__ == kind else []
    for child in getattr(box, "children", []):
        found += _boxes(child, kind)
    return found


def test_every_table_of_the_2022_record_fits_its_page_and_its_text_its_cells() -> None:
    archive.prepare()
    html = (REPO / "reports" / "2022" / "allocation.html").read_text("utf-8")
    laid_out = archive.document(html)
    checked = 0
    for page in laid_out.pages:
        box = page._page_box
        left, right = box.content_box_x(), box.content_box_x() + box.width
        for table in _boxes(box, "TableBox"):
            assert left - 0.5 <= table.border_box_x() and table.border_box_x() + table.border_width() <= right + 0.5
        for cell in _boxes(box, "TableCellBox"):
            inner_left, inner_right = cell.content_box_x(), cell.content_box_x() + cell.width
            for text in _boxes(cell, "TextBox"):
                assert inner_left - 0.5 <= text.position_x and text.position_x + text.width <= inner_right + 0.5, (
                    text.text, page.width)
                checked += 1
    assert checked > 1000
