"""A bytecode cache for the package's Jinja2 templates, so a fresh process does not compile them again.

The yearly run's kernel is a new process every time, and compiling the record's and the workbook's
templates took a tenth of a second or more of it. `bytecode_cache()` gives both template environments
(record/markup.py, workbook/templating.py) one `jinja2.FileSystemBytecodeCache` in the user's cache
folder (`$XDG_CACHE_HOME/fou-review/jinja2`, else `~/.cache/fou-review/jinja2`; `FOU_REVIEW_CACHE`
names another folder, `FOU_REVIEW_CACHE=off` turns it off). Entries are keyed by the template's name
and checked against its source and the Python version (Jinja2's own check), written atomically, and a
folder that cannot be written only costs the compile: the rendered text is the same either way.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket


class _QuietCache(jinja2.FileSystemBytecodeCache):
    """Jinja2's file cache, where failing to write an entry is not an error (the template still renders)."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def cache_folder() -> Path | None:
    """Where compiled templates are kept, or None when the cache is off."""
    named = os.environ.get("FOU_REVIEW_CACHE", "")
    if named.lower() == "off":
        return None
    if named:
        return Path(named) / "jinja2"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fou-review" / "jinja2"


@cache
def bytecode_cache() -> jinja2.BytecodeCache | None:
    """The shared bytecode cache (None when it is off or its folder cannot be made)."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return _QuietCache(str(folder))


__all__ = ["bytecode_cache", "cache_folder"]
