"""Checking a published record: re-make it from today's inputs and compare every file, byte for byte.

Leftovers of killed runs beside the record (`reports/.<year>.tmp-*`, see `publish`) are not part of
it: `leftovers` lists them and the command line names them, but they never count as a difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fou_review.core.load import load_year
from fou_review.core.pipeline import review_inputs
from fou_review.errors import InputError, Msg, Problem
from fou_review.texts.catalog import t
from fou_review.yearly.manifest import MANIFEST_NAME, input_entries, read_manifest
from fou_review.yearly.publish import RECORD_FILES, leftovers, record_dir
from fou_review.yearly.run import make_record

TEXT_SUFFIXES = (".html", ".csv", ".json", ".ipynb", ".md")


@dataclass(frozen=True)
class Difference:
    """One file that differs: `msgid` (in the `cli` catalogue) and its values say how."""

    file: str  # relative to the project root
    msgid: str
    values: dict[str, object] = field(default_factory=dict)

    def text(self, lang: str = "sv") -> str:
        """`<file>: <how it differs>` in `lang`."""
        return f"{self.file}: {self.message_in(lang)}"

    def message_in(self, lang: str = "sv") -> str:
        """How it differs, in `lang`."""
        return t(lang, "cli", self.msgid, **self.values)

    @property
    def message(self) -> str:
        """How it differs, in Swedish."""
        return self.message_in("sv")

    def __str__(self) -> str:
        return self.text("sv")


def first_difference(old: bytes, new: bytes) -> tuple[str, dict[str, object]]:
    """Where two texts part (a `cli` message id and its values): the first differing line, shortened."""
    a = old.decode("utf-8", errors="replace").splitlines()
    b = new.decode("utf-8", errors="replace").splitlines()
    for i, (x, y) in enumerate(zip(a, b, strict=False), 1):
        if x != y:
            col = next((j for j, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
            start = max(col - 30, 0)
            return "verify.line_differs", {"line": i, "col": col + 1, "old": x[start:start + 80],
                                           "new": y[start:start + 80]}
    if len(a) != len(b):
        return "verify.length_differs", {"line": min(len(a), len(b)) + 1, "old": len(a), "new": len(b)}
    return "verify.ending_differs", {}


def compare_files(published: Path, remade: dict[str, bytes], root: Path) -> list[Difference]:
    """Each file of the published record that is missing or differs from the remade one (in name order)."""
    out: list[Difference] = []
    for name in sorted(set(RECORD_FILES) | set(remade)):  # a follow-up adds data/followup.csv
        rel = (published / name).relative_to(root).as_posix()
        path = published / name
        if not path.is_file():
            out.append(Difference(rel, "verify.missing"))
            continue
        old, new = path.read_bytes(), remade.get(name, b"")
        if old == new:
            continue
        if name.endswith(TEXT_SUFFIXES):
            out.append(Difference(rel, *first_difference(old, new)))
        else:
            out.append(Difference(rel, "verify.binary_differs", {"old": len(old), "new": len(new)}))
    return out


def extra_files(published: Path, remade: dict[str, bytes], root: Path, lang: str) -> list[Difference]:
    """Files in the published folder that are not the record's (a stray page, a copy): not in the remade
    record, not its earlier records (`superseded/`) and, for the Swedish record, not the English one (`en/`)."""
    kept = {"superseded"} | ({"en"} if lang == "sv" else set())
    out = []
    for path in sorted(published.rglob("*")):
        rel = path.relative_to(published)
        if rel.parts[0] in kept or path.is_dir() or rel.as_posix() in remade or rel.as_posix() in RECORD_FILES:
            continue
        out.append(Difference(path.relative_to(root).as_posix(), "verify.extra"))
    return out


def changed_inputs(manifest: dict[str, object], current: list[dict[str, str]]) -> list[Difference]:
    """Which input files changed, appeared or vanished since the record was made."""
    before = {e["path"]: e["sha256"] for e in manifest.get("inputs", []) or []  # type: ignore[attr-defined]
              if isinstance(e, dict)}
    now = {e["path"]: e["sha256"] for e in current}
    out = [Difference(p, "verify.input_changed") for p in sorted(before.keys() & now.keys()) if before[p] != now[p]]
    out += [Difference(p, "verify.input_new") for p in sorted(now.keys() - before.keys())]
    out += [Difference(p, "verify.input_gone") for p in sorted(before.keys() - now.keys())]
    return out


def verify_year(root: Path, year: int, lang: str = "sv", *, progress: bool = True) -> list[Difference]:
    """Every difference between `reports/<year>/` (or `en/`) and a fresh run; empty when identical."""
    root = Path(root).resolve()
    target = record_dir(root, year, lang)
    manifest_file = target / MANIFEST_NAME
    if not manifest_file.is_file():
        raise InputError([Problem(manifest_file.relative_to(root).as_posix(),
                                  msg=Msg.of("verify.no_record", domain="cli", year=year))])
    manifest = read_manifest(manifest_file)
    review = review_inputs(load_year(root, year))
    supersedes = manifest.get("supersedes")
    remade = make_record(root, year, lang, supersedes if isinstance(supersedes, dict) else None,
                         progress=progress, review=review)
    inputs = input_entries(root, review.inputs.files, review.inputs.digests)  # the bytes the loader parsed
    return (changed_inputs(manifest, inputs) + compare_files(target, remade, root)
            + extra_files(target, remade, root, lang))


def leftover_paths(root: Path, year: int) -> list[str]:
    """Leftovers of killed runs beside the year's records, relative to the root (not part of a record)."""
    root = Path(root).resolve()
    return [p.relative_to(root).as_posix() for p in leftovers(root, year)]


def languages_published(root: Path, year: int) -> list[str]:
    """The languages with a record for the year: sv always (if any), en when `en/` has one."""
    return [lang for lang in ("sv", "en") if (record_dir(root, year, lang) / MANIFEST_NAME).is_file()]
