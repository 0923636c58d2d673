"""The archival PDF set in parts side by side, then put together as one document.

The record's print styles begin some sections on a new page (`PART_STARTS`, record.css). What comes
after such a break is laid out the same whether the pages before it exist or not: only the page
numbers depend on them. So the PDF is set as parts, each the record page with the sections of one
stretch between two such breaks (its bytes cut out as they are: the same markup, the same styles),
in forks of this process when it may fork, and the parts are put together (pypdf):

- every page of every part, in order; the first part's catalogue, document information, XMP metadata
  and output intent (the parts' own are the same but for their pages);
- the page numbers: the parts print none; a page of the same styles with only "Sida x (y)" in its
  margin box is set once the page count is known and drawn over each page (as a form XObject);
- links between parts: a part gets an empty element for each id it links to in another part (so
  WeasyPrint keeps the link), and the named destinations are those of the part where each id is;
- the outline: the parts' outlines one after another (the title, the document's own name, is left out
  of it, so every part's outline begins at the same level);
- font subsets: WeasyPrint tags a font's subset by the font, not by its glyphs, so the parts' subsets of
  one font would share a tag; each distinct subset gets a tag of its own (PDF 1.7, 9.6.4);
- a file identifier made from the parts' own.

The parts and the way they are put together depend on the page alone, never on whether forks were
possible, so the same page gives the same bytes either way.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import os
import re
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fou_review.forking import die_with_parent, fork_possible

# Sections that begin a part of the PDF; record.css (@media print) begins each on a new page. One cut, about
# halfway through the 2022 record's WeasyPrint work: on two CPUs beside the run's kernel, two parts were the
# fastest (2022 run: 1.69 s with two parts, 1.73 s with three, 1.84 s with four, 2.27 s with one).
PART_STARTS = ("kalibrering",)
# In every part: no page number (the stamp's), and no outline entry for the title.
PART_STYLE = "<style>@page { @bottom-right { content: none } } h1 { bookmark-level: none }</style>\n"
# The stamp: the page numbers alone, on a page with nothing else drawn (no Dnr head, no background).
STAMP_STYLE = ("<style>@page { @top-right { content: none } } html, body { background: none !important }"
               " .fou-stamp { break-after: page }</style>\n")
_ID = re.compile(r'\sid="([^"]+)"')
_LINK = re.compile(r'\shref="#([^"]+)"')
_FIRST_HEADING = re.compile(r"<h[1-6][^>]*>")
_SUBSET_TAG = re.compile(r"^/?([A-Z]{6})\+")


@dataclass(frozen=True)
class Parts:
    """The record page cut into parts: each a page of its own, with the ids whose element it holds."""

    pages: tuple[str, ...]
    ids: tuple[frozenset[str], ...]


def split(html: str) -> Parts:
    """`html` (a record page) cut before each top-level section of `PART_STARTS` it has: the head, with
    `PART_STYLE`, and the end of the page are in every part; the body's bytes are cut, not rewritten."""
    opening, closing = html.find("<main>"), html.rfind("</main>")
    if opening < 0 or closing < opening:
        return Parts((html,), (frozenset(_ID.findall(html)),))
    start = opening + len("<main>")
    cuts = [start]
    for section in PART_STARTS:
        at = html.find(f'\n<section id="{section}"', start, closing)
        if at > cuts[-1] and html.count("<section", start, at) == html.count("</section>", start, at):
            cuts.append(at)  # at the top level of <main> only, in order
    bodies = [html[a:b] for a, b in zip(cuts, [*cuts[1:], closing], strict=True)]
    ids = [frozenset(_ID.findall(body)) for body in bodies]
    everywhere = frozenset().union(*ids)
    head = html[:start].replace("</head>", PART_STYLE + "</head>", 1)
    pages = []
    for body, own in zip(bodies, ids, strict=True):
        elsewhere = sorted(set(_LINK.findall(body)) & everywhere - own)
        heading = _FIRST_HEADING.search(body)
        if elsewhere and heading is not None:  # empty, inside a heading: nothing moves
            marks = "".join(f'<span id="{name}"></span>' for name in elsewhere)
            body = body[:heading.end()] + marks + body[heading.end():]
        pages.append(head + body + html[closing:])
    return Parts(tuple(pages), tuple(ids))


def stamp_page(html: str, count: int) -> str:
    """A page of `html`'s head with `count` empty pages: only their page numbers are drawn."""
    head = html[:html.find("<body")].replace("</head>", STAMP_STYLE + "</head>", 1)
    return head + "<body>" + '<div class="fou-stamp"></div>' * (count - 1) + "<div></div></body></html>"


@dataclass(frozen=True)
class Setter:
    """How a page becomes a PDF: laid out (a document with `pages`), then written."""

    lay_out: Callable[[str], Any]
    write: Callable[[Any], bytes]


def side_by_side(pages: Sequence[str], setter: Setter, stamp: Callable[[int], bytes]) -> tuple[list[bytes], bytes]:
    """Each page's PDF, in order, and `stamp(the page count of them all)`. When this process may fork, the
    shortest page is set here and each other in a fork of its own, which says its page count as soon as it
    has laid the page out; so the stamp is set here while the forks write. A fork that fails is made up for
    here."""
    if len(pages) < 2 or not fork_possible():
        return _one_after_another(pages, setter, stamp)
    here = min(range(len(pages)), key=lambda index: len(pages[index]))
    parent, children, collecting = os.getpid(), {}, gc.isenabled()
    gc.disable()  # WeasyPrint's many short-lived objects would have the collector walk this whole process
    try:
        for index, page in enumerate(pages):
            if index != here:
                readable, writable = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(readable)
                    _child(page, setter, writable, parent)
                os.close(writable)
                children[index] = (pid, os.fdopen(readable, "rb"))
        laid_out = setter.lay_out(pages[here])
        counts: dict[int, int] = {here: len(laid_out.pages)}
        made: dict[int, bytes] = {here: setter.write(laid_out)}
        for index, (_, stream) in children.items():
            said = stream.read(4)  # the fork's page count, or nothing if it failed first
            if len(said) == 4:
                counts[index] = int.from_bytes(said, "big")
            else:
                laid_out = setter.lay_out(pages[index])
                counts[index], made[index] = len(laid_out.pages), setter.write(laid_out)
        stamped = stamp(sum(counts.values()))
        for index, (pid, stream) in children.items():
            data = stream.read()
            _, status = os.waitpid(pid, 0)
            children[index] = (0, stream)
            if index not in made:
                made[index] = data if status == 0 and data.startswith(b"%PDF-") else setter.write(
                    setter.lay_out(pages[index]))
        return [made[index] for index in range(len(pages))], stamped
    finally:
        if collecting:
            gc.enable()
        for pid, stream in children.values():
            stream.close()
            if pid:  # only after a failure here: stop and reap what is left
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)


def _one_after_another(pages: Sequence[str], setter: Setter, stamp: Callable[[int], bytes]) -> tuple[list[bytes],
                                                                                                     bytes]:
    """`side_by_side` in this process alone."""
    made, count = [], 0
    for page in pages:
        laid_out = setter.lay_out(page)
        count += len(laid_out.pages)
        made.append(setter.write(laid_out))
    return made, stamp(count)


def _child(page: str, setter: Setter, writable: int, parent: int) -> None:
    """In a fork: lay `page` out, say its page count (4 bytes) and write its PDF into the pipe, then end (no
    exit handler of the parent's runs here)."""
    code = 1
    try:
        die_with_parent(parent)
        gc.disable()  # (as in the parent) a process this short ends before garbage matters
        with os.fdopen(writable, "wb") as stream:
            laid_out = setter.lay_out(page)
            stream.write(len(laid_out.pages).to_bytes(4, "big"))
            stream.flush()
            stream.write(setter.write(laid_out))
        code = 0
    finally:
        os._exit(code)


def assemble(parts: Sequence[bytes], ids: Sequence[frozenset[str]], stamp: bytes) -> bytes:
    """The parts' PDFs as one document, with the stamp's page numbers drawn over the pages (see the module's
    docstring)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    readers = [PdfReader(io.BytesIO(part)) for part in parts]
    writer = PdfWriter(clone_from=readers[0])
    starts = [0]
    for reader in readers[1:]:
        starts.append(len(writer.pages))
        writer.append(reader)  # its pages, and its outline after the others'
    _destinations(writer, readers, starts, ids)
    _stamp(writer, PdfReader(io.BytesIO(stamp)))
    _distinct_subset_tags(writer)
    identifiers: list[Any] = [reader.trailer["/ID"] for reader in readers]
    digest = hashlib.md5(b"".join(getattr(each[0], "original_bytes", each[0]) for each in identifiers),
                         usedforsecurity=False).digest()
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])  # pypdf has no setter
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _destinations(writer: Any, readers: Sequence[Any], starts: Sequence[int], ids: Sequence[frozenset[str]]) -> None:
    """The named destinations: each id's from the part where its element is."""
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject, TextStringObject

    named: dict[str, ArrayObject] = {}
    for reader, start, own in zip(readers, starts, ids, strict=True):
        for name, destination in reader.named_destinations.items():
            if name in own and name not in named:
                page = writer.pages[start + reader.get_destination_page_number(destination)].indirect_reference
                named[name] = ArrayObject([page, NameObject("/XYZ"), FloatObject(destination.left),
                                           FloatObject(destination.top), NumberObject(0)])
    flat = ArrayObject()
    for name in sorted(named):
        flat += [TextStringObject(name), named[name]]
    names = writer.root_object.setdefault(NameObject("/Names"), DictionaryObject())
    names.get_object()[NameObject("/Dests")] = DictionaryObject({NameObject("/Names"): flat})


def _stamp(writer: Any, stamp: Any) -> None:
    """Draw page i of `stamp` over page i of `writer`, as a form XObject after the page's own content."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    if len(stamp.pages) != len(writer.pages):
        raise ValueError(f"{len(stamp.pages)} page numbers for {len(writer.pages)} pages")
    for number, (page, numbers) in enumerate(zip(writer.pages, stamp.pages, strict=True), start=1):
        form = DecodedStreamObject()
        form.set_data(numbers.get_contents().get_data())
        form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                     NameObject("/BBox"): ArrayObject(numbers.mediabox),
                     NameObject("/Resources"): numbers["/Resources"].clone(writer)})
        name = NameObject(f"/FouPageNumber{number}")  # the parts' pages share their resources
        resources = page["/Resources"].get_object()
        resources.setdefault(NameObject("/XObject"), DictionaryObject()).get_object()[name] = \
            writer._add_object(form.flate_encode())
        before, after = DecodedStreamObject(), DecodedStreamObject()
        before.set_data(b"q\n")
        after.set_data(f"\nQ\nq {name} Do Q\n".encode())
        contents = page["/Contents"]
        own = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
        page[NameObject("/Contents")] = ArrayObject([writer._add_object(before), *own,
                                                     writer._add_object(after)])


def _fonts(writer: Any) -> list[Any]:
    """Every font dictionary the pages use (their own resources and their forms'), each once, in object order."""
    found: dict[int, Any] = {}
    for page in writer.pages:
        resources = [page["/Resources"].get_object()]
        resources += [form.get_object()["/Resources"].get_object()
                      for form in resources[0].get("/XObject", {}).values()]
        for each in resources:
            found.update({font.idnum: font.get_object() for font in each.get("/Font", {}).values()})
    return [found[key] for key in sorted(found)]


def _distinct_subset_tags(writer: Any) -> None:
    """Give every distinct font subset a tag of its own, made from its glyphs (the embedded font file): the
    font's name, its descendant's (a Type 0 font's) and its descriptor's."""
    from pypdf.generic import NameObject

    seen: dict[str, str] = {}  # a font's name as tagged now -> its font file's digest
    for font in _fonts(writer):
        named = [font, *(part.get_object() for part in font.get("/DescendantFonts", []))]
        descriptors = [each["/FontDescriptor"].get_object() for each in named if "/FontDescriptor" in each]
        base, tag = str(font["/BaseFont"]), _SUBSET_TAG.match(str(font["/BaseFont"]))
        files = [each[key] for each in descriptors for key in ("/FontFile2", "/FontFile3", "/FontFile") if key in each]
        if tag is None or not files:
            continue
        digest = hashlib.sha256(files[0].get_object().get_data()).hexdigest()
        if seen.setdefault(base, digest) == digest:
            continue
        renamed = NameObject(base.replace(tag.group(1), _tag(digest), 1))
        for each in named:
            each[NameObject("/BaseFont")] = renamed
        for each in descriptors:
            each[NameObject("/FontName")] = renamed
        seen[str(renamed)] = digest


def _tag(digest: str) -> str:
    """Six capital letters from a hex digest (a subset's tag)."""
    return "".join(chr(ord("A") + int(digest[i:i + 2], 16) % 26) for i in range(0, 12, 2))


__all__ = ["PART_STARTS", "Parts", "Setter", "assemble", "side_by_side", "split", "stamp_page"]
