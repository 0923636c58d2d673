"""The record at scale: its long per-application parts as separate static pages in the same folder.

At 10^4 applications one page holding everything would be about 14 MB, take seconds to open and
could not be made into a PDF in reasonable time or memory. So from `SEPARATE_PAGES_FROM`
applications on, the parts that grow with the number of applications (the checks per
administration, the ranking, the reviewer calibration, the chart, the year-over-year tables and the
appendices) each become a page of their own, `<section id>.html` beside `allocation.html`; the main
page keeps, in its place, the section's heading and a link to that page, so its reading order and
table of contents stay those of the decision. Below the threshold (the 2022 call has 23
applications) nothing changes: one page, as before.

How the pages travel: `render_record_sections` returns, after the main page's sections, one
fragment per page wrapped in `<div class="record-page" data-record-page="NAME.html">` (its own
heading, with the Dnr and a link back, and the section); the review notebook displays them like every
other section, and `html_export.notebook_to_record_pages` takes them out of the main page and makes
each a page with the same template, stylesheet and static check. The links are plain relative
links to files of the same folder: they load nothing by themselves, and the page stays without
script or external URL.

The archival PDF is made from the main page only: the decision with its totals, the granted lists
and the rules, which names each separate page; the per-application parts are archived as the pages
themselves and as open data with Table Schemas (`data/`), all under the manifest's SHA-256.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from fou_review.record.markup import render

SEPARATE_PAGES_FROM = 200  # applications; 2022 has 23
MOVABLE = ("kontroller", "rangordning", "kalibrering", "diagram", "historik")  # and every "bilaga-N"
PAGE_NAME = re.compile(r"[a-z0-9-]+\.html")
_WRAPPED = re.compile(r'\A<div class="record-page" data-record-page="([a-z0-9-]+\.html)">\n(.*)\n</div>\Z', re.DOTALL)
_H2 = re.compile(r'<h2 id="([^"]+)-rubrik">(.*?)</h2>', re.DOTALL)


def separate_pages(n_applications: int) -> bool:
    """Does a year of `n_applications` get separate pages?"""
    return n_applications >= SEPARATE_PAGES_FROM


def movable(section_id: str) -> bool:
    """Is the section one of those that grow with the number of applications?"""
    return section_id in MOVABLE or re.fullmatch(r"bilaga-\d+", section_id) is not None


def page_name(section_id: str) -> str:
    """The file of a section's own page: "bilaga-1" -> "bilaga-1.html"."""
    return f"{section_id}.html"


def _heading_html(fragment: str, section_id: str) -> Markup:
    match = next((m for m in _H2.finditer(fragment) if m.group(1) == section_id), None)
    return Markup(match.group(2) if match else section_id)  # already escaped by the section's template


def split_section(section_id: str, fragment: str, *, lang: str, title: str, dnr: str,
                  pages: list[tuple[str, str]]) -> tuple[str, str]:
    """(stub for the main page, the wrapped page fragment) of one movable section.

    The stub keeps the section's id and heading and links to the page; `pages` is every separate
    page as (file, heading text), for the page's navigation.
    """
    heading = _heading_html(fragment, section_id)
    name = page_name(section_id)
    stub = render("page_stub.html.j2", lang, id=section_id, heading=heading, page=name,
                  rows=fragment.count("<tr>"))
    header = render("page_heading.html.j2", lang, title=title, dnr=dnr, here=name,
                    pages=[(p, Markup(h)) for p, h in pages])
    return stub, f'<div class="record-page" data-record-page="{name}">\n{header}\n{fragment}\n</div>'


def unwrap(fragment: str) -> tuple[str, str] | None:
    """(file, inner HTML) of a wrapped page fragment, or None for a fragment of the main page."""
    match = _WRAPPED.match(fragment)
    return (match.group(1), match.group(2)) if match else None


def heading_text(fragment: str) -> str:
    """The plain text of the first section heading in `fragment` (for a page's <title>)."""
    import html

    match = _H2.search(fragment)
    if not match:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", match.group(2))).split())


__all__ = ["MOVABLE", "PAGE_NAME", "SEPARATE_PAGES_FROM", "heading_text", "movable", "page_name",
           "separate_pages", "split_section", "unwrap"]
