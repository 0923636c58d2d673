"""The executed review notebook -> the frozen, static `allocation.html`.

nbconvert's `HTMLExporter` renders the notebook with the package's own template (`templates/record`),
which takes only the markdown cells and the `text/html` of display outputs and nothing that varies
between runs (cell ids, execution metadata, widget state, the file name). The page is then checked:
it must hold no script, no event handler, no embedded object and no URL that loads, so that it opens
offline, years later, and shows exactly what was decided. Same notebook outputs -> same bytes.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import nbformat

from fou_review.errors import Msg, RecordError
from fou_review.record.markup import LANGS
from fou_review.texts.catalog import t

TEMPLATE_NAME = "record"
FORBIDDEN_TAGS = ("script", "iframe", "frame", "object", "embed", "link", "base", "applet", "form", "img", "video",
                  "audio", "source", "track", "image", "use", "foreignobject", "noscript", "portal")
# A link to another page of the same record, in the same folder ("bilaga-1.html", "allocation.html#x"):
# followed only when clicked, it loads nothing by itself (see record/pages.py).
SIBLING_PAGE = re.compile(r"[a-z0-9-]+\.html(#[A-Za-z0-9_-]+)?")
URL_ATTRIBUTES = ("src", "href", "xlink:href", "action", "formaction", "data", "poster", "srcset", "background",
                  "manifest", "ping", "codebase", "cite", "longdesc")


def _attribute_problem(tag: str, name: str, value: str) -> str | None:
    lowered = value.lower()
    if name.startswith("on"):
        return f"<{tag} {name}=…>"
    if name in URL_ATTRIBUTES and not value.startswith("#") and not (
            tag == "a" and name == "href" and SIBLING_PAGE.fullmatch(value)):
        return f"<{tag} {name}={value!r}>"
    if name == "style" and ("url(" in lowered or "expression(" in lowered):
        return f"<{tag} style={value!r}>"
    return None


def static_problems(page: str) -> list[str]:
    """What in `page` could run a script or load something from elsewhere (empty: static).

    The page is parsed by libxml2's HTML parser (tag and attribute names in lower case, as browsers
    read them); forbidden elements, event handler attributes, URL attributes that load something,
    styles with `url(`, `@import` or `expression(`, and a refreshing `<meta>` are reported.
    """
    from lxml import etree

    if not page.strip():
        return []
    root = etree.HTML(page, parser=etree.HTMLParser(huge_tree=True))
    if root is None:
        return []
    problems: list[str] = []
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):  # a comment
            continue
        if tag in FORBIDDEN_TAGS:
            problems.append(f"<{tag}>")
        elif tag == "style":
            lowered = (element.text or "").lower()
            problems += [f"<style> {needle}" for needle in ("url(", "@import", "expression(") if needle in lowered]
        elif tag == "meta" and str(element.get("http-equiv", "")).lower() == "refresh":
            problems.append("<meta http-equiv=refresh>")
        for name in element.attrib:  # (iterating the element itself would give its children)
            if name.startswith("on") or name in URL_ATTRIBUTES or name == "style":
                problem = _attribute_problem(tag, name, str(element.get(name) or ""))
                if problem:
                    problems.append(problem)
    return problems


def _template_dir() -> str:
    return str(resources.files("fou_review.record") / "templates")


def _exporter() -> Any:
    """nbconvert's HTMLExporter with the record template, without its BeautifulSoup pass.

    `HTMLExporter.from_notebook_node` re-parses the page to add alt texts and tabindex to JupyterLab's
    cell classes, none of which the record has; that pass was three quarters of the export time.
    """
    from nbconvert import HTMLExporter  # imported here: importing nbconvert costs ~0.5 s
    from nbconvert.exporters.templateexporter import TemplateExporter

    class RecordExporter(HTMLExporter):
        def from_notebook_node(  # type: ignore[override]
                self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None,
                **kw: Any) -> tuple[str, dict[str, Any]]:
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return RecordExporter(  # type: ignore[no-untyped-call]
        template_name=TEMPLATE_NAME, extra_template_basedirs=[_template_dir()], exclude_input=True,
        exclude_input_prompt=True, exclude_output_prompt=True, exclude_anchor_links=True, embed_images=False)


def css_string(text: str) -> str:
    """`text` as the inside of a CSS string in a <style> element (no quote, backslash or tag can escape)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace(">", "\\3e ")
    return " ".join(out.split())


def notebook_to_record_html(nb: nbformat.NotebookNode, *, lang: str, title: str, dnr: str = "") -> str:
    """The record page for an executed review notebook; raise RecordError if it would not be static.

    With `dnr`, every printed page carries "Tjänsteutlåtande, Dnr <dnr>" and "Sida x (y)". A record
    with separate pages (see `notebook_to_record_pages`): its main page only.
    """
    return notebook_to_record_pages(nb, lang=lang, title=title, dnr=dnr)[MAIN_PAGE]


MAIN_PAGE = "allocation.html"


Content = tuple[tuple[str, str], ...]  # what a record page is made of: ("markdown", source) and ("html", fragment)


def record_content(nb: nbformat.NotebookNode) -> Content:
    """What of `nb` reaches the record, in order: the source of each markdown cell and the text/html of
    each display output, of the cells not tagged review-only (the template's own selection, see
    templates/record/index.html.j2). The pages are a function of this, the language, title and Dnr."""
    content: list[tuple[str, str]] = []
    for cell in nb.cells:
        if "review-only" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            content.append(("markdown", "".join(cell.source) if isinstance(cell.source, list) else cell.source))
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                fragment = output.get("data", {}).get("text/html") if output.output_type in (
                    "display_data", "execute_result") else None
                if fragment is not None:
                    content.append(("html", fragment if isinstance(fragment, str) else "".join(fragment)))
    return tuple(content)


def notebook_to_record_pages(nb: nbformat.NotebookNode, *, lang: str, title: str, dnr: str = "",
                             main_only: bool = False) -> dict[str, str]:
    """Every page of the record, by file name: `allocation.html` and, for a large year, the separate
    pages (`record.pages`), each an output of the notebook wrapped as a page; all from the same
    template and stylesheet, each checked to be static (RecordError otherwise). `main_only`: the
    main page alone (the separate pages are left out of it all the same)."""
    return content_to_record_pages(record_content(nb), lang=lang, title=title, dnr=dnr, main_only=main_only)


def content_to_record_pages(content: Content, *, lang: str, title: str, dnr: str = "",
                            main_only: bool = False) -> dict[str, str]:
    """The pages of `notebook_to_record_pages` from the notebook's `record_content`."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    from fou_review.record.pages import heading_text, unwrap

    exporter = _exporter()
    new = nbformat.v4
    cells, separate = [], {}
    for kind, text in content:
        found = unwrap(text) if kind == "html" else None
        if found is not None:
            separate[found[0]] = found[1]
        elif kind == "markdown":
            cells.append(new.new_markdown_cell(text))  # type: ignore[no-untyped-call]
        else:
            cells.append(new.new_code_cell(outputs=[  # type: ignore[no-untyped-call]
                new.new_output("display_data", data={"text/html": text})]))  # type: ignore[no-untyped-call]
    pages = {MAIN_PAGE: _export(exporter, new.new_notebook(cells=cells), lang=lang, title=title,  # type: ignore[no-untyped-call]
                                dnr=dnr)}
    for name, fragment in ({} if main_only else separate).items():
        one = new.new_notebook(cells=[new.new_code_cell(outputs=[  # type: ignore[no-untyped-call]
            new.new_output("display_data", data={"text/html": fragment})])])  # type: ignore[no-untyped-call]
        heading = heading_text(fragment)
        pages[name] = _export(exporter, one, lang=lang, title=f"{heading} – {title}" if heading else title, dnr=dnr)
    return pages


def _export(exporter: Any, nb: nbformat.NotebookNode, *, lang: str, title: str, dnr: str) -> str:
    record = {"lang": lang, "title": title, "page_head": "", "page_word": ""}
    if dnr:
        record |= {"page_head": css_string(t(lang, "record", "record.page_head", dnr=dnr)),
                   "page_word": css_string(t(lang, "record", "record.page"))}
    page, _ = exporter.from_notebook_node(nb, resources={"record": record})
    page = "\n".join(line.rstrip() for line in page.replace("\r\n", "\n").split("\n")).strip("\n") + "\n"
    problems = static_problems(page)
    if problems:
        raise RecordError(Msg.of("export.not_static", found=", ".join(sorted(set(problems)))))
    return page
