"""The executed review notebook -> the frozen, static `allocation.html`.

nbconvert's `HTMLExporter` renders the notebook with the package's own template (`templates/record`),
which takes only the markdown cells and the `text/html` of display outputs and nothing that varies
between runs (cell ids, execution metadata, widget state, the file name). The page is then checked:
it must hold no script, no event handler, no embedded object and no URL that loads, so that it opens
offline, years later, and shows exactly what was decided. Same notebook outputs -> same bytes.
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from typing import Any, Self

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


REVIEW_ONLY_TAG = "review-only"  # the workbook's cells: in review.ipynb, left out of the record
_CHECKED_TAGS = frozenset((*FORBIDDEN_TAGS, "style", "meta"))  # the tags `_element_problems` looks at
_DOCUMENT_TAG = re.compile(r"<(html|head|body)(?=[\s/>])", re.IGNORECASE)  # an opening tag (text has &lt;)


def _checked_attribute(name: str) -> bool:
    """Is an attribute of this name one that could run or load something (`_attribute_problem` looks at)?"""
    return name.startswith("on") or name in URL_ATTRIBUTES or name == "style"


@lru_cache(maxsize=1024)
def _checked_attributes(names: tuple[str, ...]) -> bool:
    """Does an element with these attribute names have one that `_element_problems` looks at?"""
    return any(_checked_attribute(name) for name in names)


def _element_problems(element: Any, names: list[str]) -> list[str]:
    """What in one element (of tag `element.tag`, with the attributes `names`) could run or load something."""
    tag = element.tag
    problems: list[str] = []
    if tag in FORBIDDEN_TAGS:
        problems.append(f"<{tag}>")
    elif tag == "style":
        lowered = (element.text or "").lower()
        problems += [f"<style> {needle}" for needle in ("url(", "@import", "expression(") if needle in lowered]
    elif tag == "meta" and str(element.get("http-equiv", "")).lower() == "refresh":
        problems.append("<meta http-equiv=refresh>")
    for name in names:
        if _checked_attribute(name):
            problem = _attribute_problem(tag, name, str(element.get(name) or ""))
            if problem:
                problems.append(problem)
    return problems


def static_problems(page: str) -> list[str]:
    """What in `page` could run a script or load something from elsewhere (empty: static).

    The page is parsed by libxml2's HTML parser (tag and attribute names in lower case, as browsers
    read them); forbidden elements, event handler attributes, URL attributes that load something,
    styles with `url(`, `@import` or `expression(`, and a refreshing `<meta>` are reported, element by
    element in the page's order, what follows `</html>` included; then an `<html>`, `<head>` or `<body>`
    opened twice (libxml2 drops the second's attributes, a browser keeps them). Every element is looked
    at; only those with a tag or an attribute that could matter are looked into (at 10^4 applications a
    page has some 10^5 table cells, none of them).
    """
    from lxml import etree

    if not page.strip():
        return []
    root = etree.HTML(page, parser=etree.HTMLParser(huge_tree=True))
    if root is None:
        return []
    problems: list[str] = []
    tops = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]  # after </html> too
    for top in tops:
        for element in top.iter(etree.Element):  # elements only: no comment, processing instruction or entity
            names = element.keys()  # the attributes' names, in order
            if element.tag in _CHECKED_TAGS or (names and _checked_attributes(tuple(names))):
                problems += _element_problems(element, names)
    # libxml2 drops the attributes of a second <html>/<body> tag; a browser adds them to the page's own
    # (`<body onload=…>` would run): a page may open each of these once.
    opened = Counter(match.group(1).lower() for match in _DOCUMENT_TAG.finditer(page))
    problems += [f"<{tag}> ×{count}" for tag, count in sorted(opened.items()) if count > 1]
    return problems


def _template_dir() -> str:
    return str(resources.files("fou_review.record") / "templates")


def _exporter() -> Any:
    """nbconvert's HTMLExporter with the record template, without its BeautifulSoup pass.

    `HTMLExporter.from_notebook_node` re-parses the page to add alt texts and tabindex to JupyterLab's
    cell classes, none of which the record has; that pass was three quarters of the export time.
    `optimistic_validation` (nbconvert's setting): the notebook is validated once, after its preprocessors,
    rather than after each of them.
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
        exclude_input_prompt=True, exclude_output_prompt=True, exclude_anchor_links=True, embed_images=False,
        optimistic_validation=True)


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


def notebook_only(output: Any) -> bool:
    """Is this output of a record cell marked the notebook's only (metadata `fou_review.review_only`: the
    charts as images, workbook.chart_image), so that the record leaves it out?"""
    return bool(output.get("metadata", {}).get("fou_review", {}).get("review_only"))


def record_content(nb: nbformat.NotebookNode) -> Content:
    """What of `nb` reaches the record, in order: the source of each markdown cell and the text/html of
    each display output, of the cells not tagged `REVIEW_ONLY_TAG`, but for the outputs marked the notebook's
    only. The pages are a function of this, the language, title and Dnr."""
    content: list[tuple[str, str]] = []
    for cell in nb.cells:
        if REVIEW_ONLY_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            content.append(("markdown", "".join(cell.source) if isinstance(cell.source, list) else cell.source))
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if notebook_only(output):
                    continue
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


def _notebook(content: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook of markdown cells and display outputs of `text/html`, as nbformat's `new_*` functions
    make them but without their validation of each cell and output (each as the schema's example, with
    a fixed cell id): the exporter validates the whole notebook once (see `_exporter`)."""
    cells: list[dict[str, Any]] = []
    for i, (kind, text) in enumerate(content):
        if kind == "markdown":
            cells.append({"id": f"cell-{i}", "cell_type": "markdown", "source": text, "metadata": {}})
        else:
            output = {"output_type": "display_data", "metadata": {}, "data": {"text/html": text}}
            cells.append({"id": f"cell-{i}", "cell_type": "code", "metadata": {}, "execution_count": None,
                          "source": "", "outputs": [output]})
    nb: nbformat.NotebookNode = nbformat.from_dict({  # type: ignore[no-untyped-call]
        "nbformat": nbformat.v4.nbformat, "nbformat_minor": nbformat.v4.nbformat_minor, "metadata": {},
        "cells": cells})
    return nb


def content_to_record_pages(content: Content, *, lang: str, title: str, dnr: str = "",
                            main_only: bool = False) -> dict[str, str]:
    """The pages of `notebook_to_record_pages` from the notebook's `record_content`."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    from fou_review.record.pages import heading_text, unwrap

    exporter = _exporter()
    main, separate = [], {}
    for kind, text in content:
        found = unwrap(text) if kind == "html" else None
        if found is not None:
            separate[found[0]] = found[1]
        else:
            main.append((kind, text))
    with _Checker(sum(len(text) for _, text in content)) as check:
        pages = {MAIN_PAGE: _export(exporter, _notebook(main), lang=lang, title=title, dnr=dnr)}
        checked = [check(pages[MAIN_PAGE])]
        for name, fragment in ({} if main_only else separate).items():
            heading = heading_text(fragment)
            pages[name] = _export(exporter, _notebook([("html", fragment)]), lang=lang,
                                  title=f"{heading} – {title}" if heading else title, dnr=dnr)
            checked.append(check(pages[name]))  # checked while the next page is made
        for future in checked:  # in the pages' order: the first is reported
            problems = future.result()
            if problems:
                raise RecordError(Msg.of("export.not_static", found=", ".join(sorted(set(problems)))))
    return pages


CHECK_THREADS = 2  # pages checked at once (libxml2 parses and frees a page without holding the GIL)
_CHECK_IN_THREADS_FROM = 1 << 20  # characters of content in all: below, the pages are checked one after the other


class _Checker:
    """`static_problems` of each page handed to it (a future): for a large record in threads, each page as soon as
    it is made, while the next one is made (nbconvert's export holds the GIL, libxml2's parse does not); for a
    small one at once, here."""

    def __init__(self, size: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="fou-review-static-check") \
            if size >= _CHECK_IN_THREADS_FROM else None

    def __call__(self, page: str) -> Future[list[str]]:
        if self._pool is not None:
            return self._pool.submit(static_problems, page)
        done: Future[list[str]] = Future()
        done.set_result(static_problems(page))
        return done

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _export(exporter: Any, nb: nbformat.NotebookNode, *, lang: str, title: str, dnr: str) -> str:
    """The page of `nb` (not yet checked to be static: `content_to_record_pages` checks every page)."""
    record = {"lang": lang, "title": title, "page_head": "", "page_word": ""}
    if dnr:
        record |= {"page_head": css_string(t(lang, "record", "record.page_head", dnr=dnr)),
                   "page_word": css_string(t(lang, "record", "record.page"))}
    page, _ = exporter.from_notebook_node(nb, resources={"record": record})
    if "\r" in page:
        page = page.replace("\r\n", "\n")
    return _lines_rstripped(page).strip("\n") + "\n"  # no line ends in white space


# What `str.rstrip` strips but "\n": the characters of `str.isspace` (a test compares them with Python's).
_SPACES = ("\t\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
           "\u200a\u2028\u2029\u202f\u205f\u3000")
_LAST_BYTES = frozenset(c.encode("utf-8")[-1] for c in _SPACES)
# Each byte that ends the UTF-8 of a character of `_SPACES` -> " ", "\n" -> "\n", any other byte -> "x": in a page
# so translated, a line can end in white space only where there is " \n" (or at the page's end).
_SPACE_ENDS = bytes(ord(" ") if byte in _LAST_BYTES else byte if byte == ord("\n") else ord("x") for byte in range(256))


def _lines_rstripped(page: str) -> str:
    """`page` with each line's white space at its end removed (`str.rstrip`). A page none of whose lines ends
    in white space (the record's: at 10^4 applications, 480 000 lines) is found so in its UTF-8 bytes, faster
    than its lines are split and joined again."""
    if b" \n" not in page.encode("utf-8", "surrogatepass").translate(_SPACE_ENDS) and not (
            page[-1:].isspace() and page[-1:] != "\n"):
        return page
    return "\n".join(map(str.rstrip, page.split("\n")))
