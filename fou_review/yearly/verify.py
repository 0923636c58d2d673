"""Checking a published record: re-make it from today's inputs and compare every file, byte for byte."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fou_review.core.load import load_year
from fou_review.core.pipeline import review_inputs
from fou_review.errors import InputError, Problem
from fou_review.yearly.manifest import MANIFEST_NAME, input_entries, read_manifest
from fou_review.yearly.publish import RECORD_FILES, record_dir
from fou_review.yearly.run import make_record

TEXT_SUFFIXES = (".html", ".csv", ".json", ".ipynb")


@dataclass(frozen=True)
class Difference:
    file: str  # relative to the project root
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


def first_difference(old: bytes, new: bytes) -> str:
    """Where two texts part: the first differing line, both versions shortened."""
    a = old.decode("utf-8", errors="replace").splitlines()
    b = new.decode("utf-8", errors="replace").splitlines()
    for i, (x, y) in enumerate(zip(a, b, strict=False), 1):
        if x != y:
            col = next((j for j, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
            start = max(col - 30, 0)
            return (f"skiljer sig från rad {i}, tecken {col + 1}: publicerad »{x[start:start + 80]}«, "
                    f"omgjord »{y[start:start + 80]}«")
    if len(a) != len(b):
        return f"skiljer sig från rad {min(len(a), len(b)) + 1}: publicerad {len(a)} rader, omgjord {len(b)} rader"
    return "skiljer sig i radslut eller sista byten"


def compare_files(published: Path, remade: dict[str, bytes], root: Path) -> list[Difference]:
    out: list[Difference] = []
    for name in RECORD_FILES:
        rel = (published / name).relative_to(root).as_posix()
        path = published / name
        if not path.is_file():
            out.append(Difference(rel, "saknas i det publicerade protokollet"))
            continue
        old, new = path.read_bytes(), remade[name]
        if old == new:
            continue
        if name.endswith(TEXT_SUFFIXES):
            out.append(Difference(rel, first_difference(old, new)))
        else:
            out.append(Difference(rel, f"binärfilen skiljer sig ({len(old)} mot {len(new)} byte omgjord)"))
    return out


def changed_inputs(manifest: dict[str, object], current: list[dict[str, str]]) -> list[Difference]:
    """Which input files changed, appeared or vanished since the record was made."""
    before = {e["path"]: e["sha256"] for e in manifest.get("inputs", []) or []  # type: ignore[attr-defined]
              if isinstance(e, dict)}
    now = {e["path"]: e["sha256"] for e in current}
    out = [Difference(p, "indatafilen har ändrats sedan protokollet gjordes")
           for p in sorted(before.keys() & now.keys()) if before[p] != now[p]]
    out += [Difference(p, "indatafilen är ny sedan protokollet gjordes") for p in sorted(now.keys() - before.keys())]
    out += [Difference(p, "indatafilen fanns när protokollet gjordes men saknas nu")
            for p in sorted(before.keys() - now.keys())]
    return out


def verify_year(root: Path, year: int, lang: str = "sv", *, progress: bool = True) -> list[Difference]:
    """Every difference between `reports/<year>/` (or `en/`) and a fresh run; empty when identical."""
    root = Path(root).resolve()
    target = record_dir(root, year, lang)
    manifest_file = target / MANIFEST_NAME
    if not manifest_file.is_file():
        raise InputError([Problem(manifest_file.relative_to(root).as_posix(),
                                  f"det finns inget protokoll att kontrollera; kör först fou-review run {year}")])
    manifest = read_manifest(manifest_file)
    review = review_inputs(load_year(root, year))
    supersedes = manifest.get("supersedes")
    remade = make_record(root, year, lang, supersedes if isinstance(supersedes, dict) else None,
                         progress=progress, review=review)
    return changed_inputs(manifest, input_entries(root, review.inputs.files)) + compare_files(target, remade, root)


def languages_published(root: Path, year: int) -> list[str]:
    """The languages with a record for the year: sv always (if any), en when `en/` has one."""
    return [lang for lang in ("sv", "en") if (record_dir(root, year, lang) / MANIFEST_NAME).is_file()]
