"""The archival copy of the record: `allocation.pdf`, PDF/A-2u, made by WeasyPrint from `allocation.html`.

Why PDF/A-2u: part 2 (ISO 19005-2) is the current baseline that archives accept for born-digital
documents (PDF 1.7 base, transparency, OpenType fonts); level "u" adds to the visual guarantee of
level "b" that every glyph maps to Unicode, so the text can be searched and copied years later.
Part 3 differs from part 2 only in allowing arbitrary embedded files; the record's data are published
beside it as open data (`data/`), and an archive would have to vet attachments of any kind, so the
archival copy carries none.

The PDF is made from the very bytes of `allocation.html` (its print styles included), plus one small
stylesheet of its own (`templates/archive/archive.css`) that sets every text in fonts named by file
from two Debian packages: Liberation Sans and Mono (`fonts-liberation2`, the family the record's own
font stack names, with Arial's metrics) and DejaVu Sans (`fonts-dejavu-core`) for any character
Liberation lacks. What other fonts a machine has cannot change the PDF; every font is embedded (as a
subset). The document's dates are the decision's date from
the year's parameters, never the clock, so the same inputs give the same bytes on every run.

Rendering costs about 1.5 s of CPU for the 2022 record, most of it WeasyPrint's layout (see
bench/bench_run.py); its tables use the fixed layout with columns measured once
(`archive_columns.py`); the page is set in two parts side by side and put together
(`archive_parts.py`); and a run sets the PDF in a fork of its own while its kernel works
(`yearly/record_ahead.py`). `prepare` does the imports and the font set-up once per process.
"""

from __future__ import annotations

import atexit
import datetime as dt
import io
import logging
import os
import shutil
import tempfile
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from fou_review.errors import Msg, RecordError
from fou_review.record import archive_parts
from fou_review.record.archive_columns import fix_table_columns, fonts_from

PDF_VARIANT = "pdf/a-2u"
OUTPUT_INTENT = "archive-srgb"  # the key of the sRGB output intent among the document's colour profiles
FONT_ROOT = Path("/usr/share/fonts/truetype")
# Debian package -> its folder under FONT_ROOT
FONT_FOLDERS: dict[str, str] = {"fonts-liberation2": "liberation2", "fonts-dejavu-core": "dejavu"}
# Every face of the archival fonts: (family, Debian package, file, weight, style), in a fixed order.
FONT_FACES: tuple[tuple[str, str, str, str, str], ...] = (
    ("FoU Archive Sans", "fonts-liberation2", "LiberationSans-Regular.ttf", "normal", "normal"),
    ("FoU Archive Sans", "fonts-liberation2", "LiberationSans-Bold.ttf", "bold", "normal"),
    ("FoU Archive Sans", "fonts-liberation2", "LiberationSans-Italic.ttf", "normal", "italic"),
    ("FoU Archive Sans", "fonts-liberation2", "LiberationSans-BoldItalic.ttf", "bold", "italic"),
    ("FoU Archive Mono", "fonts-liberation2", "LiberationMono-Regular.ttf", "normal", "normal"),
    ("FoU Archive Mono", "fonts-liberation2", "LiberationMono-Bold.ttf", "bold", "normal"),
    ("FoU Archive Fallback", "fonts-dejavu-core", "DejaVuSans.ttf", "normal", "normal"),
    ("FoU Archive Fallback", "fonts-dejavu-core", "DejaVuSans-Bold.ttf", "bold", "normal"),
)
FONT_PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {  # package -> (its folder, the files used)
    package: (folder, tuple(face[2] for face in FONT_FACES if face[1] == package))
    for package, folder in FONT_FOLDERS.items()
}
FONT_FAMILIES = ("FoU Archive Sans", "FoU Archive Mono", "FoU Archive Fallback")
SVG_FONT = '"FoU Archive Sans", "FoU Archive Fallback"'
GENERATOR = "fou-review"
FONT_FOLDER_PREFIX = "fou-review-pdf-"  # <tmp>/fou-review-pdf-<pid>-*: the fonts WeasyPrint copies (see `prepare`)

_lock = threading.Lock()
_prepared: dict[str, Any] = {}


def font_files(font_root: Path = FONT_ROOT) -> list[Path]:
    """Every font file the archival PDF may embed, in a fixed order."""
    return [font_root / FONT_FOLDERS[package] / name for _, package, name, _, _ in FONT_FACES]


def archive_css_text(font_root: Path = FONT_ROOT) -> str:
    """The archival stylesheet with its @font-face rules; RecordError when a font is missing."""
    for package, (folder, names) in FONT_PACKAGES.items():
        missing = [name for name in names if not (font_root / folder / name).is_file()]
        if missing:
            raise RecordError(Msg.of("pdf.font_missing", package=package, files=", ".join(missing),
                                     folder=str(font_root / folder)))
    faces = "".join(
        f'@font-face {{ font-family: "{family}"; src: url("file://{path.as_posix()}"); '
        f"font-weight: {weight}; font-style: {style}; }}\n"
        for (family, _, _, weight, style), path in zip(FONT_FACES, font_files(font_root), strict=True))
    text = (resources.files("fou_review.record") / "templates" / "archive" / "archive.css").read_text("utf-8")
    return text.replace("/* @font-face rules: made by archive.py from FONT_FACES */\n", faces)


def prepare() -> None:
    """Import WeasyPrint and set up the fonts and the archival stylesheet once per process.

    Safe to call from a background thread while the run does other work; `record_pdf` calls it too.
    """
    with _lock:
        if _prepared:
            return
        import pypdf  # noqa: F401 - archive_parts puts the parts together with it
        import weasyprint
        from weasyprint.css import ColorProfile
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        # WeasyPrint copies the @font-face fonts into a temporary folder it names `weasyprint-*` and
        # removes only when its font configuration is collected: a killed process leaves it, nameless.
        # Give it one named after this process instead (set before the first @font-face is read);
        # removed at exit, and the next yearly run removes one whose process is gone
        # (`yearly.kernel.remove_stale_kernel_folders`).
        folder = Path(tempfile.mkdtemp(prefix=f"{FONT_FOLDER_PREFIX}{os.getpid()}-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        fonts._folder = folder
        css = weasyprint.CSS(string=archive_css_text(), font_config=fonts)
        icc = (resources.files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()

        def srgb() -> Any:
            return ColorProfile(io.BytesIO(icc), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))

        columns = fonts_from({path.name: path for path in font_files()})
        _prepared.update(weasyprint=weasyprint, fonts=fonts, css=css, srgb=srgb, columns=columns, folder=folder,
                         pid=os.getpid())


def prepared() -> bool:
    """Whether `prepare` has run in this process (or in the process this one was forked from)."""
    return bool(_prepared)


def release() -> None:
    """Remove the font folder `prepare` made, if this process made it: for a forked child, which ends
    with `os._exit` and so runs no exit handler. The archival set-up is then gone from this process."""
    with _lock:
        if _prepared and _prepared["pid"] == os.getpid():
            shutil.rmtree(_prepared["folder"], ignore_errors=True)
            _prepared.clear()


def record_pdf(html: str, *, decided: dt.date) -> bytes:
    """`html` (the record page, as published) as a PDF/A-2u document, byte-identical for the same input.

    `decided` is the decision's date: the PDF's creation and modification date (info dictionary and
    XMP metadata). The title and language come from the page's `<title>` and `<html lang>`.
    """
    prepare()
    quiet = logging.getLogger("weasyprint")  # its notes on screen-only CSS (@media (max-width)) are noise here
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return _render(html, decided)
    finally:
        quiet.setLevel(level)


def document(html: str) -> Any:
    """`html` laid out for the archival PDF (a WeasyPrint `Document`): the archival fonts, the fixed table
    layout with measured columns. Call `prepare` first (record_pdf does)."""
    weasyprint, fonts, css = _prepared["weasyprint"], _prepared["fonts"], _prepared["css"]
    page = weasyprint.HTML(string=html, base_url=None)
    for svg in page.etree_element.iter("{http://www.w3.org/2000/svg}svg"):
        # WeasyPrint draws inline SVG without the page's styles: name the archival fonts on the
        # element itself (in the parsed page only; the HTML's bytes are the published ones).
        svg.set("font-family", SVG_FONT)
    fix_table_columns(page.etree_element, _prepared["columns"])  # the fixed table layout's widths (archive.css)
    return page.render(stylesheets=[css], font_config=fonts)


def _render(html: str, decided: dt.date) -> bytes:
    """The page set as parts side by side, put together with its page numbers (`archive_parts`)."""
    parts = archive_parts.split(html)
    setter = archive_parts.Setter(document, lambda laid_out: _written(laid_out, decided))
    made, stamp = archive_parts.side_by_side(
        parts.pages, setter, lambda count: _set(archive_parts.stamp_page(html, count), decided))
    return archive_parts.assemble(made, parts.ids, stamp)


def _set(html: str, decided: dt.date) -> bytes:
    """One page as a PDF/A document of its own."""
    return _written(document(html), decided)


def _written(laid_out: Any, decided: dt.date) -> bytes:
    """A laid-out page (`document`) written as PDF/A, dated `decided`."""
    laid_out.metadata.created = laid_out.metadata.modified = decided.isoformat()
    laid_out.metadata.generator = GENERATOR
    # The output intent: WeasyPrint's own sRGB profile, read here with the file closed after it
    # (WeasyPrint 70 opens it for output_intent="srgb" and never closes the file).
    laid_out.color_profiles[OUTPUT_INTENT] = _prepared["srgb"]()
    data: bytes = laid_out.write_pdf(pdf_variant=PDF_VARIANT, output_intent=OUTPUT_INTENT)
    return data


__all__ = ["FONT_FAMILIES", "FONT_PACKAGES", "PDF_VARIANT", "archive_css_text", "document", "font_files", "prepare",
           "prepared", "record_pdf", "release"]
