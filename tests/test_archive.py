"""The archival copy (allocation.pdf): PDF/A-2u from the record's HTML, every font embedded, same bytes."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject

from fou_review.core.params import load_params
from fou_review.core.pipeline import review_year
from fou_review.errors import RecordError
from fou_review.record import archive
from fou_review.record.sections import record_title

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2022
PUBLISHED = ROOT / "reports" / str(YEAR)
MAX_BYTES = 1_000_000


@pytest.fixture(scope="module")
def html() -> str:
    return (PUBLISHED / "allocation.html").read_text("utf-8")


@pytest.fixture(scope="module")
def decided() -> dt.date:
    return load_params(ROOT, YEAR).decision.date


@pytest.fixture(scope="module")
def pdf(html: str, decided: dt.date) -> bytes:
    return archive.record_pdf(html, decided=decided)


@pytest.fixture(scope="module")
def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def _objects(reader: PdfReader) -> list[Any]:
    """Every object of the file, resolved."""
    objects = (reader.get_object(number) for number in range(1, int(reader.trailer["/Size"])))
    found = [o for o in objects if o is not None]
    assert len(found) > 100  # the walk really saw the document's objects
    return found


def test_xmp_identifies_pdfa_2u(reader: PdfReader) -> None:
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode("utf-8")
    assert re.search(r'pdfaid:part="2"', raw) and re.search(r'pdfaid:conformance="U"', raw), raw[:600]
    assert reader.pdf_header == "%PDF-1.7"


def test_dates_are_the_decisions_not_the_clock(reader: PdfReader, decided: dt.date) -> None:
    info = reader.metadata
    assert info is not None
    stamp = "D:" + decided.strftime("%Y%m%d")
    assert info["/CreationDate"] == stamp and info["/ModDate"] == stamp
    raw = reader.xmp_metadata.stream.get_data().decode("utf-8")  # type: ignore[union-attr]
    assert f"<xmp:CreateDate>{decided.isoformat()}</xmp:CreateDate>" in raw
    assert f"<xmp:ModifyDate>{decided.isoformat()}</xmp:ModifyDate>" in raw


def test_output_intent_is_srgb(reader: PdfReader) -> None:
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert len(intents) == 1
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    icc = profile.get_data()
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "  # an ICC profile of an RGB colour space
    assert "sRGB" in str(intent["/OutputConditionIdentifier"])


def test_every_font_is_embedded_and_ours(reader: PdfReader) -> None:
    seen = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descendants = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for part in descendants:
                assert part["/Subtype"] != "/Type3"
                descriptor = part["/FontDescriptor"].get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]
            name = str(font["/BaseFont"]).lstrip("/")
            assert "/ToUnicode" in font, name  # level U: every glyph maps to Unicode
            seen.add(name.split("+", 1)[1])
    ours = {family.replace(" ", "-") for family in archive.FONT_FAMILIES}
    assert seen and all(any(name.startswith(f) for f in ours) for name in seen), seen
    assert "FoU-Archive-Sans" in seen and "FoU-Archive-Sans-Bold" in seen


def test_no_javascript_no_encryption_no_attachments(pdf: bytes, reader: PdfReader) -> None:
    assert not reader.is_encrypted and "/Encrypt" not in reader.trailer
    catalog = reader.trailer["/Root"]
    assert "/OpenAction" not in catalog and "/AA" not in catalog and "/AcroForm" not in catalog
    names = catalog.get("/Names")
    names = names.get_object() if names is not None else {}
    assert "/JavaScript" not in names and "/EmbeddedFiles" not in names
    for obj in _objects(reader):
        if isinstance(obj, DictionaryObject):
            assert "/JS" not in obj and obj.get("/S") != "/JavaScript" and obj.get("/Type") != "/Filespec"
    assert b"/JavaScript" not in pdf and b"/JS " not in pdf


def test_text_is_extractable(reader: PdfReader, html: str) -> None:
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", text.replace("\u00a0", " "))
    review = review_year(ROOT, YEAR)
    title = record_title(review, "sv")
    assert title.split(" – ")[0] in flat
    assert review.inputs.params.decision.dnr in flat
    granted = sum(f.granted_kr for f in review.summary.funds if f.fund == "LUM")
    assert f"{granted:,}".replace(",", " ") in flat  # e.g. "3 705 000"
    assert "Förslag" in flat and "beviljas" in flat.lower()


def test_page_count_and_size(pdf: bytes, reader: PdfReader) -> None:
    assert 5 <= len(reader.pages) <= 60
    assert len(pdf) <= MAX_BYTES
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points


def test_same_html_gives_same_bytes(pdf: bytes, html: str, decided: dt.date) -> None:
    assert archive.record_pdf(html, decided=decided) == pdf
    assert archive.record_pdf(html, decided=decided + dt.timedelta(days=1)) != pdf


def test_a_missing_font_names_the_debian_package(tmp_path: Path) -> None:
    for folder, names in archive.FONT_PACKAGES.values():
        (tmp_path / folder).mkdir()
        for name in names:
            shutil.copy(archive.FONT_ROOT / folder / name, tmp_path / folder / name)
    assert "file://" + (tmp_path / "liberation2").as_posix() in archive.archive_css_text(tmp_path)
    (tmp_path / "dejavu" / "DejaVuSans.ttf").unlink()
    with pytest.raises(RecordError, match="fonts-dejavu-core"):
        archive.archive_css_text(tmp_path)


def test_chart_text_uses_the_archival_fonts(decided: dt.date) -> None:
    page = ('<!DOCTYPE html><html lang="sv"><head><title>T</title></head><body><p>x</p>'
            '<svg width="200" height="40"><text x="0" y="20" font-size="12">Diagramtext</text></svg></body></html>')
    reader = PdfReader(io.BytesIO(archive.record_pdf(page, decided=decided)))
    fonts = {str(f.get_object()["/BaseFont"]).split("+", 1)[1]
             for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    xobjects = [x.get_object() for p in reader.pages for x in p["/Resources"].get("/XObject", {}).values()]
    for x in xobjects:
        res = x.get("/Resources")
        if isinstance(res, IndirectObject):
            res = res.get_object()
        for f in (res or {}).get("/Font", {}).values():
            fonts.add(str(f.get_object()["/BaseFont"]).split("+", 1)[1])
    assert fonts == {"FoU-Archive-Sans"}
    assert "Diagramtext" in "".join(p.extract_text() for p in reader.pages)


_PREPARE = ("import os, sys\nfrom fou_review.record import archive\narchive.prepare()\nprint(os.getpid(), flush=True)\n"
            "os._exit(0) if sys.argv[1] == 'killed' else None\n")


@pytest.mark.parametrize("end", ["killed", "exits"])
def test_the_fonts_weasyprint_copies_live_in_a_folder_named_after_the_process(tmp_path: Path, end: str) -> None:
    """WeasyPrint's own `weasyprint-*` folder outlives a killed process nameless; ours names the process, so
    the next run removes it when that process is gone (a kill skips every clean-up, as `os._exit` does)."""
    import os
    import subprocess
    import sys

    from fou_review.yearly.kernel import remove_stale_kernel_folders

    done = subprocess.run([sys.executable, "-c", _PREPARE, end], env={**os.environ, "TMPDIR": str(tmp_path)},
                          capture_output=True, text=True, timeout=300, check=True)
    if end == "exits":
        assert list(tmp_path.iterdir()) == []  # removed at exit
        return
    (folder,) = tmp_path.iterdir()  # no weasyprint-* beside it
    assert folder.name.startswith(f"{archive.FONT_FOLDER_PREFIX}{done.stdout.strip()}-"), folder.name
    assert len(list(folder.iterdir())) >= len(archive.font_files())  # the @font-face copies are in it
    alive = tmp_path / f"{archive.FONT_FOLDER_PREFIX}{os.getpid()}-x"  # a running process's: kept
    alive.mkdir()
    assert remove_stale_kernel_folders(tmp_path) == [folder]
    assert list(tmp_path.iterdir()) == [alive]
