"""Compile the message catalogues: every texts/locale/<lang>/LC_MESSAGES/<domain>.po to its .mo.

    .venv/bin/python scripts/catalogs.py           compile (run after editing a .po file)
    .venv/bin/python scripts/catalogs.py --check   exit 1 if a .mo is missing or out of date

The .mo files are committed so that an installed package needs no build step; a test runs --check.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LOCALE = Path(__file__).resolve().parent.parent / "fou_review" / "texts" / "locale"


def compiled(po: Path) -> bytes:
    """The .mo bytes of one .po file (Babel writes them deterministically)."""
    with po.open("rb") as handle:
        catalogue = read_po(handle, locale=po.parent.parent.name, domain=po.stem)
    # Babel stamps a header without dates with the time of reading: fix them, so the same .po
    # always gives the same bytes.
    catalogue.creation_date = catalogue.revision_date = EPOCH
    out = io.BytesIO()
    write_mo(out, catalogue, use_fuzzy=False)
    return out.getvalue()


def main(argv: list[str]) -> int:
    """Compile (or with --check only compare) every catalogue; 1 when --check finds a stale .mo."""
    check = "--check" in argv
    stale = []
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        data = compiled(po)
        if mo.exists() and mo.read_bytes() == data:
            continue
        if check:
            stale.append(str(mo))
        else:
            mo.write_bytes(data)
            print(f"compiled {mo}")
    for path in stale:
        print(f"out of date: {path} (run: python scripts/catalogs.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
