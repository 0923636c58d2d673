# mypy: disable-error-code="no-untyped-call"
"""The record's content: the published 2022 tables and totals, reasons, checks, escaping, no personal
data, no script or URL that loads, accessible tables. Fast: no kernel, no papermill.

The page is built the way the run builds it (fragments displayed as text/html in a notebook, then
`notebook_to_record_html`), only without executing a notebook.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

import pytest
from record_fixtures import edit_applications, record_page

from fou_review.core.pipeline import Review, review_year
from fou_review.record.chart import chart_rows
from fou_review.record.html_export import static_problems
from fou_review.record.sections import render_record_sections
from fou_review.texts.catalog import NBSP

MANIFEST: dict[str, Any] = {
    "year": 2022, "package_version": "0.1.0",
    "notebook": {"path": "notebooks/review.ipynb", "sha256": "1" * 64},
    "parameters": {"year": 2022, "lang": "sv"},
    "inputs": [{"path": "params/2022.yaml", "sha256": "2" * 64},
               {"path": "data/2022/applications.csv", "sha256": "3" * 64}],
    "supersedes": None,
}

# The decision document's complete (second) tables, Dnr 3.2.2-547/2021: an independent source.
PUBLISHED_LUM = [
    ("Farsta", "Våga anmäla våga vittna", 500000),
    ("Hässelby-Vällingby", ("Ett systematiskt, skyndsamt och tryggt förändringsarbete för en modern och hållbar "
                            "socialtjänst"), 500000),
    ("Hässelby-Vällingby", "Civilsamhället som resurs för nyanländas väg till egen bostad", 500000),
    ("Hägersten-Älvsjö", "Civilsamhället som resurs för nyanländas väg till egen bostad", 500000),
    ("Spånga-Tensta", "Den placerade Ungdomen och Nätverket", 500000),
    ("Rinkeby-Kista & Spånga-Tensta", "Samlokalisering socialsekreterare och polis", 500000),
    ("Rinkeby-Kista", "Utveckla arbetssätt och metoder för rehabiliteringsärenden inom ekonomiskt bistånd", 500000),
    ("Skarpnäck", ("”Ingen ska lämnas utanför” - socialtjänstens barnrättsarbete för barn i ekonomisk utsatthet "
                   "ur ett socialt hållbarhetsperspektiv"), 205000),
]
PUBLISHED_MUL = [
    ("Enskede-Årsta-Vantör", "Jönköpings familjecentraler & Norrköpings öppna förskola", 23030),
    ("Rinkeby-Kista", "Helsingfors & Tammerfors", 25000),
    ("Enskede-Årsta-Vantör", "Helsingfors, Finland. skyddat boende & statlig socialtjänst", 25000),
    ("Socialförvaltningen", "Göteborg, Respons alkoholrådgivning, Spelberoendeteamet och behandlingsgruppen", 25000),
    ("Farsta", "Stavanger, Norge. Barneverntjenesten", 25000),
    ("Farsta", "Oslo, Norge. NAV", 25000),
    ("Socialförvaltningen", "Warzawa, Polen", 25000),
    ("Rinkeby-Kista", "Malmö & Helsingborgs SIG-team", 25000),
    ("Rinkeby-Kista", "Malmö, Öppenvård BoU", 25000),
    ("Spånga-Tensta", "Malmö, social- och arbetsmarknadsförvaltningen", 25000),
    ("Enskede-Årsta-Vantör", "Oslo, Norge. MST-CAN", 25000),
    ("Socialförvaltningen", ("Helsingfors, Finland. Polis, Myndigheten för digitalisering och befolkningsdata "
                             "samt kyrkan"), 25000),
]


def squash(text: str) -> str:
    """Runs of ASCII white space as one space (a no-break space is kept: it is part of an amount)."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def kr(amount: int, unit: str = "kr") -> str:
    return f"{amount:,}".replace(",", NBSP) + NBSP + unit


def _hostile_row(row: dict[str, str]) -> None:
    """A contact person on every row, hostile titles on two."""
    row["contact_person"] = CONTACT
    row["title"] = {"LUM-01": HOSTILE_TITLE, "MUL-02": HOSTILE_ATTR}.get(row["id"], row["title"])


def render_page(review: Review, manifest: Mapping[str, Any] = MANIFEST, lang: str = "sv") -> str:
    """The record page: each fragment displayed as text/html in its own cell, as the notebook does."""
    return record_page(review, manifest, lang)


class Table:
    def __init__(self) -> None:
        self.caption = ""
        self.head: list[list[str]] = []
        self.body: list[list[str]] = []
        self.foot: list[list[str]] = []
        self.scopes: list[str | None] = []  # the scope of every <th>


class Page(HTMLParser):
    """The page's tables (text of every cell), its tags with their attributes, and its text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[Table] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._stack: list[Table] = []
        self._part = "body"
        self._cell: list[str] | None = None
        self._in_caption = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._stack.append(Table())
            self.tables.append(self._stack[-1])
        elif not self._stack:
            return
        elif tag == "caption":
            self._in_caption = True
        elif tag in ("thead", "tbody", "tfoot"):
            self._part = tag[1:]
        elif tag == "tr":
            getattr(self._stack[-1], self._part).append([])
        elif tag in ("td", "th"):
            self._cell = []
            if tag == "th":
                self._stack[-1].scopes.append(dict(attrs).get("scope"))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            return
        if tag == "table":
            self._stack.pop()
        elif tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            getattr(self._stack[-1], self._part)[-1].append(squash("".join(self._cell)))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_caption and self._stack:
            self._stack[-1].caption += data
        elif self._cell is not None:
            self._cell.append(data)

    def table(self, caption_start: str) -> Table:
        found = [t for t in self.tables if t.caption.startswith(caption_start)]
        assert len(found) == 1, f"expected one table captioned {caption_start!r}, got {[t.caption for t in found]}"
        return found[0]


@pytest.fixture(scope="module")
def review(request: pytest.FixtureRequest) -> Review:
    return review_year(request.config.rootpath, 2022)


@pytest.fixture(scope="module")
def page(review: Review) -> str:
    return render_page(review)


@pytest.fixture(scope="module")
def parsed(page: str) -> Page:
    return Page(page)


def test_summary_states_the_published_totals(page: str) -> None:
    text = " ".join(Page(page).text)
    for amount in (4998030, 4003030, 3705000, 298030):
        assert kr(amount, "kronor") in text, amount
    assert "4 998 030" not in page  # grouped with U+00A0, never a plain space


def test_summary_table_totals(parsed: Page) -> None:
    t = parsed.table("Sökt och föreslaget per fond 2022")
    assert [r[:5] for r in t.body] == [["LUM", "10", kr(4650000), "8", kr(3705000)],
                                       ["MUL", "13", kr(348030), "12", kr(298030)]]
    assert t.foot[0][:5] == ["Totalt", "23", kr(4998030), "20", kr(4003030)]


@pytest.mark.parametrize(("caption", "published", "total"), [
    ("Förslag till fördelning av lokala utvecklingsmedel 2022", PUBLISHED_LUM, 3705000),
    ("Förslag till fördelning av medel för utveckling och lärande 2022", PUBLISHED_MUL, 298030),
])
def test_granted_tables_are_the_published_ones(parsed: Page, caption: str, published: list[tuple[str, str, int]],
                                               total: int) -> None:
    t = parsed.table(caption)
    assert t.head == [["Förvaltning", "Projekt" if published is PUBLISHED_LUM else "Studiebesök till ort", "Summa"]]
    assert t.body == [[a, title, kr(amount)] for a, title, amount in published]
    assert t.foot == [["Totalt", kr(total)]]
    assert sum(amount for *_, amount in published) == total


def test_no_table_is_headed_with_the_wrong_year(parsed: Page) -> None:
    assert not [t.caption for t in parsed.tables if "2021" in t.caption]


@pytest.mark.parametrize(("number", "fund", "n", "requested", "granted"), [
    (1, "LUM", 10, 4650000, 3705000), (2, "MUL", 13, 348030, 298030)])
def test_every_gross_list_row_has_decision_and_reason(parsed: Page, review: Review, number: int, fund: str, n: int,
                                                       requested: int, granted: int) -> None:
    t = parsed.table(f"Bilaga {number}: Bruttolista över inkomna {fund}-ansökningar 2022")
    head = t.head[0]
    assert len(t.body) == n
    expected = review.decisions[review.decisions["fund"] == fund].set_index("id")
    for row in t.body:
        cells = dict(zip(head, row, strict=True))
        decision = expected.loc[cells["Id"]]
        assert cells["Beslut"] in ("beviljas", "beviljas delvis", "avslås")
        assert cells["Beslut"] == decision["decision"]
        assert cells["Skäl"] == squash(decision["reason"]) and len(cells["Skäl"]) > 20
        assert cells["Beviljat"] == kr(int(decision["granted_kr"]))
        if decision["source"] == "illustrative":
            assert cells["Uppgifter"] == "illustrativ"
        else:
            assert cells["Uppgifter"] in ("publicerad", "delvis illustrativ")
    assert t.foot[0][1:3] == [kr(requested), kr(granted)]
    rejected = [r for r in t.body if dict(zip(head, r, strict=True))["Beslut"] == "avslås"]
    assert len(rejected) == (2 if fund == "LUM" else 1)


def test_rejections_say_why(parsed: Page) -> None:
    reasons = {r[0]: r[-2] for t in parsed.tables if t.caption.startswith("Bilaga") for r in t.body}
    assert "Spånga-Tensta har redan beviljats 2 ansökningar" in reasons["LUM-09"]
    assert "räcker inte" in reasons["LUM-10"]
    assert "konferens" in reasons["MUL-13"] and "över högsta beloppet" in reasons["MUL-13"]


def test_checks_one_line_per_administration_with_the_funds_maximum(parsed: Page, review: Review) -> None:
    checks = review.summary.checks
    rows = [r for t in parsed.tables if t.caption.startswith("Kontroller ") for r in t.body]
    assert len(rows) == sum(c.kind == "count_cap" for c in checks) > 0  # one line per administration and fund
    assert {r[-1] for r in rows} == {"uppfyllt"}
    lum = parsed.table("Kontroller LUM 2022 per förvaltning")
    assert lum.head[0][1:3] == ["Beviljade ansökningar (högst 2)", f"Största beviljade belopp (högst {kr(500000)})"]
    by_name = {r[0]: r for r in lum.body}
    assert by_name["Rinkeby-Kista"][1:4] == ["2", kr(500000), "0"]  # its own grant and the joint one
    assert by_name["Socialförvaltningen"][1:3] == ["0", "–"]
    mul = parsed.table("Kontroller MUL 2022 per förvaltning")
    assert mul.head[0][1:3] == ["Beviljade ansökningar (högst 3)", f"Största beviljade belopp (högst {kr(25000)})"]
    details = [r for t in parsed.tables if t.caption.startswith("Beviljade ansökningar ") for r in t.body]
    assert sorted(r[0] for r in details) == sorted(c.subject for c in checks if c.kind == "max_amount")
    assert {r[-1] for r in details} == {"uppfyllt"}
    text = squash(" ".join(parsed.text))
    assert f"Alla {len(checks)} kontroller är uppfyllda." in text
    assert f"LUM: beviljat {kr(3705000)} av budgeten {kr(4000000)} illustrativ – uppfyllt" in text
    assert "Endast behöriga ansökningar beviljas" not in text  # no padding


def test_the_check_details_sit_in_details_elements(page: str) -> None:
    assert page.count("<details>") == 2 and page.count("<summary>") == 2


def test_an_unmet_check_is_said_in_words(review: Review) -> None:
    from dataclasses import replace

    checks = review.summary.checks
    cap = next(i for i, c in enumerate(checks) if c.kind == "count_cap" and c.subject == "Farsta")
    broken_checks = list(checks)
    broken_checks[0] = replace(checks[0], met=False, value=5000000)
    broken_checks[cap] = replace(checks[cap], met=False, value=3)
    broken = replace(review, summary=replace(review.summary, checks=tuple(broken_checks)))
    parsed = Page(render_page(broken))
    text = squash(" ".join(parsed.text))
    assert f"2 av {len(checks)} kontroller är inte uppfyllda" in text
    assert f"LUM: beviljat {kr(5000000)} av budgeten {kr(4000000)} illustrativ – ej uppfyllt" in text
    farsta = {r[0]: r for r in parsed.table("Kontroller LUM 2022 per förvaltning").body}["Farsta"]
    assert farsta[1] == "3" and farsta[-1] == "ej uppfyllt"


def test_rules_and_criteria_come_from_the_parameters(parsed: Page) -> None:
    rules = parsed.table("Regler per fond 2022")
    by_rule = {r[0]: r[1:] for r in rules.body}
    assert by_rule["Högsta belopp per ansökan"][0].startswith(kr(500000))
    assert by_rule["Högsta belopp per ansökan"][1].startswith(kr(25000))
    assert by_rule["Beviljade ansökningar per förvaltning"][0].startswith("högst 2")
    assert by_rule["Beviljade ansökningar per förvaltning"][1].startswith("högst 3")
    assert by_rule["Ansökningsperiod"] == ["2021-05-05 – 2021-09-10", "2021-05-05 – 2021-09-17"]
    assert by_rule["Ändamål som inte beviljas"] == ["inga", "kurs, konferens"]
    criteria = parsed.table("Kriterier och vikter 2022")
    assert [r[2] for r in criteria.body] == ["2", "1", "1", "1"]
    assert "minst 4 i K2 eller minst 4 i K3" in criteria.body[3][3]
    assert len(parsed.table("Betygsskala").body) == 7
    text = squash(" ".join(parsed.text))
    assert f"Senast den 6{NBSP}juni 2022" in text and "fou.sof@stockholm.se" in text
    assert "totalpoäng, högst först" in text and "inkomstdatum, tidigast först" in text


def test_ranking_shows_scores_spread_and_criteria_that_did_not_count(parsed: Page, review: Review) -> None:
    lum = parsed.table("Rangordning LUM 2022")
    assert [r[1] for r in lum.body] == list(review.allocation.ranked.query("fund == 'LUM'")["id"])
    first = dict(zip(lum.head[0], lum.body[0], strict=True))
    assert (first["Id"] == "LUM-06" and first["Totalpoäng illustrativ"] == "31,75"
            and first["Granskare illustrativ"] == "4 (1 jäv)")
    last = dict(zip(lum.head[0], lum.body[-1], strict=True))
    assert last["K4 (vikt 1) illustrativ"].endswith("räknas ej")
    assert "Kriterier som inte räknades: K4 för LUM-10." in " ".join(parsed.text)
    assert "MUL-13" in " ".join(parsed.text)  # not ranked, and why


def test_chart_is_inline_svg_with_a_text_alternative(page: str, parsed: Page, review: Review) -> None:
    svgs = [a for tag, a in parsed.tags if tag == "svg"]
    assert len(svgs) == 2 and all(a.get("role") == "img" and a.get("aria-labelledby") for a in svgs)
    ids = {a.get("id") for _, a in parsed.tags}
    for a in svgs:
        assert set(str(a["aria-labelledby"]).split()) <= ids
    rows = chart_rows(review, "LUM")
    assert [n for n, *_ in rows][:3] == ["Farsta", "Hägersten-Älvsjö", "Hässelby-Vällingby"]  # Swedish order
    assert sum(r for _, r, _ in rows) == 4650000 and sum(g for *_, g in rows) == 3705000
    data = parsed.table("Diagrammets siffror: Sökt och beviljat per förvaltning, LUM 2022")
    assert data.body == [[n, kr(r), kr(g)] for n, r, g in rows]
    assert f"Spånga-Tensta: sökt {kr(945000)}, beviljat {kr(500000)}" in page


def test_tables_are_accessible(page: str, parsed: Page) -> None:
    assert page.startswith("<!DOCTYPE html>") and '<html lang="sv">' in page
    assert parsed.tables
    for t in parsed.tables:
        assert t.caption.strip(), t.head
        assert t.scopes and all(s in ("col", "row") for s in t.scopes), t.caption
        assert t.head and all(t.body), t.caption
    with_totals = [t for t in parsed.tables if any(r and r[0].startswith("Totalt") for r in t.body + t.foot)]
    assert with_totals and all(t.foot for t in with_totals)


def test_no_script_no_url_that_loads(page: str, parsed: Page) -> None:
    assert "<script" not in page.lower()
    assert static_problems(page) == []
    assert not re.search(r"https?://", page)
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("src", "href", "xlink:href", "action", "data"):
                assert str(value).startswith("#"), (tag, name, value)
    assert "url(" not in page


def test_no_personal_data(page: str, review: Review) -> None:
    contacts = [c for c in review.inputs.applications["contact_person"] if c]
    assert contacts
    for contact in contacts:
        assert contact not in page
    assert "Kontaktperson" not in page and "contact_person" not in page


def test_provenance_and_supersedes(review: Review) -> None:
    manifest = dict(MANIFEST, supersedes={"path": "reports/2022/superseded/1/allocation.html", "sha256": "9" * 64},
                    package_version="9.8.7")
    page = render_page(review, manifest)
    for needle in ("1" * 64, "2" * 64, "3" * 64, "params/2022.yaml", "notebooks/review.ipynb", "9.8.7",
                   "reports/2022/superseded/1/allocation.html", "9" * 64, "ersätter ett tidigare"):
        assert needle in page
    assert "ersätter inget tidigare" in render_page(review)


def test_same_review_same_bytes(review: Review, request: pytest.FixtureRequest) -> None:
    again = review_year(request.config.rootpath, 2022)
    assert render_record_sections(review, MANIFEST) == render_record_sections(again, MANIFEST)
    assert render_page(review).encode() == render_page(again).encode()


def test_size_is_far_below_the_limit(page: str) -> None:
    size = len(page.encode("utf-8"))
    print(f"2022 record: {size} bytes")
    assert size < 150_000


def test_english_record(review: Review) -> None:
    page = render_page(review, lang="en")
    parsed = Page(page)
    assert '<html lang="en">' in page
    assert "Proposed allocation of funds for local development projects and study visits 2022" in page
    t = parsed.table("Appendix 1: Gross list of LUM applications received 2022")
    decisions = {dict(zip(t.head[0], r, strict=True))["Decision"] for r in t.body}
    assert decisions == {"granted", "rejected"}
    assert parsed.table("Proposed allocation of local development funds 2022").head == [
        ["Administration", "Project", "Amount"]]
    assert f"6{NBSP}June 2022" in " ".join(parsed.text)
    for swedish in ("beviljas", "avslås", "Förslag till fördelning", "uppfyllt"):
        assert swedish not in page, swedish
    with pytest.raises(ValueError):
        render_record_sections(review, MANIFEST, "de")


HOSTILE_TITLE = '<script>alert("1")</script>'
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'
HOSTILE_REASON = "<b onmouseover=alert(3)>Nämnden beslutade så</b>"
CONTACT = "Hemlig Kontakt 4711"


@pytest.fixture(scope="module")
def hostile_review(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Review:
    root = tmp_path_factory.mktemp("hostile")
    src = request.config.rootpath
    shutil.copytree(src / "params", root / "params")
    shutil.copytree(src / "data", root / "data")
    edit_applications(root / "data" / "2022" / "applications.csv", _hostile_row)
    params = root / "params" / "2022.yaml"
    text = params.read_text(encoding="utf-8")
    params.write_text(text.replace('title_sv: "Förslag', 'title_sv: "<script>alert(2)</script> Förslag'),
                      encoding="utf-8")
    (root / "data" / "2022" / "overrides.yaml").write_text(
        f"overrides:\n  - id: LUM-02\n    granted_kr: 500000\n    reason: '{HOSTILE_REASON}'\n", encoding="utf-8")
    return review_year(root, 2022)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_hostile_text_is_escaped(hostile_review: Review, lang: str) -> None:
    page = render_page(hostile_review, lang=lang)
    parsed = Page(page)
    assert "<script" not in page.lower()
    assert not [t for t, _ in parsed.tags if t in ("img", "b", "script")]
    assert not [n for _, a in parsed.tags for n in a if n.startswith("on")]
    assert static_problems(page) == []
    text = " ".join(parsed.text)
    for hostile in (HOSTILE_TITLE, HOSTILE_ATTR, HOSTILE_REASON):
        assert hostile in text  # shown as text, not markup
    if lang == "sv":  # the hostile decision title is the Swedish one
        assert page.count("&lt;script&gt;alert(2)&lt;/script&gt;") == 2  # in <title> and <h1>
    assert CONTACT not in page


HOSTILE_DECISION_TITLE = "<script>alert(2)</script> Förslag"


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_hostile_title_is_escaped_in_every_section_it_appears_in(hostile_review: Review, lang: str) -> None:
    sections = dict(render_record_sections(hostile_review, MANIFEST, lang))
    where = {HOSTILE_TITLE: {"fordelning", "bilaga-1"},  # LUM-01: granted, so in the proposal and its appendix
             HOSTILE_ATTR: {"fordelning", "bilaga-2"},  # MUL-02 likewise
             HOSTILE_DECISION_TITLE: {"rubrik"} if lang == "sv" else set()}  # the Swedish decision title
    for hostile, expected in where.items():
        escaped = html.escape(hostile, quote=True)
        assert {s for s, fragment in sections.items() if escaped in fragment} == expected, hostile
        assert not [s for s, fragment in sections.items() if hostile in fragment], hostile
    assert "&lt;script&gt;alert(&quot;1&quot;)" in sections["bilaga-1"]
    assert not [s for s, fragment in sections.items() if "<script" in fragment.lower()]


def test_every_record_message_exists_in_both_languages() -> None:
    """The ids the record asks for, the literal ones and those it builds from a value's name."""
    from pathlib import Path

    from fou_review.core.params import JOINT_COUNTING, OVER_MAX_POLICIES, TIE_BREAK_KEYS
    from fou_review.record import appendix, rules
    from fou_review.texts.catalog import t

    package = Path(rules.__file__).parent
    ids = {m for path in [*package.glob("*.py"), *package.glob("templates/sections/*.j2")]
           for m in re.findall(r"""["'](record\.[\w.]+)["']""", path.read_text(encoding="utf-8"))}
    ids |= {f"record.joint.{j}" for j in JOINT_COUNTING} | {f"record.over_max.{o}" for o in OVER_MAX_POLICIES}
    ids |= {f"record.tie.{k}.{o}" for k in (*TIE_BREAK_KEYS, "criterion") for o in ("asc", "desc")}
    ids |= {f"record.rule.{r}" for r in rules._RULES} | {f"record.field.{f}" for f in appendix.FIELDS}
    ids |= {f"record.report.{r}" for r in appendix.REPORTS.values()}
    ids |= {f"record.purpose.{p}" for p in appendix.PURPOSES.values()}
    assert len(ids) > 100
    for lang in ("sv", "en"):
        for msgid in sorted(ids):
            assert t(lang, "record", msgid)  # a missing id raises KeyError


@pytest.fixture(scope="module")
def variant_review(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Review:
    """2022 with a MUL budget too small for any trip and partial LUM grants allowed."""
    root = tmp_path_factory.mktemp("variant")
    shutil.copytree(request.config.rootpath / "params", root / "params")
    shutil.copytree(request.config.rootpath / "data", root / "data")
    params = root / "params" / "2022.yaml"
    text = params.read_text(encoding="utf-8")
    assert text.count("budget_kr: 300000") == 1 and "remainder: {partial: false, minimum_kr: 0}" in text
    text = text.replace("budget_kr: 300000", "budget_kr: 10000")
    text = text.replace("remainder: {partial: false, minimum_kr: 0}", "remainder: {partial: true, minimum_kr: 100000}",
                        1)
    params.write_text(text, encoding="utf-8")
    return review_year(root, 2022)


def test_partial_grants_and_a_fund_with_nothing_granted(variant_review: Review) -> None:
    parsed = Page(render_page(variant_review))
    mul = parsed.table("Förslag till fördelning av medel för utveckling och lärande 2022")
    assert mul.body == [["Inga ansökningar beviljas."]] and mul.foot == [["Totalt", kr(0)]]
    gross = parsed.table("Bilaga 1: Bruttolista")
    lum10 = dict(zip(gross.head[0], next(r for r in gross.body if r[0] == "LUM-10"), strict=True))
    assert lum10["Beslut"] == "beviljas delvis" and lum10["Beviljat"] == kr(295000)
    assert "återstående budget" in lum10["Skäl"]
    rules = {r[0]: r[1:] for r in parsed.table("Regler per fond 2022").body}
    assert rules["När återstående budget inte räcker"][0].endswith(kr(100000))
    mul_gross = parsed.table("Bilaga 2: Bruttolista")
    assert {dict(zip(mul_gross.head[0], r, strict=True))["Beslut"] for r in mul_gross.body} == {"avslås"}
    assert {r[-1] for t in parsed.tables if t.caption.startswith("Kontroller ") for r in t.body} == {"uppfyllt"}
