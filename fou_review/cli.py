"""The command line: `fou-review validate|allocate ...` (also `python -m fou_review`).

Thin: it parses arguments, calls the library and prints. A user's mistake is one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import FouReviewError, InputError
from .export import write_decisions_csv
from .load import load_year
from .money import format_kr
from .pipeline import review_inputs, review_year


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fou-review", description="Granska och fördela FoU-medel (LUM och MUL).")
    p.add_argument("--root", type=Path, default=Path("."),
                   help="projektets rotmapp med params/ och data/ (standard: aktuell mapp)")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="lista alla problem i ett års indata")
    v.add_argument("year", type=int)
    a = sub.add_parser("allocate", help="fördela medlen och skriv beslutstabellen")
    a.add_argument("year", type=int)
    a.add_argument("--csv", type=Path, required=True, help="var beslutstabellen (CSV) ska skrivas")
    return p


def _validate(root: Path, year: int) -> int:
    try:
        review_inputs(load_year(root, year))
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem i indata för {year}.", file=sys.stderr)
        return 1
    print(f"Indata för {year} är giltiga.")
    return 0


def _allocate(root: Path, year: int, csv_path: Path) -> int:
    review = review_year(root, year)
    write_decisions_csv(review.decisions, csv_path)
    s = review.summary
    for f in s.funds:
        print(f"{f.fund}: {f.received_n} ansökningar, {format_kr(f.received_kr)} sökt; "
              f"{f.granted_n} beviljas, {format_kr(f.granted_kr)} av budgeten {format_kr(f.budget_kr)}")
    print(f"Totalt: {format_kr(s.received_kr)} sökt, {format_kr(s.granted_kr)} föreslås. "
          f"Kontroller: {'alla uppfyllda' if s.all_met else 'EJ UPPFYLLDA'}. Beslut: {csv_path}")
    return 0 if s.all_met else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args.root, args.year)
        if args.command == "allocate":
            return _allocate(args.root, args.year, args.csv)
    except FouReviewError as exc:
        print(f"fou-review: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"fou-review: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
