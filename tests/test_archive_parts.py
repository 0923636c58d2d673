"""The archival PDF set in parts side by side and put together (record/archive_parts.py): the same pages as the
record page set whole, its page numbers, links, outline and fonts intact, the same bytes with or without forks."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from fou_review.record import archive, archive_parts

REPO = Path(__file__).resolve().parent.parent
DECIDED = dt.date(2021, 12, 14)


@pytest.fixture(scope="module")
def html() -> str:
    return (REPO / "reports" / "2022" / "allocation.html").read_text("utf-8")


@pytest.fixture(scope="module")
def pdf(html: str) -> bytes:
    archive.prepare()
    return archive.record_pdf(html, decided=DECIDED)


@pytest.fixture(scope="module")
def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def _lines(page: object) -> list[str]:
    return sorted(page.extract_text().splitlines())  # type: ignore[attr-defined]


def test_the_page_is_cut_before_each_part_and_nothing_else_changes(html: str) -> None:
    parts = archive_parts.split(html)
    assert len(parts.pages) == 1 + len(archive_parts.PART_STARTS)
    bodies = [page[page.index("<main>") + 6:page.rindex("</main>")] for page in parts.pages]
    for start, body in zip(archive_parts.PART_STARTS, bodies[1:], strict=True):
        assert body.startswith(f'\n<section id="{start}"')
    marks = re.compile(r'<span id="[^"]+"></span>')
    assert "".join(marks.sub("", body) for body in bodies) == html[html.index("<main>") + 6:html.rindex("</main>")]
    assert all(page.endswith(html[html.rindex("</main>"):]) for page in parts.pages)
    assert parts.ids[1] >= {"kalibrering", "diagram", "bilaga-1", "ursprung"}
    assert "kalibrering" not in parts.ids[0] and "rangordning-rubrik" in parts.ids[0]


def test_the_record_css_starts_every_part_on_a_new_page() -> None:
    css = (REPO / "fou_review" / "record" / "templates" / "record" / "record.css").read_text("utf-8")
    rule = re.search(r"([^{}]+)\{ break-before: page; \}", css.split("@media print", 1)[1])
    assert rule is not None
    assert {s.strip() for s in rule.group(1).split(",")} >= {f"#{i}" for i in archive_parts.PART_STARTS}


def test_a_section_inside_another_is_no_place_to_cut() -> None:
    page = ('<html><head></head><body><main>\n<section id="a"><p>x</p>\n<section id="rangordning"><p>y</p>'
            '</section></section>\n</main></body></html>')
    assert archive_parts.split(page).pages == (page.replace("</head>", archive_parts.PART_STYLE + "</head>"),)


def test_every_page_holds_what_the_page_set_whole_holds(html: str, reader: PdfReader) -> None:
    # with the print styles' breaks before each part (as record.css has them), the parts are the same pages
    whole = PdfReader(io.BytesIO(archive._set(html, DECIDED)))  # one WeasyPrint document, its own page numbers
    assert len(reader.pages) == len(whole.pages)
    assert [_lines(p) for p in reader.pages] == [_lines(p) for p in whole.pages]


def test_page_numbers_and_the_dnr_on_every_page(reader: PdfReader) -> None:
    count = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert text.count(f"Sida {number} ({count})") == 1, number
        assert "Dnr 3.2.2-547/2021" in text


def test_links_lead_to_the_part_where_their_target_is(html: str, reader: PdfReader) -> None:
    named = reader.named_destinations
    links = [annot.get_object() for page in reader.pages for annot in page.get("/Annots", [])]
    targets = {str(link["/Dest"]) for link in links if "/Dest" in link}
    assert {"rangordning", "kalibrering", "bilaga-1", "ursprung", "fordelning"} <= targets
    assert targets <= set(named)
    texts = [page.extract_text() for page in reader.pages]
    for name in ("fordelning", "rangordning", "kalibrering", "diagram", "bilaga-1", "bilaga-2", "ursprung"):
        heading = re.search(rf'<h2 id="{name}-rubrik">([^<]+)</h2>', html)
        assert heading is not None
        first = next(i for i, text in enumerate(texts) if i and heading.group(1)[:20] in text)  # (0: contents)
        assert reader.get_destination_page_number(named[name]) == first, name


def test_the_outline_lists_every_section_in_order(html: str, reader: PdfReader) -> None:
    titles = []

    def walk(items: list[object]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)  # type: ignore[attr-defined]

    walk(reader.outline)
    headings = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", html)]
    assert titles == [h.replace("&amp;", "&") for h in headings]
    assert [item.title for item in reader.outline if not isinstance(item, list)][:2] == headings[:2]


def test_each_distinct_font_subset_has_its_own_tag(reader: PdfReader) -> None:
    by_name: dict[str, set[bytes]] = {}
    for page in reader.pages:
        resources = [page["/Resources"]] + [x.get_object()["/Resources"] for x in
                                            page["/Resources"].get("/XObject", {}).values()]
        for each in resources:
            for font in each.get("/Font", {}).values():
                font = font.get_object()
                descendant = font["/DescendantFonts"][0].get_object()
                data = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
                assert descendant["/BaseFont"] == font["/BaseFont"] == descendant["/FontDescriptor"]["/FontName"]
                by_name.setdefault(str(font["/BaseFont"]), set()).add(data)
    assert len(by_name) > 4 and all(len(files) == 1 for files in by_name.values()), by_name.keys()


def test_the_same_bytes_with_or_without_forks(html: str, pdf: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    forks = []
    real_fork = os.fork

    def counted() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    assert archive.record_pdf(html, decided=DECIDED) == pdf
    assert len(forks) == len(archive_parts.PART_STARTS)  # the parts after the first, side by side
    monkeypatch.setattr(archive_parts, "fork_possible", lambda: False)
    forks.clear()
    assert archive.record_pdf(html, decided=DECIDED) == pdf and forks == []


@pytest.mark.parametrize("fails", ["laid out", "written"])
def test_a_part_whose_fork_fails_is_set_here(html: str, fails: str) -> None:
    parent = os.getpid()

    def lay_out(page: str) -> object:
        if fails == "laid out" and os.getpid() != parent:
            raise RuntimeError("the fork fails before it says its page count")
        return archive.document(page)

    def write(laid_out: object) -> bytes:
        if fails == "written" and os.getpid() != parent:
            raise RuntimeError("the fork fails after it said its page count")
        return archive._written(laid_out, DECIDED)

    parts = archive_parts.split(html)
    counted: list[int] = []
    made, stamp = archive_parts.side_by_side(parts.pages, archive_parts.Setter(lay_out, write),
                                             lambda count: counted.append(count) or b"stamp")
    assert made == [archive._set(page, DECIDED) for page in parts.pages] and stamp == b"stamp"
    assert counted == [sum(len(PdfReader(io.BytesIO(part)).pages) for part in made)]
