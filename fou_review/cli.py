"""The command line: `fou-review [--lang sv|en] validate|allocate|run|verify|compare ...` (also `python -m fou_review`).

Thin: it parses arguments, calls the library and prints. Every text it prints comes from the `cli`
message catalogue (errors from the error's own `message(lang)`), in the language of the global
`--lang` option (default sv); `run --lang` and `verify --lang` choose the language of the record.
A user's mistake is one line on stderr and exit code 2, never a traceback; a failed run (a notebook
cell raised, the record is frozen, it could not be published) exits 1 and names why.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from fou_review.core.load import YearInputs, load_year
from fou_review.core.pipeline import review_inputs, review_year
from fou_review.errors import FouReviewError, InputError, RunError
from fou_review.record.decisions_file import write_decisions_csv
from fou_review.texts.catalog import LANGS, format_kr, t

COMMANDS = ("validate", "allocate", "run", "verify", "compare", "new-year", "followup", "history")


def message_lang(argv: Sequence[str]) -> str:
    """The value of the global `--lang` (before the command) when valid, else "sv"."""
    args = list(argv)
    i = 0
    while i < len(args) and args[i] not in COMMANDS:
        arg = args[i]
        if arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
            return value if value in LANGS else "sv"
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1] if args[i + 1] in LANGS else "sv"
        i += 2 if arg == "--root" else 1
    return "sv"


def _parser(lang: str) -> argparse.ArgumentParser:
    def h(msgid: str) -> str:
        return t(lang, "cli", f"cli.help.{msgid}")

    p = argparse.ArgumentParser(prog="fou-review", description=t(lang, "cli", "cli.description"))
    p.add_argument("--lang", dest="ui_lang", choices=LANGS, default="sv", help=h("lang"))
    p.add_argument("--root", type=Path, default=Path("."), help=h("root"))
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help=h("validate"))
    v.add_argument("year", type=int, help=h("year"))
    a = sub.add_parser("allocate", help=h("allocate"))
    a.add_argument("year", type=int, help=h("year"))
    a.add_argument("--csv", type=Path, required=True, help=h("csv"))
    r = sub.add_parser("run", help=h("run"))
    r.add_argument("year", type=int, help=h("year"))
    r.add_argument("--lang", dest="record_lang", choices=LANGS, default="sv", help=h("run_lang"))
    r.add_argument("--supersede", action="store_true", help=h("supersede"))
    r.add_argument("--quiet", action="store_true", help=h("quiet"))
    c = sub.add_parser("verify", help=h("verify"))
    c.add_argument("year", type=int, help=h("year"))
    c.add_argument("--lang", dest="record_lang", choices=LANGS, default=None, help=h("verify_lang"))
    c.add_argument("--quiet", action="store_true", help=h("quiet"))
    _compare_parser(sub, h)
    _cycle_parsers(sub, h)
    _workbook_parser(sub, lang)
    return p


def _compare_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], h: Callable[[str], str]) -> None:
    w = sub.add_parser("compare", help=h("compare"))
    w.add_argument("year", type=int, help=h("year"))
    w.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE", help=h("set"))
    w.add_argument("--csv", type=Path, default=None, help=h("compare_csv"))


def _say(lang: str, msgid: str, /, *, err: bool = False, **values: object) -> None:
    print(t(lang, "cli", msgid, **values), file=sys.stderr if err else sys.stdout)


def _validate(root: Path, year: int, lang: str) -> int:
    try:
        inputs = load_year(root, year)
        review_inputs(inputs)
    except InputError as exc:
        for problem in exc.problems:
            print(problem.text(lang), file=sys.stderr)
        _say(lang, "validate.count", err=True, count=len(exc.problems), year=year)
        return 1
    _cycle_warnings(inputs, lang)
    _say(lang, "validate.ok", year=year)
    return 0


def _allocate(root: Path, year: int, csv_path: Path, lang: str) -> int:
    review = review_year(root, year)
    write_decisions_csv(review.decisions, csv_path)
    s = review.summary
    for f in s.funds:
        _say(lang, "allocate.fund", fund=f.fund, received_n=f.received_n, received=format_kr(f.received_kr),
             granted_n=f.granted_n, granted=format_kr(f.granted_kr), budget=format_kr(f.budget_kr))
    checks = t(lang, "cli", "allocate.checks_met" if s.all_met else "allocate.checks_unmet")
    _say(lang, "allocate.total", received=format_kr(s.received_kr), granted=format_kr(s.granted_kr), checks=checks,
         path=csv_path)
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


def _display(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def _run(root: Path, year: int, record_lang: str, supersede: bool, quiet: bool, lang: str) -> int:
    skip_unused_imports()
    from fou_review.yearly.run import run_year

    def waiting() -> None:
        _say(lang, "run.waiting", err=True, year=year)
        sys.stderr.flush()

    outcome = run_year(root, year, record_lang, supersede=supersede, progress=not quiet, on_wait=waiting)
    for path in outcome.removed:
        _say(lang, "run.removed_leftover", err=True, path=_display(root, path))
    for path in outcome.kept:
        _say(lang, "run.kept_leftover", err=True, path=_display(root, path))
    if outcome.superseded is not None:
        _say(lang, "run.superseded", path=_display(root, outcome.superseded))
    _say(lang, "run.published", year=year, path=_display(root, outcome.target))
    return 0


def _verify(root: Path, year: int, record_lang: str | None, quiet: bool, lang: str) -> int:
    skip_unused_imports()
    from fou_review.yearly.verify import languages_published, leftover_paths, verify_year

    for path in leftover_paths(root, year):
        _say(lang, "verify.leftover", err=True, path=path)
    languages = [record_lang] if record_lang else languages_published(root, year) or ["sv"]
    differences = [d for code in languages for d in verify_year(root, year, code, progress=not quiet)]
    for d in differences:
        print(d.text(lang), file=sys.stderr)
    if differences:
        _say(lang, "verify.count", err=True, count=len(differences), year=year)
        return 1
    _say(lang, "verify.ok", year=year, langs=", ".join(languages))
    return 0


def _compare(root: Path, year: int, settings: Sequence[str], csv_path: Path | None, lang: str) -> int:
    """`compare`: the allocation with `--set` changes against the computed one (gains and losses)."""
    import pandas as pd

    from fou_review.core.compare import CHANGE_COLUMNS
    from fou_review.core.whatif import baseline, parse_assignment, what_if
    from fou_review.record.decisions_file import decisions_to_csv_string

    bad = [text for text in settings if "=" not in text or not text.partition("=")[0].strip()]
    for text in bad:
        print(f"fou-review: {t(lang, 'cli', 'compare.bad_set', value=repr(text))}", file=sys.stderr)
    if bad:
        return 2
    try:
        changes = dict(parse_assignment(text) for text in settings)
        result = what_if(baseline(load_year(root, year)), changes)
    except InputError as exc:  # every bad key and value at once, each naming its key
        for problem in exc.problems:
            print(f"fou-review: {problem.text(lang)}", file=sys.stderr)
        return 2
    frame = result.frame(lang)
    _say(lang, "compare.heading", year=year, settings=", ".join(f"{k}={v}" for k, v in changes.items()) or "–")
    headings = [t(lang, "cli", f"compare.col.{c}") for c in CHANGE_COLUMNS]
    shown = [[str(v) if c in ("id", "fund", "applicants") else
              format_kr(int(v), "") if c.endswith("_kr") else "–" if v is pd.NA else str(v)
              for c, v in zip(CHANGE_COLUMNS, row, strict=True)] for row in frame.itertuples(index=False)]
    if not shown:
        _say(lang, "compare.none")
    else:
        numeric = [c.endswith("_kr") or c.startswith("rank") for c in CHANGE_COLUMNS]
        widths = [max([len(h)] + [len(r[i]) for r in shown]) for i, h in enumerate(headings)]
        for row in [headings, *shown]:
            cells = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(row, widths, numeric, strict=True)]
            print("  ".join(cells).rstrip())
    gains, losses = len(result.gains), len(result.losses)
    _say(lang, "compare.total", gains=gains, losses=losses, others=len(result.changes) - gains - losses,
         net=format_kr(sum(c.delta_kr for c in result.changes)))
    if csv_path is not None:
        from fou_review.atomic import write_atomic

        write_atomic(csv_path, decisions_to_csv_string(frame.set_axis(headings, axis=1), headings).encode("utf-8"))
        _say(lang, "compare.csv_written", path=csv_path)
    return 0


# -- The yearly cycle (issue 11): new-year, followup, history, and validate's warnings --


def _cycle_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], h: Callable[[str], str]) -> None:
    n = sub.add_parser("new-year", help=h("new_year"))
    n.add_argument("year", type=int, help=h("year"))
    n.add_argument("--call-only", action="store_true", help=h("call_only"))
    n.add_argument("--no-pdf", action="store_true", help=h("no_pdf"))
    f = sub.add_parser("followup", help=h("followup"))
    f.add_argument("year", type=int, help=h("year"))
    f.add_argument("--as-of", dest="as_of", default=None, metavar="YYYY-MM-DD", help=h("as_of"))
    y = sub.add_parser("history", help=h("history"))
    y.add_argument("year", type=int, help=h("history_year"))
    y.add_argument("--html", type=Path, default=None, help=h("history"))


def _cycle_warnings(inputs: YearInputs, lang: str) -> None:
    from fou_review.core.cycle import year_warnings

    rel = next((p.relative_to(p.parents[2]).as_posix() for p in inputs.files if p.stem == "applications"),
               "applications.csv")
    warnings = year_warnings(inputs.applications, inputs.params, rel)
    for problem in warnings:
        print(problem.text(lang), file=sys.stderr)
    if warnings:
        _say(lang, "validate.warnings", err=True, count=len(warnings), year=inputs.params.year)


def _new_year_command(args: argparse.Namespace, lang: str) -> int:
    from fou_review.yearly.new_year import new_year, write_call

    root: Path = args.root
    if args.call_only:
        for path in write_call(root, args.year, lang, pdf=not args.no_pdf):
            _say(lang, "newyear.written", path=_display(root, path))
        return 0
    made = new_year(root, args.year, lang, pdf=not args.no_pdf)
    for path in made.written:
        _say(lang, "newyear.written", path=_display(root, path))
    _say(lang, "newyear.administrations", year=made.year, names=", ".join(made.administrations))
    for item in made.confirm:
        _say(lang, "newyear.confirm", item=item.text(lang))
    return 0


def _followup_command(args: argparse.Namespace, lang: str) -> int:
    import datetime as dt

    from fou_review.yearly.followup_report import followup_report, rows

    root: Path = args.root
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    except ValueError:
        _say(lang, "followup.bad_date", err=True, value=repr(args.as_of))
        return 2
    report = followup_report(root, args.year, as_of, lang)
    for o, cells in zip(report.owed, rows(report.owed, as_of, lang), strict=True):
        _say(lang, "followup.line", id=o.grant_id, applicants=cells[2], owes=cells[3],
             amount=f" {format_kr(o.amount_kr)}" if o.amount_kr else "", due=cells[5],
             overdue=t(lang, "cli", "followup.overdue_mark") if o.overdue(as_of) else "")
    overdue = sum(o.overdue(as_of) for o in report.owed)
    if report.owed:
        _say(lang, "followup.summary", n=len(report.owed), year=args.year, as_of=as_of.isoformat(), overdue=overdue)
    else:
        _say(lang, "followup.none", year=args.year, as_of=as_of.isoformat())
    for path in report.written:
        _say(lang, "newyear.written", path=_display(root, path))
    return 0


def _history_command(args: argparse.Namespace, lang: str) -> int:
    from fou_review.core.cycle import history
    from fou_review.record.cycle_pages import render_history_page

    root: Path = args.root
    h = history(root, args.year)
    for year, fund, applied, granted_n, granted in h.per_year:
        _say(lang, "history.line", year=year, fund=fund, applications=applied, granted_n=granted_n,
             granted=format_kr(granted))
    if args.html is not None:
        from fou_review.atomic import write_atomic

        write_atomic(args.html, render_history_page(h, lang).encode("utf-8"))
        _say(lang, "newyear.written", path=_display(root, args.html))
    return 0


# -- The analysts' workbook (issue 9) --


def _workbook_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], lang: str) -> None:
    def h(msgid: str) -> str:
        return t(lang, "workbook", f"workbook.help.{msgid}")

    b = sub.add_parser("workbook", help=h("command"))
    b.add_argument("year", type=int, help=t(lang, "cli", "cli.help.year"))
    b.add_argument("--lang", dest="record_lang", choices=LANGS, default="sv", help=h("lang"))
    b.add_argument("--fresh", action="store_true", help=h("fresh"))


def _workbook(root: Path, year: int, record_lang: str, fresh: bool, lang: str) -> int:
    skip_unused_imports()
    from fou_review.yearly.workbook_copy import lab_command, make_workbook

    made = make_workbook(root, year, record_lang, fresh=fresh)
    path = _display(root, made.path)
    if not made.made:
        print(t(lang, "workbook", "workbook.exists", path=path))
    print(t(lang, "workbook", "workbook.made", year=year, path=path))
    print(t(lang, "workbook", "workbook.start"))
    print(f"  {lab_command(made.path)}")
    print(t(lang, "workbook", "workbook.root_hint"))
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a run like Ctrl-C: clean-up code runs, nothing half-published


def _run_command(args: argparse.Namespace, lang: str) -> int:
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    try:
        return _run(args.root, args.year, args.record_lang, args.supersede, args.quiet, lang)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


_DISPATCH: dict[str, Callable[[argparse.Namespace, str], int]] = {
    "validate": lambda a, lang: _validate(a.root, a.year, lang),
    "allocate": lambda a, lang: _allocate(a.root, a.year, a.csv, lang),
    "run": _run_command,
    "verify": lambda a, lang: _verify(a.root, a.year, a.record_lang, a.quiet, lang),
    "compare": lambda a, lang: _compare(a.root, a.year, a.settings, a.csv, lang),
    "new-year": _new_year_command,
    "followup": _followup_command,
    "history": _history_command,
    "workbook": lambda a, lang: _workbook(a.root, a.year, a.record_lang, a.fresh, lang),
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 a failed run or check, 2 a mistake)."""
    argv = sys.argv[1:] if argv is None else argv
    lang = message_lang(argv)
    args = _parser(lang).parse_args(argv)
    lang = args.ui_lang
    command = _DISPATCH.get(args.command)
    if command is None:
        return 2
    try:
        return command(args, lang)
    except RunError as exc:
        print(f"fou-review: {exc.message(lang)}", file=sys.stderr)
        return 1
    except FouReviewError as exc:
        print(f"fou-review: {exc.message(lang)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"fou-review: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _say(lang, "cli.interrupted", err=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
