# mypy: disable-error-code="no-untyped-call"
"""The record at scale (issue 12): the long per-application parts as separate static pages.

In memory: the 2022 review rendered with `separate=True` gives the main page with a stub and a link
in place of each long part, and one static page per part, linked both ways. End to end: a synthetic
year above the threshold, run by `run_year`, publishes the pages, lists them in the manifest and
`verify` compares them (a changed page is found).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import nbformat
import pytest

from bench.bench_scale import write_scale_year
from fou_review.core.pipeline import review_year
from fou_review.record.html_export import MAIN_PAGE, notebook_to_record_pages, static_problems
from fou_review.record.pages import SEPARATE_PAGES_FROM, movable, separate_pages
from fou_review.record.sections import record_title, render_record_sections

MOVED_2022 = ["bilaga-1.html", "bilaga-2.html", "diagram.html", "kalibrering.html", "kontroller.html",
              "rangordning.html"]


def _pages(root: Path, *, separate: bool | None, lang: str = "sv") -> dict[str, str]:
    review = review_year(root, 2022)
    manifest = {"year": 2022, "inputs": [], "parameters": {"lang": lang, "year": 2022}}
    sections = render_record_sections(review, manifest, lang, separate=separate)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": html}) for _, html in sections])])
    return notebook_to_record_pages(nb, lang=lang, title=record_title(review, lang),
                                    dnr=review.inputs.params.decision.dnr)


def _links(page: str) -> set[str]:
    return set(re.findall(r'<a href="([a-z0-9-]+\.html)">', page))


def test_below_the_threshold_the_record_is_one_page(repo_root: Path) -> None:
    assert not separate_pages(23) and separate_pages(SEPARATE_PAGES_FROM)
    pages = _pages(repo_root, separate=None)
    assert list(pages) == [MAIN_PAGE]
    assert not _links(pages[MAIN_PAGE])


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_separate_pages_are_static_linked_both_ways_and_hold_the_long_parts(repo_root: Path, lang: str) -> None:
    pages = _pages(repo_root, separate=True, lang=lang)
    assert sorted(pages) == sorted([MAIN_PAGE, *MOVED_2022])
    main = pages[MAIN_PAGE]
    assert _links(main) == set(MOVED_2022)
    for name, page in pages.items():
        assert static_problems(page) == [], name
        assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
        assert page.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in page
        if name != MAIN_PAGE:
            section = name.removesuffix(".html")
            assert movable(section)
            assert '<a href="allocation.html">' in page  # the way back
            assert _links(page) == {MAIN_PAGE, *MOVED_2022} - {name}  # and to the other pages
            assert 'aria-current="page"' in page
            assert f'<section id="{section}" aria-labelledby="{section}-rubrik">' in page  # the whole section
            # in the main page: the stub, with the heading (the table of contents still finds it) and the link
            assert re.search(rf'<section id="{section}" aria-labelledby="{section}-rubrik" class="moved">\n'
                             rf'<h2 id="{section}-rubrik">[^<]+(<span class="badge">[^<]+</span>[^<]*)?</h2>\n'
                             rf'<p>[^<]+<a href="{name}">{name}</a></p>', main), name
            assert f'<a href="#{section}">' in main
    # the long tables live on their pages only
    assert 'class="ranking' not in main and 'class="ranking' in pages["rangordning.html"]
    assert 'class="gross' not in main and 'class="gross' in pages["bilaga-1.html"]
    assert "<svg" not in main and "<svg" in pages["diagram.html"]
    # the decision itself (the granted lists, the rules, the provenance) stays on the main page
    for kept in ('id="fordelning"', 'id="regler"', 'id="ursprung"', 'id="forslag-till-beslut"'):
        assert kept in main


def test_one_page_and_separate_pages_hold_the_same_sections(repo_root: Path) -> None:
    one = _pages(repo_root, separate=False)[MAIN_PAGE]
    split = _pages(repo_root, separate=True)
    for name in MOVED_2022:
        section = name.removesuffix(".html")
        whole = re.search(rf'<section id="{section}" aria-labelledby="{section}-rubrik">.*?\n</section>\n',
                          one, re.DOTALL)
        assert whole is not None and whole.group(0) in split[name]


def test_static_check_allows_links_to_sibling_pages_only() -> None:
    assert static_problems('<a href="bilaga-1.html">x</a><a href="allocation.html#regler">y</a>') == []
    for bad in ('<a href="https://example.org/x.html">x</a>', '<a href="../x.html">x</a>',
                '<a href="/x.html">x</a>', '<a href="x.html?q=1">x</a>', '<link href="bilaga-1.html">',
                '<a href="javascript:alert(1)">x</a>', '<img src="bilaga-1.html">'):
        assert static_problems(bad), bad


def test_a_large_year_publishes_listed_and_verified_pages(repo_root: Path, tmp_path: Path) -> None:
    from fou_review.yearly.run import run_year
    from fou_review.yearly.verify import verify_year

    n = SEPARATE_PAGES_FROM + 50
    write_scale_year(tmp_path, n, repo=repo_root)
    run_year(tmp_path, 2022, "sv", progress=False)
    folder = tmp_path / "reports" / "2022"
    pages = sorted(p.name for p in folder.glob("*.html"))
    assert pages == sorted([MAIN_PAGE, *MOVED_2022])
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    for name in pages:
        data = (folder / name).read_bytes()
        assert listed[name] == hashlib.sha256(data).hexdigest()
        assert static_problems(data.decode("utf-8")) == []
    main = (folder / MAIN_PAGE).read_text("utf-8")
    assert _links(main) == set(MOVED_2022)
    # the main page holds the decision's tables, not one row per application for every part
    rows = main.count("<tr>")
    with (folder / "decisions.csv").open(encoding="utf-8", newline="") as handle:
        granted = sum(int(row["granted_kr"]) > 0 for row in csv.DictReader(handle))
    assert rows < granted + 60, (rows, granted)
    assert len(main) < sum((folder / p).stat().st_size for p in MOVED_2022) / 2
    assert verify_year(tmp_path, 2022, progress=False) == []
    page = folder / "rangordning.html"
    page.write_bytes(page.read_bytes().replace(b"</h1>", b" </h1>", 1))
    assert [d.file for d in verify_year(tmp_path, 2022, progress=False)] == ["reports/2022/rangordning.html"]
