"""Publishing a record folder: all of it or nothing, never a half-written record.

The new files are written into a temporary folder beside the target (`reports/.<year>.tmp-*`), with
everything else the old folder holds carried over (the English record `en/`, earlier records under
`superseded/`). Only then is the folder swapped in: with one atomic `renameat2(RENAME_EXCHANGE)` on
Linux, else with two renames (the old folder first moved aside, then the new one moved in). A failure
before the swap removes the temporary folder and leaves the old record untouched.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fou_review.yearly.manifest import sha256_file

RECORD_FILES = ("allocation.html", "decisions.csv", "decisions.xlsx", "manifest.json", "review.ipynb")
SUPERSEDED = "superseded"
ENGLISH = "en"


def record_dir(root: Path, year: int, lang: str) -> Path:
    """`reports/<year>/` for the Swedish record, `reports/<year>/en/` for the English one."""
    base = Path(root) / "reports" / str(year)
    return base / ENGLISH if lang == "en" else base


def next_superseded(target: Path) -> int:
    """The number the current record gets when superseded: one more than the highest so far."""
    folder = target / SUPERSEDED
    taken = [int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] if folder.is_dir() else []
    return max(taken, default=0) + 1


def superseded_entry(root: Path, target: Path, number: int) -> dict[str, str]:
    """What the new manifest says it supersedes: the old allocation.html at its versioned place."""
    moved = target / SUPERSEDED / str(number) / "allocation.html"
    return {"path": moved.relative_to(root).as_posix(), "sha256": sha256_file(target / "allocation.html")}


@contextmanager
def staging(target: Path) -> Iterator[Path]:
    """A temporary folder beside `target`, removed on the way out unless it was published."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def stage_record(tmp: Path, files: Mapping[str, bytes], target: Path, supersede_as: int | None) -> None:
    """Fill `tmp` with the new files plus what of the old folder must survive."""
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    if target.is_dir():
        for entry in sorted(target.iterdir()):
            if entry.name.startswith(".") or entry.name in files:
                continue
            if entry.is_dir():
                shutil.copytree(entry, tmp / entry.name, symlinks=True)
            elif entry.name not in RECORD_FILES:
                shutil.copy2(entry, tmp / entry.name)
        if supersede_as is not None:
            keep = tmp / SUPERSEDED / str(supersede_as)
            keep.mkdir(parents=True)
            for name in RECORD_FILES:
                if (target / name).is_file():
                    shutil.copy2(target / name, keep / name)
    for path in [tmp, *tmp.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)  # mkdtemp makes 0700; a published record is readable by everyone


def swap_in(tmp: Path, target: Path) -> None:
    """Make `tmp` the new `target`; the old folder's contents end up in `tmp`'s place, then go."""
    if not target.exists():
        os.rename(tmp, target)
        return
    if _exchange(tmp, target):
        shutil.rmtree(tmp)
        return
    aside = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, aside)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(aside, target)
        raise
    shutil.rmtree(aside)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 with RENAME_EXCHANGE); False when unavailable."""
    name = ctypes.util.find_library("c")
    if not name or not hasattr(os, "fsencode"):
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(rc == 0)
