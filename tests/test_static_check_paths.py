# mypy: disable-error-code="no-untyped-call"
"""The record's static check and page making, their fast paths against the plain ones.

`static_problems` looks into an element only when its tag or one of its attribute names could matter;
here it is compared with the check that looks into every element (the one it replaced) on random
hostile pages. `content_to_record_pages` checks a large record's pages in threads; here it gives the
same pages, and refuses a page that is not static with the same message, as checking one by one. A page's
lines are stripped of their white space at the end only where its bytes show one may end so: here compared
with splitting, stripping and joining every line.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from fou_review.errors import RecordError
from fou_review.record import html_export
from fou_review.record.html_export import (
    FORBIDDEN_TAGS,
    URL_ATTRIBUTES,
    _attribute_problem,
    content_to_record_pages,
    static_problems,
)


def every_element_problems(page: str) -> list[str]:
    """The static check as it was written first: every element and every attribute looked into (with what
    lies beside the page and a repeated <html>/<body>, as the check has since looked at)."""
    from lxml import etree

    if not page.strip():
        return []
    root = etree.HTML(page, parser=etree.HTMLParser(huge_tree=True))
    if root is None:
        return []
    problems: list[str] = []
    tops = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
    for element in (element for top in tops for element in top.iter()):
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag in FORBIDDEN_TAGS:
            problems.append(f"<{tag}>")
        elif tag == "style":
            lowered = (element.text or "").lower()
            problems += [f"<style> {needle}" for needle in ("url(", "@import", "expression(") if needle in lowered]
        elif tag == "meta" and str(element.get("http-equiv", "")).lower() == "refresh":
            problems.append("<meta http-equiv=refresh>")
        for name in element.attrib:
            if name.startswith("on") or name in URL_ATTRIBUTES or name == "style":
                problem = _attribute_problem(tag, name, str(element.get(name) or ""))
                if problem:
                    problems.append(problem)
    opened = Counter(match.group(1).lower() for match in html_export._DOCUMENT_TAG.finditer(page))
    return problems + [f"<{tag}> ×{count}" for tag, count in sorted(opened.items()) if count > 1]


TAGS = [*FORBIDDEN_TAGS, "SCRIPT", "Style", "style", "meta", "META", "a", "A", "td", "th", "tr", "table", "p",
        "div", "svg", "svg:use", "math", "span", "section", "h2", "details", "summary", "x-on", "on"]
NAMES = [*URL_ATTRIBUTES, "onclick", "ONLOAD", "OnMouseOver", "on", "one", "style", "STYLE", "class", "id", "scope",
         "colspan", "http-equiv", "HTTP-EQUIV", "content", "aria-label", "data-x", "xlink:href", "XLINK:HREF",
         "srcSet", "href ", "hr\u00e9f", "tabindex"]
VALUES = ["#x", "x", "bilaga-1.html", "allocation.html#regler", "https://example.org/", "javascript:alert(1)",
          "refresh", "REFRESH", "color: red", "background: URL(x.png)", "width: expression(1)", "", "'\"", "å ä ö",
          "0;url=https://example.org", "../x.html", "x.html?q=1", "\u202e"]
TEXTS = ["", "text", "a { background: url(x) }", "@IMPORT 'x.css';", "<!-- c -->", "<?pi x?>", "&amp; &lt;",
         "]]>", "\u00a0", "x</style>y", "<![CDATA[x]]>"]


def random_page(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 25)):
        tag = rng.choice(TAGS)
        attrs = "".join(f' {rng.choice(NAMES)}="{rng.choice(VALUES)}"' for _ in range(rng.randint(0, 3)))
        if rng.random() < 0.2:  # an attribute without quotes, or without a value
            attrs += rng.choice([" onclick=x", " href", " src=y.png", " style", "/onload=1"])
        close = f"</{tag}>" if rng.random() < 0.7 else ""
        parts.append(f"<{tag}{attrs}>{rng.choice(TEXTS)}{close}")
        if rng.random() < 0.1:
            parts.append(rng.choice(["<!-- <script> -->", "<?xml x?>", "<!DOCTYPE html>", "</html><body>", "<"]))
    return "".join(parts)


def test_the_static_check_finds_what_looking_into_every_element_finds() -> None:
    rng = random.Random(12)
    for _ in range(3000):
        page = random_page(rng)
        assert static_problems(page) == every_element_problems(page), page
    table = "<table>" + "<tr><th scope=\"row\">x</th><td class=\"num\">1\u00a0000</td></tr>" * 2000 + "</table>"
    for _ in range(50):
        page = random_page(rng) + table + random_page(rng)
        assert static_problems(page) == every_element_problems(page), page


def _content(bad: str = "") -> html_export.Content:
    rows = "".join(f"<tr><th scope=\"row\">{i}</th><td class=\"num\">{i}\u00a0000</td></tr>\n" for i in range(6000))

    def page(name: str, extra: str = "") -> tuple[str, str]:
        section = f'<section id="{name}"><h2 id="{name}-rubrik">{name}</h2>{extra}\n<table>{rows}</table></section>'
        return ("html", f'<div class="record-page" data-record-page="{name}.html">\n{section}\n</div>')

    return (("markdown", "# Rubrik"), ("html", '<p><a href="bilaga-1.html">Bilaga 1</a></p>'),
            page("bilaga-1"), page("bilaga-2", bad), page("bilaga-3", bad.replace("<", "<x-")))


@pytest.mark.parametrize("threaded", [True, False])
def test_pages_checked_in_threads_are_those_checked_one_by_one(monkeypatch: pytest.MonkeyPatch,
                                                               threaded: bool) -> None:
    assert sum(len(text) for _, text in _content()) > html_export._CHECK_IN_THREADS_FROM  # the threads are used
    one_by_one = {}
    monkeypatch.setattr(html_export, "_CHECK_IN_THREADS_FROM", 1 << 62)
    one_by_one = content_to_record_pages(_content(), lang="sv", title="T", dnr="1")
    with pytest.raises(RecordError) as serial:
        content_to_record_pages(_content('<img src="x.png"><p onclick="y">'), lang="sv", title="T", dnr="1")
    if threaded:
        monkeypatch.setattr(html_export, "_CHECK_IN_THREADS_FROM", 0)
    assert content_to_record_pages(_content(), lang="sv", title="T", dnr="1") == one_by_one
    assert list(one_by_one) == ["allocation.html", "bilaga-1.html", "bilaga-2.html", "bilaga-3.html"]
    with pytest.raises(RecordError) as refused:
        content_to_record_pages(_content('<img src="x.png"><p onclick="y">'), lang="sv", title="T", dnr="1")
    assert str(refused.value) == str(serial.value) and "<img>" in str(refused.value)


def test_the_spaces_a_line_may_not_end_in_are_those_rstrip_strips() -> None:
    import sys

    every = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c != "\n")
    assert html_export._SPACES == every
    assert all(c.rstrip() == "" and ("x" + c).rstrip() == "x" for c in every)


def test_lines_rstripped_are_those_split_stripped_and_joined() -> None:
    def split_stripped_and_joined(page: str) -> str:
        return "\n".join(map(str.rstrip, page.split("\n")))

    # white space of every kind; characters whose UTF-8 ends in a byte that ends a white space's (è, Å, ‡, 、);
    # other line breaks; a lone surrogate; the record's lines
    pieces = [*html_export._SPACES, "\n", "\n", "\n", "x", "å", "è", "Å", "\u2021", "\u3001", "\u200b", "\ud800",
              "😀", "\r\n", '<td class="num">1\u00a0000</td>', "\u00a0"]
    rng = random.Random(3)
    for i in range(5000):
        page = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12 if i % 2 else 40)))
        assert html_export._lines_rstripped(page) == split_stripped_and_joined(page), repr(page)
    record_like = '<tr><th scope="row">x</th><td class="num">1\u00a0000</td></tr>\n' * 3000
    for tail in ["", "\n", " ", "\u3000", "x \n", "\n\u00a0", "\t\n\n"]:
        page = record_like + tail
        assert html_export._lines_rstripped(page) == split_stripped_and_joined(page)
        assert (html_export._lines_rstripped(page) is page) == (split_stripped_and_joined(page) == page)
