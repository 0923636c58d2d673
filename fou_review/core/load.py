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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from fou_review.core.model import Override
from fou_review.core.params import Params, is_known_name, load_params, resolve_name
from fou_review.core.tables import Table, parse_csv_from_string, read_table, require_columns
from fou_review.errors import InputError, Problem

APPLICATION_COLUMNS = ("id", "fund", "applicants", "title", "requested_kr", "received", "last_report", "source")
APPLICATION_OPTIONAL = ("purpose", "project_year", "planned_years", "contact_person", "illustrative_fields")
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
    params: Params
    applications: pd.DataFrame
    scores: pd.DataFrame  # reviewer, application_id, criterion (categorical), score, comment
    conflicts: pd.DataFrame  # reviewer, application_id, reason
    overrides: tuple[Override, ...]
    files: tuple[Path, ...] = field(default=())  # every file read, for the manifest


def _whole_kronor(text: str) -> int | None:
    cleaned = text.replace("\u00a0", "").replace(" ", "").removesuffix("kr").strip()
    return int(cleaned) if _INT.match(cleaned) else None


def _suggest(name: str, params: Params) -> str:
    known = list(params.administrations) + [a.old for a in params.aliases]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; menade du {close[0]!r}?" if close else f"; giltiga är {', '.join(params.administrations)}"


def split_applicants(text: str) -> tuple[str, ...]:
    """"Rinkeby-Kista & Spånga-Tensta" -> ("Rinkeby-Kista", "Spånga-Tensta")."""
    return tuple(p.strip() for p in text.split("&") if p.strip())


def parse_applications(table: Table, params: Params) -> pd.DataFrame:
    """Validate the applications table and return one typed row per application."""
    problems = require_columns(table, APPLICATION_COLUMNS, APPLICATION_OPTIONAL)
    if problems:
        raise InputError(problems)
    out: list[dict[str, object]] = []
    first_row: dict[str, int] = {}
    f = table.file

    def bad(row: int, column: str, message: str) -> None:
        problems.append(Problem(f, message, row=row, column=column))

    for row, v in table.rows:
        app_id = v["id"]
        if not _ID.match(app_id):
            bad(row, "id", f"förväntade ett id av bokstäver, siffror, '-', '_' eller '.', fick {app_id!r}")
        elif app_id in first_row:
            bad(row, "id", f"id {app_id!r} finns redan på rad {first_row[app_id]}; varje ansökan ska ha ett eget id")
        else:
            first_row[app_id] = row
        fund = v["fund"]
        if fund not in params.funds:
            bad(row, "fund", f"okänd fond {fund!r}; årets fonder är {', '.join(params.funds)}")
        names = split_applicants(v["applicants"])
        if not names:
            bad(row, "applicants", "ingen sökande förvaltning; skriv en eller flera åtskilda med ' & '")
        resolved: list[str] = []
        for name in names:
            if not is_known_name(params, name):
                bad(row, "applicants", f"okänd förvaltning {name!r}{_suggest(name, params)}")
            resolved.append(resolve_name(params, name) or name)
        if len(set(resolved)) < len(resolved):
            bad(row, "applicants", "samma förvaltning står två gånger")
        if not v["title"]:
            bad(row, "title", "titeln (projekt eller ort) saknas")
        amount = _whole_kronor(v["requested_kr"])
        if amount is None and _whole_kronor(v["requested_kr"].lstrip("-\u2212")) is not None:
            bad(row, "requested_kr", f"förväntade ett belopp större än noll, fick {v['requested_kr']!r}")
        elif amount is None:
            bad(row, "requested_kr", f"förväntade ett helt antal kronor (t.ex. 25000), fick {v['requested_kr']!r}")
        elif amount <= 0:
            bad(row, "requested_kr", f"förväntade ett belopp större än noll, fick {v['requested_kr']!r}")
        try:
            received = dt.date.fromisoformat(v["received"]).isoformat()
        except ValueError:
            received = ""
            bad(row, "received", f"förväntade ett datum ÅÅÅÅ-MM-DD, fick {v['received']!r}")
        if v["last_report"] not in REPORT_STATUSES:
            bad(row, "last_report", f"förväntade ett av {', '.join(REPORT_STATUSES)}, fick {v['last_report']!r}")
        if v["source"] not in SOURCES:
            bad(row, "source", f"förväntade published eller illustrative, fick {v['source']!r}")
        years: dict[str, int | None] = {}
        for col in ("project_year", "planned_years"):
            text = v.get(col, "")
            years[col] = int(text) if _INT.match(text) and int(text) > 0 else None
            if text and years[col] is None:
                bad(row, col, f"förväntade ett heltal större än noll, fick {text!r}")
        if fund in params.funds and params.funds[fund].max_project_years is not None:
            for col in ("project_year", "planned_years"):
                if years[col] is None and not v.get(col, ""):
                    bad(row, col, f"saknas; {fund} kräver projektår och planerad längd i år")
        out.append({
            "id": app_id, "fund": fund, "applicants": tuple(resolved), "applicants_as_written": v["applicants"],
            "title": v["title"], "requested_kr": amount or 0, "received": received,
            "purpose": v.get("purpose", ""), "project_year": years["project_year"],
            "planned_years": years["planned_years"], "last_report": v["last_report"],
            "contact_person": v.get("contact_person", ""), "source": v["source"],
            "illustrative_fields": v.get("illustrative_fields", ""), "row": row,
        })
    if not out and not problems:
        problems.append(Problem(f, "inga ansökningar i filen"))
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(out)
    frame["requested_kr"] = frame["requested_kr"].astype("int64")
    for col in ("project_year", "planned_years"):
        frame[col] = frame[col].astype("Int64")
    return frame


def parse_applications_from_string(text: str, params: Params, file: str = "applications.csv") -> pd.DataFrame:
    return parse_applications(parse_csv_from_string(text, file), params)


def parse_scores(table: Table, reviewer: str, params: Params, app_ids: set[str]) -> pd.DataFrame:
    """One reviewer's scores: a score per application and criterion (empty = not yet scored)."""
    problems = require_columns(table, SCORE_COLUMNS, SCORE_OPTIONAL)
    if reviewer not in params.reviewers:
        problems.append(Problem(table.file, f"granskaren {reviewer!r} finns inte bland årets granskare "
                                f"({', '.join(params.reviewers)}); döp om filen eller lägg till granskaren"))
    if problems:
        raise InputError(problems)
    criteria = params.criterion_codes()
    lo, hi = params.scale.minimum, params.scale.maximum
    seen: dict[tuple[str, str], int] = {}
    out: list[tuple[str, str, str, int, str]] = []
    for row, v in table.rows:
        app, crit, text = v["application_id"], v["criterion"], v["score"]
        if app not in app_ids:
            problems.append(Problem(table.file, f"okänd ansökan {app!r}; den finns inte i applications",
                                    row=row, column="application_id"))
        if crit not in criteria:
            problems.append(Problem(table.file, f"okänt kriterium {crit!r}; årets kriterier är {', '.join(criteria)}",
                                    row=row, column="criterion"))
        if (app, crit) in seen:
            problems.append(Problem(table.file, f"{app} / {crit} är redan bedömd på rad {seen[(app, crit)]}",
                                    row=row, column="criterion"))
        seen[(app, crit)] = row
        if not text:
            continue  # not yet scored
        if not _INT.match(text) or not lo <= int(text) <= hi:
            problems.append(Problem(table.file, f"förväntade ett heltal {lo}–{hi}, fick {text!r}",
                                    row=row, column="score"))
            continue
        out.append((reviewer, app, crit, int(text), v.get("comment", "")))
    if problems:
        raise InputError(problems)
    return pd.DataFrame(out, columns=["reviewer", "application_id", "criterion", "score", "comment"]).astype(
        {"score": "int64"})


def parse_conflicts(table: Table, params: Params, app_ids: set[str]) -> pd.DataFrame:
    problems = require_columns(table, CONFLICT_COLUMNS, CONFLICT_OPTIONAL)
    if problems:
        raise InputError(problems)
    out = []
    for row, v in table.rows:
        if v["reviewer"] not in params.reviewers:
            problems.append(Problem(table.file, f"okänd granskare {v['reviewer']!r}", row=row, column="reviewer"))
        if v["application_id"] not in app_ids:
            problems.append(Problem(table.file, f"okänd ansökan {v['application_id']!r}", row=row,
                                    column="application_id"))
        out.append((v["reviewer"], v["application_id"], v.get("reason", "")))
    if problems:
        raise InputError(problems)
    return pd.DataFrame(out, columns=["reviewer", "application_id", "reason"])


def parse_overrides_from_string(text: str, file: str, apps: pd.DataFrame) -> tuple[Override, ...]:
    """`overrides: [{id, granted_kr, reason}]`: each departure from the computation, with its reason."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError([Problem(file, f"ogiltig YAML: {getattr(exc, 'problem', exc)}",
                                  row=mark.line + 1 if mark else None)]) from None
    if raw is None:
        return ()
    if not isinstance(raw, dict) or set(raw) != {"overrides"} or not isinstance(raw["overrides"], list):
        raise InputError([Problem(file, "förväntade 'overrides:' följt av en lista med {id, granted_kr, reason}")])
    known = dict(zip(apps["id"], apps["requested_kr"], strict=True))
    problems: list[Problem] = []
    out: list[Override] = []
    for i, item in enumerate(raw["overrides"]):
        key = f"overrides[{i}]"
        if not isinstance(item, dict) or set(item) != {"id", "granted_kr", "reason"}:
            problems.append(Problem(file, f"nyckeln {key!r}: förväntade exakt id, granted_kr och reason"))
            continue
        app, amount, reason = item["id"], item["granted_kr"], item["reason"]
        if app not in known:
            problems.append(Problem(file, f"nyckeln '{key}.id': okänd ansökan {app!r}"))
        elif isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= known[app]:
            problems.append(Problem(file, f"nyckeln '{key}.granted_kr': förväntade ett heltal 0–{known[app]} "
                                    f"(högst det sökta beloppet), fick {amount!r}"))
        elif not isinstance(reason, str) or len(reason.strip()) < 10:
            problems.append(Problem(file, f"nyckeln '{key}.reason': skriv nämndens skäl (minst några ord)"))
        elif any(o.id == app for o in out):
            problems.append(Problem(file, f"nyckeln '{key}.id': {app} har redan ett beslut"))
        else:
            out.append(Override(app, amount, reason.strip()))
    if problems:
        raise InputError(problems)
    return tuple(out)


def data_dir(root: Path, year: int) -> Path:
    return root / "data" / str(year)


def applications_path(root: Path, year: int) -> Path:
    """applications.csv, or applications.xlsx; both at once is ambiguous."""
    base = data_dir(root, year)
    found = [p for p in (base / "applications.csv", base / "applications.xlsx") if p.exists()]
    rel = f"data/{year}/applications.csv"
    if not found:
        raise InputError([Problem(rel, "filen saknas (eller applications.xlsx)")])
    if len(found) > 1:
        raise InputError([Problem(rel, "både applications.csv och applications.xlsx finns; behåll en av dem")])
    return found[0]


def _readable_requests(table: Table | None) -> dict[str, int]:
    """The ids (and requested amounts, when readable) of an applications table that has problems.

    Lets `load_year` go on checking scores, conflicts and overrides against the ids it could read,
    so one run of `fou-review validate` lists the problems of every file.
    """
    if table is None:
        return {}
    return {v["id"]: _whole_kronor(v.get("requested_kr", "")) or 2**62 for _, v in table.rows if v["id"]}


def load_year(root: Path, year: int) -> YearInputs:
    """Load and validate every input of a year; raise one InputError listing all problems."""
    root = Path(root)
    params = load_params(root, year)
    app_path = applications_path(root, year)
    rel = app_path.relative_to(root).as_posix()
    problems: list[Problem] = []
    table: Table | None = None
    apps: pd.DataFrame | None = None
    try:
        table = read_table(app_path, rel)
        apps = parse_applications(table, params)
    except InputError as exc:
        problems += exc.problems
    if apps is None and (table is None or "id" not in table.columns):
        raise InputError(problems)  # no ids to check the other files against
    if apps is None:  # keep checking the other files against the ids that were readable
        readable = _readable_requests(table)
        known = pd.DataFrame({"id": list(readable), "requested_kr": list(readable.values())})
    else:
        known = apps
    app_ids = set(known["id"])
    files = [root / "params" / f"{year}.yaml", app_path]
    frames: list[pd.DataFrame] = []
    score_dir = data_dir(root, year) / "scores"
    for path in sorted(score_dir.glob("*.csv")) if score_dir.is_dir() else []:
        files.append(path)
        try:
            frames.append(parse_scores(read_table(path, path.relative_to(root).as_posix()), path.stem, params,
                                       app_ids))
        except InputError as exc:
            problems += exc.problems
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
            overrides = parse_overrides_from_string(override_path.read_text(encoding="utf-8"),
                                                    f"data/{year}/overrides.yaml", known)
        except InputError as exc:
            problems += exc.problems
    if problems or apps is None:
        raise InputError(problems)
    scores = (pd.concat(frames, ignore_index=True) if frames else
              pd.DataFrame({"reviewer": [], "application_id": [], "criterion": [], "score": [], "comment": []})
              .astype({"score": "int64"}))
    # Categorical keys: scoring then maps them by category, not by hashing every row's text.
    scores = scores.assign(
        reviewer=pd.Categorical(scores["reviewer"], categories=list(params.reviewers)),
        application_id=pd.Categorical(scores["application_id"], categories=apps["id"].tolist()),
        criterion=pd.Categorical(scores["criterion"], categories=list(params.criterion_codes())))
    return YearInputs(params, apps, scores, conflicts, overrides, tuple(files))
