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
import xml.etree.ElementTree as ET

from IPython.display import HTML, display

from fou_review.workbook.templating import render

SVG_NS = "http://www.w3.org/2000/svg"
NOTEBOOK_ONLY = {"fou_review": {"review_only": True}}  # output metadata: not part of the record
_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.DOTALL)
CSS_CLASS = "fou-chart-image"


def svg_documents(section_html: str) -> list[str]:
    """Each inline `<svg>` of a record section as a standalone SVG document (namespace added)."""
    out: list[str] = []
    if "<svg" not in section_html:  # most sections: no scan by the pattern
        return out
    for match in _SVG.finditer(section_html):
        svg = match.group()
        if "xmlns=" not in svg.split(">", 1)[0]:
            svg = svg.replace("<svg", f'<svg xmlns="{SVG_NS}"', 1)
        out.append(svg)
    return out


def _alternative(root: ET.Element) -> str:
    """The chart's title and description (which names every number), as the image's text (`root`: the parsed SVG)."""
    parts = [(root.findtext(f"{{{SVG_NS}}}{tag}") or "").strip() for tag in ("title", "desc")]
    return ". ".join(p for p in parts if p)


def chart_images_html(section_html: str, lang: str = "sv") -> str | None:
    """The section's charts as `<img>` elements with data URLs (template `chart_images.html.j2`), or None when
    it has no chart."""
    images = []
    for svg in svg_documents(section_html):
        root = ET.fromstring(svg)  # a chart that is not well-formed XML would not show as an image: fail here
        size = re.search(r'\bwidth="(\d+)"\s+height="(\d+)"', svg.split(">", 1)[0])
        images.append({"data": base64.b64encode(svg.encode("utf-8")).decode("ascii"), "alt": _alternative(root),
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
