"""The command line: `fou-review validate|allocate|run|verify ...` (also `python -m fou_review`).

Thin: it parses arguments, calls the library and prints. A user's mistake is one line on stderr and
exit code 2, never a traceback; a failed run (a notebook cell raised, or the record is frozen) exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fou_review.core.load import load_year
from fou_review.core.pipeline import review_inputs, review_year
from fou_review.errors import FouReviewError, InputError, RunError
from fou_review.record.decisions_file import write_decisions_csv
from fou_review.texts.money import format_kr


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
    r = sub.add_parser("run", help="kör notebooken med papermill och publicera reports/<år>/")
    r.add_argument("year", type=int)
    r.add_argument("--lang", choices=("sv", "en"), default="sv",
                   help="protokollets språk; en skrivs till reports/<år>/en/ (standard: sv)")
    r.add_argument("--supersede", action="store_true",
                   help="behåll det tidigare protokollet som reports/<år>/superseded/<n>/ och gör ett nytt")
    r.add_argument("--quiet", action="store_true", help="ingen förloppsindikator")
    c = sub.add_parser("verify", help="gör om protokollet och jämför det byte för byte med reports/<år>/")
    c.add_argument("year", type=int)
    c.add_argument("--lang", choices=("sv", "en"), default=None,
                   help="kontrollera bara detta språk (standard: alla publicerade)")
    c.add_argument("--quiet", action="store_true", help="ingen förloppsindikator")
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


def skip_unused_imports() -> None:
    """Keep jsonschema (imported by nbformat) from loading `rfc3987_syntax` in this process.

    jsonschema >= 4.25 registers an "iri" format checker from rfc3987_syntax, which builds an Earley
    parser at import: ~4 s of CPU here, for a format nbformat's schema never uses. Marking the module
    absent makes jsonschema skip that checker (it guards the import). Called by the `run`
    and `verify` commands before anything imports nbformat; the library itself never does this.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _run(root: Path, year: int, lang: str, supersede: bool, quiet: bool) -> int:
    skip_unused_imports()
    from fou_review.yearly.run import run_year

    outcome = run_year(root, year, lang, supersede=supersede, progress=not quiet)
    if outcome.superseded is not None:
        print(f"Det tidigare protokollet finns kvar i {outcome.superseded}.")
    print(f"Protokollet för {year} är publicerat i {outcome.target}.")
    return 0


def _verify(root: Path, year: int, lang: str | None, quiet: bool) -> int:
    skip_unused_imports()
    from fou_review.yearly.verify import languages_published, verify_year

    languages = [lang] if lang else languages_published(root, year) or ["sv"]
    differences = [d for code in languages for d in verify_year(root, year, code, progress=not quiet)]
    for d in differences:
        print(d, file=sys.stderr)
    if differences:
        print(f"{len(differences)} skillnad(er): protokollet för {year} kan inte göras om byte för byte.",
              file=sys.stderr)
        return 1
    print(f"Protokollet för {year} ({', '.join(languages)}) är identiskt med en ny körning.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args.root, args.year)
        if args.command == "allocate":
            return _allocate(args.root, args.year, args.csv)
        if args.command == "run":
            return _run(args.root, args.year, args.lang, args.supersede, args.quiet)
        if args.command == "verify":
            return _verify(args.root, args.year, args.lang, args.quiet)
    except RunError as exc:
        print(f"fou-review: {exc}", file=sys.stderr)
        return 1
    except FouReviewError as exc:
        print(f"fou-review: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"fou-review: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
