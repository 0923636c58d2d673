"""The record's charts as images in the notebook, so they show without trusting it.

JupyterLab sanitizes the HTML outputs of a notebook it does not trust (the published
`reports/<year>/review.ipynb`, executed by papermill, is unsigned): an inline `<svg>` is stripped, its
labels left as a run-on line, and an `image/svg+xml` output is not shown at all. What it keeps is an
`<img>` whose source is a `data:image/svg+xml;base64,…` URL (checked in a real JupyterLab by
tests/test_form_browser.py). So, after each record section that holds a chart, the notebook shows the
same SVG once more as such an image (`show_chart_images`), with its title and description as the
image's text alternative.

That output is the notebook's only: its metadata marks it `review_only`, and the record's export
(`record.html_export.record_content`) leaves it out, so `allocation.html` keeps its inline SVG and
holds no image (its static check refuses any `<img>`). Where the notebook is trusted, the output's own
`<style>` hides the image (the inline SVG shows there); untrusted, JupyterLab drops the `<style>`.
"""

from __future__ import annotations

import base64
import re
from xml.parsers import expat

from IPython.display import HTML, display

from fou_review.workbook.templating import render

SVG_NS = "http://www.w3.org/2000/svg"
NOTEBOOK_ONLY = {"fou_review": {"review_only": True}}  # output metadata: not part of the record
_SVG_START = re.compile(r"<svg\b[^>]*>")  # an inline SVG's start tag; the SVG ends at the next "</svg>"
_SVG_END = "</svg>"
CSS_CLASS = "fou-chart-image"


def svg_documents(section_html: str) -> list[str]:
    """Each inline `<svg>` of a record section as a standalone SVG document (namespace added): from its start
    tag to the first "</svg>" after it (the end found by `str.find`, not by a pattern trying every character)."""
    out: list[str] = []
    at = 0
    while (start := _SVG_START.search(section_html, at)) is not None:
        end = section_html.find(_SVG_END, start.end())
        if end < 0:  # no SVG ends after this start tag, nor after a later one
            break
        at = end + len(_SVG_END)
        if "xmlns=" in start.group():
            out.append(section_html[start.start():at])
        else:
            out.append(f'<svg xmlns="{SVG_NS}"' + section_html[start.start() + len("<svg"):at])
    return out


class _Alternative:
    """The chart's title and description (which name every number), as the image's text: the text of the root's
    first `<title>` and first `<desc>` child (before any element of theirs), as `ElementTree` reads them, with
    the whole document parsed by expat (a chart that is not well-formed XML would not show as an image: fail
    here). Once both are read, the rest of the document is only checked, no element handled in Python."""

    TAGS = (f"{SVG_NS}}}title", f"{SVG_NS}}}desc")  # expat's names with the separator "}"

    def __init__(self, svg: str) -> None:
        self.texts: dict[str, str] = {}
        self.depth = 0
        self.reading: tuple[str, list[str]] | None = None  # the title or desc being read, its text so far
        self.parser = expat.ParserCreate(namespace_separator="}")
        self._handlers(True)
        self.parser.Parse(svg, True)

    def _handlers(self, on: bool) -> None:
        self.parser.StartElementHandler = self._start if on else None
        self.parser.EndElementHandler = self._end if on else None
        self.parser.CharacterDataHandler = self._data if on else None

    def _read(self) -> None:
        """The text being read ends (at the element's end, or at its first element)."""
        if self.reading is not None:
            name, pieces = self.reading
            self.texts[name] = "".join(pieces)
            self.reading = None

    def _start(self, name: str, _attributes: object) -> None:
        self._read()
        self.depth += 1
        if self.depth == 2 and name in self.TAGS and name not in self.texts:
            self.reading = (name, [])

    def _end(self, _name: str) -> None:
        self._read()
        self.depth -= 1
        if self.depth == 1 and len(self.texts) == len(self.TAGS):
            self._handlers(False)

    def _data(self, data: str) -> None:
        if self.reading is not None:
            self.reading[1].append(data)

    def text(self) -> str:
        """The title and the description, each stripped, joined by ". " (an empty one left out)."""
        parts = [self.texts.get(tag, "").strip() for tag in self.TAGS]
        return ". ".join(p for p in parts if p)


def chart_images_html(section_html: str, lang: str = "sv") -> str | None:
    """The section's charts as `<img>` elements with data URLs (template `chart_images.html.j2`), or None when
    it has no chart."""
    images = []
    for svg in svg_documents(section_html):
        alternative = _Alternative(svg).text()
        size = re.search(r'\bwidth="(\d+)"\s+height="(\d+)"', svg[:svg.find(">")])  # (an SVG holds a ">")
        images.append({"data": base64.b64encode(svg.encode("utf-8")).decode("ascii"), "alt": alternative,
                       "size": size.groups() if size else None})
    if not images:
        return None
    return render("chart_images.html.j2", lang, css=CSS_CLASS, images=images)


def show_chart_images(section_html: str, lang: str = "sv") -> None:
    """Display the section's charts as images (nothing when it has none), marked as the notebook's only."""
    images = chart_images_html(section_html, lang)
    if images is not None:
        display(HTML(images), metadata=NOTEBOOK_ONLY)  # type: ignore[no-untyped-call]


__all__ = ["NOTEBOOK_ONLY", "chart_images_html", "show_chart_images", "svg_documents"]
