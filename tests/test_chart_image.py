"""The record's charts as images in the notebook (workbook/chart_image.py) and left out of the record."""

from __future__ import annotations

import base64
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

import nbformat

from fou_review.core.pipeline import review_year
from fou_review.record.chart import render_chart
from fou_review.record.html_export import record_content, static_problems
from fou_review.workbook.chart_image import NOTEBOOK_ONLY, SVG_NS, _Alternative, chart_images_html, svg_documents

REPO = Path(__file__).resolve().parents[1]


def test_each_chart_becomes_an_image_with_its_numbers_as_text() -> None:
    section = render_chart(review_year(REPO, 2022), "sv")
    documents = svg_documents(section)
    assert len(documents) == 2  # LUM and MUL
    page = chart_images_html(section, "sv")
    assert page is not None
    sources = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(sources) == 2
    for source, document in zip(sources, documents, strict=True):
        svg = base64.b64decode(source).decode("utf-8")
        assert svg == document and ET.fromstring(svg).tag == f"{{{SVG_NS}}}svg"  # a standalone SVG document
        assert svg.replace(f' xmlns="{SVG_NS}"', "", 1) in section  # the record's own chart, byte for byte
    alts = re.findall(r'alt="([^"]*)"', page)
    assert alts[0].startswith("Sökt och beviljat per förvaltning, LUM 2022") and "kr" in alts[0]
    assert "<style>.fou-chart-image { display: none; }</style>" in page  # hidden where trusted (SVG shows)
    assert "visas när notebooken inte är betrodd" in page
    assert static_problems(page).count("<img>") == 2  # the record's static check would refuse them


def test_a_section_without_a_chart_gives_nothing() -> None:
    assert chart_images_html("<section><h2>Ärendet</h2><p>text</p></section>") is None


def test_the_record_export_leaves_the_images_out() -> None:
    cell = nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": "<p>record</p>"}),
        nbformat.v4.new_output("display_data", data={"text/html": "<img>"}, metadata=NOTEBOOK_ONLY),
    ])
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert record_content(nb) == (("html", "<p>record</p>"),)
    assert len(nb.cells[0].outputs) == 2  # the notebook itself keeps it


def _alternative_by_element_tree(svg: str) -> str:
    """The images' text as it was read before: the SVG parsed by ElementTree, its root's title and desc."""
    root = ET.fromstring(svg)
    parts = [(root.findtext(f"{{{SVG_NS}}}{tag}") or "").strip() for tag in ("title", "desc")]
    return ". ".join(p for p in parts if p)


def test_the_text_alternative_is_what_element_tree_reads() -> None:
    """`_Alternative` (expat, its handlers off once title and desc are read) against ElementTree's tree, on
    random documents: entities, CDATA, comments, a title with elements, nested, repeated or of another
    namespace, none at all, and documents that are not well-formed (both refuse them)."""
    pieces = ["<title>T &amp; t</title>", "<desc> D &#x27;x&#x27; </desc>", "<title>a<b>c</b>d</title>", "<desc/>",
              "<title></title>", "<g><title>inner</title></g>", "<!-- c -->",
              "<desc>x<!-- c -->y<![CDATA[<z>]]></desc>",
              "<title xmlns='other'>other</title>", "text", "<rect x='1'/>", "<desc>\n two\r\nlines </desc>",
              "<title>&nbsp;</title>", "<desc><desc>d</desc></desc>"]
    rng = random.Random(1)
    for _ in range(2000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        ns = rng.choice([f' xmlns="{SVG_NS}"', ""])
        svg = f"<svg{ns}>{body}</svg>" if rng.random() > 0.05 else f"<svg{ns}>{body}<broken></svg>"
        try:
            expected: str | None = _alternative_by_element_tree(svg)
        except ET.ParseError:
            expected = None
        try:
            got: str | None = _Alternative(svg).text()
        except expat.ExpatError:
            got = None
        assert got == expected, svg


def _svg_documents_by_pattern(section: str) -> list[str]:
    """The documents as they were cut before: one pattern for the whole SVG."""
    out = []
    for match in re.finditer(r"<svg\b[^>]*>.*?</svg>", section, re.DOTALL):
        svg = match.group()
        if "xmlns=" not in svg.split(">", 1)[0]:
            svg = svg.replace("<svg", f'<svg xmlns="{SVG_NS}"', 1)
        out.append(svg)
    return out


def test_the_documents_are_cut_where_the_pattern_cut_them() -> None:
    pieces = ["<svg>", "<svg ", "<svgx>", "<svg_", "<svgä", "<svg\n", ' xmlns="x"', ">", "</svg>", "</svg", "<p>",
              "text", "\n", 'width="1" height="2"', "<svg>ä</svg>"]
    rng = random.Random(2)
    for _ in range(3000):
        section = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert svg_documents(section) == _svg_documents_by_pattern(section), section
