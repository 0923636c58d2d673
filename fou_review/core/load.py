"""Loading and validating one year's inputs: the only stage that reads files.

    data/<year>/applications.csv (or .xlsx)   one row per received application
    data/<year>/scores/<reviewer>.csv         one file per reviewer
    data/<year>/conflicts.csv                 declared conflicts of interest (optional)
    data/<year>/overrides.yaml                committee decisions departing from the computation (optional)

Each parser collects every problem it finds (file, row, column, what was expected) and raises one
`InputError` listing them all, so `fou-review validate` can show everything at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict

from fou_review.core.followup import Grant, Ledger, parse_followup
from fou_review.core.model import Override
from fou_review.core.params import (
    Params,
    is_known_name,
    params_path,
    parse_params_from_string,
    renamed_before,
    resolve_name,
)
from fou_review.core.tables import (
    Table,
    parse_csv_from_string,
    read_table,
    read_text,
    recorded_reads,
    require_columns,
)
from fou_review.core.yamlinput import fail, parse_yaml, validate
from fou_review.errors import InputError, Msg, Problem

APPLICATION_COLUMNS = ("id", "fund", "applicants", "title", "requested_kr", "received", "last_report", "source")
APPLICATION_OPTIONAL = ("purpose", "project_year", "planned_years", "contact_person", "illustrative_fields",
                        "continues")
REPORT_STATUSES = ("godkänd", "ej godkänd", "ej inkommen", "ej aktuell")  # "ej aktuell": no grant last year
SOURCES = ("published", "illustrative")
SCORE_COLUMNS = ("application_id", "criterion", "score")
SCORE_OPTIONAL = ("comment", "source")
CONFLICT_COLUMNS = ("reviewer", "application_id")
CONFLICT_OPTIONAL = ("reason", "source")
_INT = re.compile(r"^[0-9]+$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class YearInputs:
    """A year's validated inputs: parameters, applications, scores, conflicts, overrides, and the files read."""

    params: Params
    applications: pd.DataFrame
    scores: pd.DataFrame  # reviewer, application_id, criterion (categorical), score, comment
    conflicts: pd.DataFrame  # reviewer, application_id, reason
    overrides: tuple[Override, ...]
    files: tuple[Path, ...] = field(default=())  # every file read, for the manifest
    # The decisions of every earlier year under the root (year, decisions, illustrative), for the record's
    # year-over-year section (`core.cycle.history_from`); empty for a first year.
    earlier: tuple[tuple[int, pd.DataFrame, bool], ...] = field(default=())
    # The year's own follow-up ledger `data/<year>/followup.csv` as read, when there is one; checked against
    # the year's grants once they are decided (`pipeline.review_inputs`), published in the record's data/.
    followup: Table | None = None
    # Each score file's (inode, mtime in ns, size) just before it was read, by reviewer: a reader of the same
    # files later (the workbook's live preview) reads again only those whose stamp has changed since.
    score_stamps: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)
    # The SHA-256 (hex) of the bytes parsed of every file read, by its path relative to the root (as the manifest
    # names it; `tables.recorded_reads`): what these inputs are the reading of (`fou-review run` hands its
    # validated review to the kernel only when the snapshot's files have these digests).
    digests: Mapping[str, str] = field(default_factory=dict)


def _whole_kronor(text: str) -> int | None:
    cleaned = text.replace("\u00a0", "").replace(" ", "").removesuffix("kr").strip()
    return int(cleaned) if _INT.match(cleaned) else None


def _suggest(name: str, params: Params) -> Msg:
    known = list(params.administrations) + [a.old for a in params.aliases]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return Msg.of("apps.did_you_mean", name=repr(close[0]))
    return Msg.of("apps.valid_names", names=", ".join(params.administrations))


def split_applicants(text: str) -> tuple[str, ...]:
    """"Rinkeby-Kista & Spånga-Tensta" -> ("Rinkeby-Kista", "Spånga-Tensta")."""
    return tuple(filter(None, map(str.strip, text.split("&"))))


_Bad = Callable[..., None]  # bad(row, column, msgid, **values): note a problem in a cell


def _check_id(row: int, app_id: str, first_row: dict[str, int], bad: _Bad) -> None:
    """An id is a plain code (letters, digits, ".", "_", "-") and unique in the file."""
    if not _ID.match(app_id):
        bad(row, "id", "apps.bad_id", value=repr(app_id))
    elif app_id in first_row:
        bad(row, "id", "apps.id_twice", id=repr(app_id), first=first_row[app_id])
    else:
        first_row[app_id] = row


def _check_applicants(row: int, v: Mapping[str, str], params: Params, bad: _Bad) -> tuple[str, ...]:
    """The applicants' names, each read at the received date (a merged name as its successor)."""
    try:
        received_on: dt.date | None = dt.date.fromisoformat(v["received"])
    except ValueError:
        received_on = None
    names = split_applicants(v["applicants"])
    if not names:
        bad(row, "applicants", "apps.no_applicant")
    resolved: list[str] = []
    for name in names:
        if not is_known_name(params, name):
            bad(row, "applicants", "apps.unknown_applicant", name=repr(name), hint=_suggest(name, params))
        merged = renamed_before(params, name, received_on) if received_on is not None else None
        if merged is not None and params.cycle.predecessor_names == "reject":
            bad(row, "applicants", "apps.predecessor_name", name=repr(name), new=repr(merged.new),
                since=merged.valid_from.isoformat())
        resolved.append(resolve_name(params, name) or name)
    if len(set(resolved)) < len(resolved):
        twice = sorted({r for r in resolved if resolved.count(r) > 1})
        if set(names) & set(resolved) == set(names):
            bad(row, "applicants", "apps.applicant_twice")
        else:  # two names that became one administration ("Rinkeby-Kista & Spånga-Tensta" -> Järva)
            bad(row, "applicants", "apps.applicant_twice_merged", name=repr(twice[0]),
                names=" & ".join(repr(n) for n in names))
    return tuple(resolved)


def _check_requested(row: int, text: str, bad: _Bad) -> int | None:
    """The requested amount: whole, positive kronor."""
    amount = _whole_kronor(text)
    if amount is None and _whole_kronor(text.lstrip("-\u2212")) is not None:
        bad(row, "requested_kr", "apps.amount_positive", value=repr(text))
    elif amount is None:
        bad(row, "requested_kr", "apps.amount_whole", value=repr(text))
    elif amount <= 0:
        bad(row, "requested_kr", "apps.amount_positive", value=repr(text))
    return amount


def _check_received(row: int, text: str, bad: _Bad) -> str:
    """The received date as an ISO date ("" when it is not one)."""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        bad(row, "received", "expected.date", value=repr(text))
        return ""


def _check_last_report(row: int, v: Mapping[str, str], ledger: bool, bad: _Bad) -> None:
    """A report status, or empty when the previous year's follow-up ledger gives it."""
    if ledger and not v.get("last_report", ""):
        return  # derived from the previous year's follow-up ledger
    if v.get("last_report", "") not in REPORT_STATUSES:
        bad(row, "last_report", "expected.one_of", choices=", ".join(REPORT_STATUSES),
            value=repr(v.get("last_report", "")))


def _check_years(row: int, v: Mapping[str, str], fund: str, params: Params, bad: _Bad) -> dict[str, int | None]:
    """The project's current and planned years: positive integers, required when the fund caps the years."""
    years: dict[str, int | None] = {}
    for col in ("project_year", "planned_years"):
        text = v.get(col, "")
        years[col] = int(text) if _INT.match(text) and int(text) > 0 else None
        if text and years[col] is None:
            bad(row, col, "apps.positive_int", value=repr(text))
    if fund in params.funds and params.funds[fund].max_project_years is not None:
        for col in ("project_year", "planned_years"):
            if years[col] is None and not v.get(col, ""):
                bad(row, col, "apps.years_required", fund=fund)
    return years


def parse_applications(table: Table, params: Params, *, ledger: bool = False) -> pd.DataFrame:
    """Validate the applications table and return one typed row per application.

    Each name is read at the application's received date: a name already merged into another
    administration then (the dated alias map) is read as its successor or refused with the
    successor's name, as the year's `predecessor_names` says; the name as written is kept in
    `applicants_as_written`. With `ledger` (the previous year's follow-up ledger is known), the
    `last_report` column may be left out or empty: it is derived from the ledger.
    """
    required = tuple(c for c in APPLICATION_COLUMNS if not (ledger and c == "last_report"))
    problems = require_columns(table, required, APPLICATION_OPTIONAL + (("last_report",) if ledger else ()))
    if problems:
        raise InputError(problems)
    frame = _valid_applications(table, params, ledger)
    if frame is not None:
        return frame
    out: list[dict[str, object]] = []
    first_row: dict[str, int] = {}
    f = table.file

    def bad(row: int, column: str, msgid: str, **values: str | int | Msg) -> None:
        problems.append(Problem(f, row=row, column=column, msg=Msg.with_values(msgid, values)))

    for row, v in table.rows:
        app_id = v["id"]
        _check_id(row, app_id, first_row, bad)
        fund = v["fund"]
        if fund not in params.funds:
            bad(row, "fund", "apps.unknown_fund", fund=repr(fund), funds=", ".join(params.funds))
        resolved = _check_applicants(row, v, params, bad)
        if not v["title"].strip():
            bad(row, "title", "apps.no_title")
        amount = _check_requested(row, v["requested_kr"], bad)
        received = _check_received(row, v["received"], bad)
        _check_last_report(row, v, ledger, bad)
        if v["source"] not in SOURCES:
            bad(row, "source", "apps.source", value=repr(v["source"]))
        years = _check_years(row, v, fund, params, bad)
        out.append({
            "id": app_id, "fund": fund, "applicants": resolved, "applicants_as_written": v["applicants"],
            "title": v["title"], "requested_kr": amount or 0, "received": received,
            "purpose": v.get("purpose", ""), "project_year": years["project_year"],
            "planned_years": years["planned_years"], "last_report": v.get("last_report", ""),
            "continues": v.get("continues", ""),
            "contact_person": v.get("contact_person", ""), "source": v["source"],
            "illustrative_fields": v.get("illustrative_fields", ""), "row": row,
        })
    if not out and not problems:
        problems.append(Problem.of(f, "apps.none"))
    if problems:
        raise InputError(problems)
    return _typed_applications(pd.DataFrame(out))


def _typed_applications(frame: pd.DataFrame) -> pd.DataFrame:
    frame["requested_kr"] = frame["requested_kr"].astype("int64")
    for col in ("project_year", "planned_years"):
        frame[col] = frame[col].astype("Int64")
    return frame


def _valid_applications(table: Table, params: Params, ledger: bool) -> pd.DataFrame | None:
    """`parse_applications`' frame checked a column, or a distinct value, at a time.

    None when some cell is wrong: the caller's row-by-row checks then name each problem. The checks
    are the same functions, applied once per distinct value (per distinct cells where a check reads
    several), so a table they accept gives the frame the row-by-row reading gives.
    """
    col = table.column
    ids, funds, years = col("id"), col("fund"), tuple(zip(col("fund"), col("project_year"), col("planned_years")))
    reports = set(REPORT_STATUSES) | ({""} if ledger else set())
    if not (ids and all(map(_ID.match, ids)) and len(set(ids)) == len(ids) and set(params.funds).issuperset(funds)
            and all(map(str.strip, col("title"))) and set(SOURCES).issuperset(col("source"))
            and reports.issuperset(col("last_report"))):
        return None
    failed: list[bool] = []

    def bad(*_where: object, **_values: object) -> None:
        failed.append(True)

    amounts = {text: _check_requested(0, text, bad) or 0 for text in set(col("requested_kr"))}
    received = {text: _check_received(0, text, bad) for text in set(col("received"))}
    year_values = {key: _check_years(0, {"project_year": key[1], "planned_years": key[2]}, key[0], params, bad)
                   for key in set(years)}
    applicants = _applicants_column(table, params, bad)
    if failed:
        return None
    project_year, planned_years = ({key: values[c] for key, values in year_values.items()}
                                   for c in ("project_year", "planned_years"))
    return _typed_applications(pd.DataFrame({
        "id": ids, "fund": funds, "applicants": applicants, "applicants_as_written": col("applicants"),
        "title": col("title"), "requested_kr": list(map(amounts.__getitem__, col("requested_kr"))),
        "received": list(map(received.__getitem__, col("received"))), "purpose": col("purpose"),
        "project_year": list(map(project_year.__getitem__, years)),
        "planned_years": list(map(planned_years.__getitem__, years)), "last_report": col("last_report"),
        "continues": col("continues"), "contact_person": col("contact_person"), "source": col("source"),
        "illustrative_fields": col("illustrative_fields"), "row": table.row_numbers,
    }))


def _applicants_column(table: Table, params: Params, bad: _Bad) -> list[tuple[str, ...]]:
    """Each row's applicants as `_check_applicants` reads them, read once per distinct cell where the
    received date cannot matter (no name in it was ever merged into another)."""
    merged_names = {a.old for a in params.aliases}
    texts, dates = table.column("applicants"), table.column("received")
    known = {text: _check_applicants(0, {"applicants": text, "received": received}, params, bad)
             for text, received in dict(zip(texts, dates, strict=True)).items()
             if merged_names.isdisjoint(split_applicants(text))}
    if len(known) == len(set(texts)):
        return list(map(known.__getitem__, texts))
    return [known[text] if text in known else
            _check_applicants(0, {"applicants": text, "received": received}, params, bad)
            for text, received in zip(texts, dates, strict=True)]


def parse_applications_from_string(text: str, params: Params, file: str = "applications.csv") -> pd.DataFrame:
    """Validate applications given as CSV text (pure: reads no file)."""
    return parse_applications(parse_csv_from_string(text, file), params)


def parse_scores(table: Table, reviewer: str, params: Params, app_ids: set[str]) -> pd.DataFrame:
    """One reviewer's scores: a score per application and criterion (empty = not yet scored)."""
    read = _read_scores(table, reviewer, params, {a: i for i, a in enumerate(app_ids)})
    return read.frame() if isinstance(read, _ScoreCodes) else read


def _read_scores(table: Table, reviewer: str, params: Params,
                 app_codes: Mapping[str, int]) -> _ScoreCodes | pd.DataFrame:
    """A score file read a column at a time against the ids `app_codes` (id -> its position), or, when that
    finds a problem, row by row (`parse_scores`' frame, or an InputError naming each problem)."""
    _check_score_file(table, reviewer, params)
    codes = _score_codes(table, reviewer, params.criterion_codes(), (params.scale.minimum, params.scale.maximum),
                         app_codes)
    return codes if codes is not None else _scores_row_by_row(table, reviewer, params, set(app_codes))


def _check_score_file(table: Table, reviewer: str, params: Params) -> None:
    """A score file's columns and reviewer (an InputError naming each problem)."""
    problems = require_columns(table, SCORE_COLUMNS, SCORE_OPTIONAL)
    if reviewer not in params.reviewers:
        problems.append(Problem.of(table.file, "scores.unknown_reviewer", reviewer=repr(reviewer),
                                   reviewers=", ".join(params.reviewers)))
    if problems:
        raise InputError(problems)


def _scores_row_by_row(table: Table, reviewer: str, params: Params, app_ids: set[str]) -> pd.DataFrame:
    """`parse_scores`' frame read a row at a time, naming each problem of a row."""
    criteria = params.criterion_codes()
    lo, hi = params.scale.minimum, params.scale.maximum
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    out: list[tuple[str, str, str, int, str]] = []
    for row, v in table.rows:
        app, crit, text = v["application_id"], v["criterion"], v["score"]
        if app not in app_ids:
            problems.append(Problem.of(table.file, "scores.unknown_application", row=row, column="application_id",
                                       id=repr(app)))
        if crit not in criteria:
            problems.append(Problem.of(table.file, "scores.unknown_criterion", row=row, column="criterion",
                                       criterion=repr(crit), criteria=", ".join(criteria)))
        if (app, crit) in seen:
            problems.append(Problem.of(table.file, "scores.twice", row=row, column="criterion", id=app,
                                       criterion=crit, first=seen[(app, crit)]))
        seen[(app, crit)] = row
        if not text:
            continue  # not yet scored
        if not _INT.match(text) or not lo <= int(text) <= hi:
            problems.append(Problem.of(table.file, "scores.grade", row=row, column="score", lo=lo, hi=hi,
                                       value=repr(text)))
            continue
        out.append((reviewer, app, crit, int(text), v.get("comment", "")))
    if problems:
        raise InputError(problems)
    return pd.DataFrame(out, columns=["reviewer", "application_id", "criterion", "score", "comment"]).astype(
        {"score": "int64"})


@dataclass(frozen=True)
class _ScoreCodes:
    """A valid score file's rows with a score, read a column at a time: each row's application and criterion by
    its position among the ids and criteria it was checked against (`_score_codes`)."""

    table: Table
    reviewer: str
    kept: np.ndarray | None  # the positions of the rows with a score in the table (None: every row)
    applications: np.ndarray  # intp, by row kept
    criteria: np.ndarray  # intp
    scores: np.ndarray  # int64

    def column(self, name: str) -> tuple[str, ...]:
        """The cells of column `name` of the rows kept."""
        cells = self.table.column(name)
        return cells if self.kept is None else tuple([cells[i] for i in self.kept.tolist()])

    def frame(self) -> pd.DataFrame:
        """`parse_scores`' frame of these rows."""
        if not len(self.scores):  # as the row-wise reading makes it (no column's type inferred from its values)
            return pd.DataFrame([], columns=["reviewer", "application_id", "criterion", "score", "comment"]).astype(
                {"score": "int64"})
        return pd.DataFrame({"reviewer": [self.reviewer] * len(self.scores),
                             "application_id": self.column("application_id"), "criterion": self.column("criterion"),
                             "score": self.scores, "comment": self.column("comment")})


def _score_codes(table: Table, reviewer: str, criteria: tuple[str, ...], scale: tuple[int, int],
                 app_codes: Mapping[str, int]) -> _ScoreCodes | None:
    """A score file checked a column at a time against the ids `app_codes` (id -> its position); None when some
    cell is wrong (`_scores_row_by_row` then names it)."""
    apps, crits, texts = table.column("application_id"), table.column("criterion"), table.column("score")
    distinct = set(texts)
    grades = {text: int(text) for text in distinct if _INT.match(text) and len(text) < 10}
    if not all(text in grades and scale[0] <= grades[text] <= scale[1] for text in distinct - {""}):
        return None
    n = len(texts)
    try:
        app_index = np.fromiter(map(app_codes.__getitem__, apps), dtype=np.intp, count=n)
        crit_index = np.fromiter(map({c: i for i, c in enumerate(criteria)}.__getitem__, crits), dtype=np.intp,
                                 count=n)
    except KeyError:
        return None  # an unknown application or criterion
    if n and np.bincount(app_index * len(criteria) + crit_index).max() > 1:  # an (application, criterion) twice
        return None
    scores = np.fromiter(map((grades | {"": -1}).__getitem__, texts), dtype=np.int64, count=n)
    if "" not in distinct:
        return _ScoreCodes(table, reviewer, None, app_index, crit_index, scores)
    kept = np.flatnonzero(scores >= 0)  # not yet scored: no row
    return _ScoreCodes(table, reviewer, kept, app_index[kept], crit_index[kept], scores[kept])


def parse_conflicts(table: Table, params: Params, app_ids: set[str]) -> pd.DataFrame:
    """The declared conflicts of interest: each names a known reviewer and application, with an optional reason."""
    problems = require_columns(table, CONFLICT_COLUMNS, CONFLICT_OPTIONAL)
    if problems:
        raise InputError(problems)
    out = []
    for row, v in table.rows:
        if v["reviewer"] not in params.reviewers:
            problems.append(Problem.of(table.file, "conflicts.unknown_reviewer", row=row, column="reviewer",
                                       reviewer=repr(v["reviewer"])))
        if v["application_id"] not in app_ids:
            problems.append(Problem.of(table.file, "conflicts.unknown_application", row=row,
                                       column="application_id", id=repr(v["application_id"])))
        out.append((v["reviewer"], v["application_id"], v.get("reason", "")))
    if problems:
        raise InputError(problems)
    return pd.DataFrame(out, columns=["reviewer", "application_id", "reason"])


class _OverrideModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    id: str
    granted_kr: int
    reason: str


def _override_list(value: object) -> object:
    if not isinstance(value, list):
        raise fail("overrides.expected")
    return value


class OverridesModel(BaseModel):
    """The schema of `data/<year>/overrides.yaml`: `overrides: [{id, granted_kr, reason}]`."""

    model_config = ConfigDict(strict=True, extra="forbid")

    overrides: Annotated[list[_OverrideModel], BeforeValidator(_override_list)]


def parse_overrides_from_string(text: str, file: str, apps: pd.DataFrame) -> tuple[Override, ...]:
    """`overrides: [{id, granted_kr, reason}]`: each departure from the computation, with its reason.

    Pure (reads no file). `apps` has the year's `id` and `requested_kr`: an override names a known
    application and grants 0 to the amount requested, with a written reason.
    """
    doc = parse_yaml(text, file)
    if doc.data is None:
        return ()
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem([], "overrides.expected")])
    model = validate(doc, OverridesModel)
    known = dict(zip(apps["id"], apps["requested_kr"], strict=True))
    problems: list[Problem] = []
    out: list[Override] = []
    for i, item in enumerate(model.overrides):
        app, amount, reason = item.id, item.granted_kr, item.reason
        if app not in known:
            problems.append(doc.problem(["overrides", i, "id"], "overrides.unknown_application", id=repr(app)))
        elif not 0 <= amount <= known[app]:
            problems.append(doc.problem(["overrides", i, "granted_kr"], "overrides.amount", most=int(known[app]),
                                        value=repr(amount)))
        elif len(reason.strip()) < 10:
            problems.append(doc.problem(["overrides", i, "reason"], "overrides.reason"))
        elif any(o.id == app for o in out):
            problems.append(doc.problem(["overrides", i, "id"], "overrides.twice", id=app))
        else:
            out.append(Override(app, amount, reason.strip()))
    if problems:
        raise InputError(problems)
    return tuple(out)


def data_dir(root: Path, year: int) -> Path:
    """The year's input folder `data/<year>/` under the project root."""
    return root / "data" / str(year)


Stamp = tuple[int, int, int]  # (inode, mtime in ns, size): every save replaces the file, so a new inode


def file_stamp(path: Path) -> Stamp | None:
    """The file's identity on disk now, or None when it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def score_path(root: Path, year: int, reviewer: str) -> Path:
    """The reviewer's score file."""
    return data_dir(Path(root), year) / "scores" / f"{reviewer}.csv"


def applications_path(root: Path, year: int) -> Path:
    """applications.csv, or applications.xlsx; both at once is ambiguous."""
    base = data_dir(root, year)
    found = [p for p in (base / "applications.csv", base / "applications.xlsx") if p.exists()]
    rel = f"data/{year}/applications.csv"
    if not found:
        raise InputError([Problem.of(rel, "apps.missing")])
    if len(found) > 1:
        raise InputError([Problem.of(rel, "apps.both")])
    return found[0]


def _readable_requests(table: Table | None) -> dict[str, int]:
    """The ids (and requested amounts, when readable) of an applications table that has problems.

    Lets `load_year` go on checking scores, conflicts and overrides against the ids it could read,
    so one run of `fou-review validate` lists the problems of every file.
    """
    if table is None:
        return {}
    return {v["id"]: _whole_kronor(v.get("requested_kr", "")) or 2**62 for _, v in table.rows if v["id"]}


def load_params(root: Path, year: int) -> Params:
    """Read `params/<year>.yaml` under the project root and parse it (its `year:` must be `year`)."""
    path = params_path(Path(root), year)
    rel = f"params/{year}.yaml"
    if not path.is_file():
        raise InputError([Problem.of(rel, "params.missing", root=str(root))])
    return parse_params_from_string(read_text(path, rel), rel, year=year)


def _load_applications(root: Path, year: int, params: Params, app_path: Path, problems: list[Problem]
                       ) -> tuple[Table | None, pd.DataFrame | None, tuple[Path, ...]]:
    """The applications table as read, the applications (None when invalid) and the ledger files read.

    The cycle's checks (the gating follow-up ledger, continuations) run here too; problems are added
    to `problems`.
    """
    rel = app_path.relative_to(root).as_posix()
    table: Table | None = None
    apps: pd.DataFrame | None = None
    try:
        table = read_table(app_path, rel)
        from fou_review.core.cycle import (  # reviews earlier years
            all_outside_window,
            apply_cycle,
            gating_ledger,
        )

        ledger = gating_ledger(root, year, params)
        # checked on the cells as written (each distinct pair once: the answer is the same): a stale copy stops here
        written = pd.DataFrame(sorted(set(zip(table.column("fund"), table.column("received")))),
                               columns=["fund", "received"])
        if all_outside_window(written, params):
            problems.append(Problem.of(rel, "apps.all_outside_window", year=year))
        apps = parse_applications(table, params, ledger=ledger is not None)
        cycle = apply_cycle(root, year, params, apps, rel, ledger)
        problems += cycle.problems
        return table, cycle.applications, cycle.files
    except InputError as exc:
        problems += exc.problems
        return table, apps, ()


def _load_scores(root: Path, year: int, params: Params, app_codes: Mapping[str, int], files: list[Path],
                 problems: list[Problem], stamps: dict[str, Stamp]) -> list[_ScoreCodes | pd.DataFrame]:
    """Every reviewer's score file under `data/<year>/scores/` (added to `files`, its stamp before reading to
    `stamps`; problems to `problems`): each read a column at a time against the ids `app_codes` (id -> its
    position), or, when that finds a problem, as `parse_scores` reads it (`_read_scores`)."""
    read: list[_ScoreCodes | pd.DataFrame] = []
    score_dir = data_dir(root, year) / "scores"
    for path in sorted(score_dir.glob("*.csv")) if score_dir.is_dir() else []:
        files.append(path)
        try:
            stamp = file_stamp(path)
        except OSError:
            stamp = None  # not readable either: read_table names the problem
        if stamp is not None:
            stamps[path.stem] = stamp
        try:
            read.append(_read_scores(read_table(path, path.relative_to(root).as_posix()), path.stem, params,
                                     app_codes))
        except InputError as exc:
            problems += exc.problems
    return read


def _scores_frame(read: list[_ScoreCodes | pd.DataFrame], params: Params, app_ids: list[str]) -> pd.DataFrame:
    """The year's scores: every file's rows in turn, with categorical keys (scoring then maps them by category,
    not by hashing every row's text). `app_ids`: the applications' ids in their order, the positions the files
    were read against. Made from the positions themselves when every file was read a column at a time."""
    reviewers, criteria = list(params.reviewers), list(params.criterion_codes())
    if not read or not all(isinstance(r, _ScoreCodes) and len(r.scores) for r in read):
        frames = [r.frame() if isinstance(r, _ScoreCodes) else r for r in read]
        scores = (pd.concat(frames, ignore_index=True) if frames else
                  pd.DataFrame({"reviewer": [], "application_id": [], "criterion": [], "score": [], "comment": []})
                  .astype({"score": "int64"}))
        return scores.assign(reviewer=pd.Categorical(scores["reviewer"], categories=reviewers),
                             application_id=pd.Categorical(scores["application_id"], categories=app_ids),
                             criterion=pd.Categorical(scores["criterion"], categories=criteria))
    coded = [r for r in read if isinstance(r, _ScoreCodes)]
    sizes = [len(r.scores) for r in coded]
    return pd.DataFrame({
        "reviewer": pd.Categorical.from_codes(np.repeat([reviewers.index(r.reviewer) for r in coded], sizes),
                                              categories=reviewers),
        "application_id": pd.Categorical.from_codes(np.concatenate([r.applications for r in coded]),
                                                    categories=app_ids),
        "criterion": pd.Categorical.from_codes(np.concatenate([r.criteria for r in coded]), categories=criteria),
        "score": np.concatenate([r.scores for r in coded]),
        "comment": list(chain.from_iterable(r.column("comment") for r in coded)),
    })


def load_year(root: Path, year: int) -> YearInputs:
    """Load and validate every input of a year; raise one InputError listing all problems."""
    with recorded_reads() as digests:
        return _load_year(Path(root), year, digests)


def _load_year(root: Path, year: int, digests: Mapping[str, str]) -> YearInputs:
    """`load_year`, within the recording of what it reads (`digests`, complete once every file is read)."""
    params = load_params(root, year)
    app_path = applications_path(root, year)
    problems: list[Problem] = []
    table, apps, ledger_files = _load_applications(root, year, params, app_path, problems)
    if apps is None and (table is None or "id" not in table.columns):
        raise InputError(problems)  # no ids to check the other files against
    if apps is None:  # keep checking the other files against the ids that were readable
        readable = _readable_requests(table)
        known = pd.DataFrame({"id": list(readable), "requested_kr": list(readable.values())})
    else:
        known = apps
    known_ids = known["id"].tolist()
    app_ids = set(known_ids)
    files = [root / "params" / f"{year}.yaml", app_path, *ledger_files]
    stamps: dict[str, tuple[int, int, int]] = {}
    read = _load_scores(root, year, params, {a: i for i, a in enumerate(known_ids)}, files, problems, stamps)
    conflicts = pd.DataFrame(columns=["reviewer", "application_id", "reason"])
    conflict_path = data_dir(root, year) / "conflicts.csv"
    if conflict_path.exists():
        files.append(conflict_path)
        try:
            conflicts = parse_conflicts(read_table(conflict_path, f"data/{year}/conflicts.csv"), params, app_ids)
        except InputError as exc:
            problems += exc.problems
    overrides: tuple[Override, ...] = ()
    override_path = data_dir(root, year) / "overrides.yaml"
    if override_path.exists():
        files.append(override_path)
        try:
            rel_overrides = f"data/{year}/overrides.yaml"
            overrides = parse_overrides_from_string(read_text(override_path, rel_overrides), rel_overrides, known)
        except InputError as exc:
            problems += exc.problems
    followup: Table | None = None
    followup_path = data_dir(root, year) / "followup.csv"
    if followup_path.is_file():
        files.append(followup_path)
        try:
            followup = read_table(followup_path, f"data/{year}/followup.csv")
        except InputError as exc:
            problems += exc.problems
    if problems or apps is None:
        raise InputError(problems)
    scores = _scores_frame(read, params, known_ids)
    from fou_review.core.cycle import earlier_years

    earlier, earlier_files = earlier_years(root, year)  # read too: the record rests on them
    files += [f for f in earlier_files if f not in files]
    return YearInputs(params, apps, scores, conflicts, overrides, tuple(files), earlier, followup, stamps,
                      dict(digests))


def load_followup(root: Path, year: int, grants: Mapping[str, Grant], params: Params) -> Ledger:
    """Read and validate `data/<year>/followup.csv` against the year's grants (see `core.followup`)."""
    rel = f"data/{year}/followup.csv"
    return parse_followup(read_table(Path(root) / rel, rel), year, grants, params.decision.date,
                          params.decision.repayment_deadline)


# -- Read by the workbook's live preview (added by the workbook's helper; the preview reads no file itself) --


def load_reviewer_scores(root: Path, year: int, reviewer: str, params: Params,
                         app_ids: set[str]) -> pd.DataFrame | None:
    """One reviewer's score file `data/<year>/scores/<reviewer>.csv`, validated as `load_year` does it.

    None when the file does not exist; an `InputError` (file, row, column) when it has problems.
    """
    rel = f"data/{year}/scores/{reviewer}.csv"
    path = Path(root) / rel
    if not path.is_file():
        return None
    return parse_scores(read_table(path, rel), reviewer, params, app_ids)


def load_previous_grants(root: Path, rel: str) -> dict[str, int] | None:
    """id -> granted_kr from a previous run's decisions file (`rel` under `root`, e.g.
    `reports/2022/decisions.csv`, columns `id`, `granted_kr`, ...); None when the file is absent."""
    path = Path(root) / rel
    if not path.is_file():
        return None
    table = read_table(path, rel)
    problems = [Problem.of(rel, "table.missing_column", row=1, column=c, columns="id, granted_kr")
                for c in ("id", "granted_kr") if c not in table.columns]  # its other columns are not read
    if problems:
        raise InputError(problems)
    out: dict[str, int] = {}
    for row, v in table.rows:
        text = v["granted_kr"]
        if not _INT.match(text):
            problems.append(Problem.of(rel, "apps.amount_whole", row=row, column="granted_kr", value=repr(text)))
        else:
            out[v["id"]] = int(text)
    if problems:
        raise InputError(problems)
    return out
