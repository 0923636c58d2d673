"""The record's open data: `data/` beside `allocation.html`, a Frictionless Data Package plus 360Giving.

Files (all written by `open_data_files`, byte-identical for the same review):

- `decisions.csv`: one row per application (the record's decisions, with language-neutral codes for
  the decision and the reason, and the marks of what is illustrative);
- `funds.csv`: the summary per fund; `administrations.csv`: per fund and administration;
- `followup.csv`, only in a year with a follow-up ledger (`data/<year>/followup.csv`, see
  `core.followup` and `followup_table`): each grant's report and money, no more than the ledger says;
- `grants-360giving.json`: the granted applications in the 360Giving Data Standard 1.4.3, each grant
  checked against the standard's JSON schema (a copy ships in `templates/opendata/`, CC BY 4.0), with
  the Swedish additions (fund, district, reason code, rank, illustrative fields) under `fouReview`;
- `README.md`: what the files hold, the additions, what is illustrative, that there is no personal data;
- `datapackage.json`: the package: every file above except the README as a resource, tabular ones with
  their Table Schema (`templates/opendata/schemas.json`, titles and descriptions from the record
  catalogue), each with its size and SHA-256 (`hash`).

No personal data: the applications' contact persons and the signatories never appear; applicants are
administrations. Text cells that a spreadsheet would read as formulas get a leading apostrophe, as in
the record's `decisions.csv`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from operator import itemgetter
from typing import Any, cast

import pandas as pd

from fou_review.core.allocation import natural_key
from fou_review.core.eligibility import RULES
from fou_review.core.followup import APPROVED, NOT_APPROVED, NOT_RECEIVED, Ledger
from fou_review.core.model import ReasonCode
from fou_review.core.pipeline import Review
from fou_review.errors import Msg, RecordError
from fou_review.record.decisions_file import neutralise, neutralised_texts
from fou_review.record.json_text import indented
from fou_review.texts.catalog import t

DATA_DIR = "data"
PACKAGE_FILE = "datapackage.json"
GRANTS_FILE = "grants-360giving.json"
README_FILE = "README.md"
SCHEMA_360 = "360giving-schema-1.4.3.json"
# Identifiers in the 360Giving file: not registered with 360Giving nor org-id.guide (README says so).
ID_PREFIX = "360G-stockholm-sof-fou"
FUNDER_KEY = "socialforvaltningen"
EXTENSION = "fouReview"
TABLES = ("decisions", "funds", "administrations", "followup")
FOLLOWUP_COLUMNS = ("id", "report_due", "status", "report_received", "spent_kr", "to_repay_kr", "repaid_kr",
                    "repaid_on", "source")
# The ledger's report statuses (core.followup) as the package's language-neutral codes.
FOLLOWUP_STATUS = {APPROVED: "approved", NOT_APPROVED: "not_approved", NOT_RECEIVED: "not_received"}


def _opendata_file(name: str) -> str:
    return (resources.files("fou_review.record") / "templates" / "opendata" / name).read_text("utf-8")


@cache
def table_schemas() -> dict[str, Any]:
    """The package's table definitions (path, fields, keys) as shipped, without texts."""
    data: dict[str, Any] = json.loads(_opendata_file("schemas.json"))
    return data


@cache
def schema_360giving() -> dict[str, Any]:
    """The 360Giving Data Standard 1.4.3 JSON schema of one grant (the shipped copy)."""
    data: dict[str, Any] = json.loads(_opendata_file(SCHEMA_360))
    return data


@cache
def _slug(name: str) -> str:
    """An identifier part from a name: ASCII letters and digits, Swedish letters folded, '-' between (kept:
    an administration's name comes back in every grant it has)."""
    folded = name.lower().translate(str.maketrans("åäöéü", "aaoeu"))
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "x"


def _csv(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """A table's CSV, UTF-8: a header of `columns`, then `rows` (`_csv_of_columns`)."""
    return _csv_of_columns(columns, list(zip(*rows)))


def _csv_of_columns(columns: Sequence[str], values: Sequence[Sequence[object]]) -> bytes:
    """A table's CSV, UTF-8: a header of `columns`, then a row per position of `values` (one per column): a cell
    written as `_cell` writes it."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*map(_cells, values)))
    return buf.getvalue().encode("utf-8")


def _cell(value: object) -> str:
    """A value as its CSV cell: '' for None, a text neutralised (`neutralise`), anything else `str`."""
    return "" if value is None else str(neutralise(value)) if isinstance(value, str) else str(value)


def _cells(column: Sequence[object]) -> Sequence[object]:
    """A column's values as the CSV writer takes them to write `_cell` of each: a column of only `int` and
    None as it is (the writer writes `str` of an int, '' for None), one of only `str` neutralised."""
    kinds = set(map(type, column))
    if kinds <= {int, type(None)}:
        return column
    if kinds == {str}:
        return neutralised_texts(cast("Sequence[str]", column))
    return list(map(_cell, column))


def _json(data: object) -> bytes:
    """`json.dumps(data, ensure_ascii=False, indent=2)` and a newline, in UTF-8 (`indented` writes the same text)."""
    return (indented(data, 2) + "\n").encode("utf-8")


def _columns(frame: pd.DataFrame, *names: str) -> Iterator[tuple[Any, ...]]:
    """The rows of `frame`'s columns `names`, each a tuple of its values as Python scalars (`Series.tolist`,
    without pandas' indexing of each value)."""
    return zip(*(frame[name].tolist() for name in names), strict=True)


def _applicants(review: Review) -> dict[str, tuple[str, ...]]:
    return {str(i): tuple(a) for i, a in _columns(review.inputs.applications, "id", "applicants")}


def _illustrative(review: Review) -> dict[str, str]:
    return {str(i): str(v) for i, v in _columns(review.inputs.applications, "id", "illustrative_fields")}


def _with_missing(column: pd.Series) -> Iterator[tuple[Any, bool]]:
    """Each value of `column` (a Python scalar) and whether it is missing (`pd.isna`)."""
    return zip(column.tolist(), column.isna().tolist(), strict=True)


def _decisions_columns(review: Review, lang: str) -> list[list[object]]:
    """The columns of `decisions.csv` (each a list of its values, in the record's order); in English, the
    English reasons."""
    d = review.decisions
    marks = _illustrative(review)
    ids = d["id"].tolist()
    reasons = d["reason_en" if lang == "en" else "reason"].tolist()
    rank = [None if missing else int(v) for v, missing in _with_missing(d["rank"])]
    score = [None if missing else f"{float(v):.2f}" for v, missing in _with_missing(d["total_score"])]
    return [ids, d["fund"].tolist(), d["applicants"].tolist(), d["title"].tolist(),
            list(map(int, d["requested_kr"].tolist())), list(map(int, d["granted_kr"].tolist())),
            d["decision_en"].tolist(), d["reason_code"].tolist(), reasons, rank, score, d["source"].tolist(),
            [marks.get(str(i), "") for i in ids]]


def funds_rows(review: Review, lang: str) -> list[list[object]]:
    """The rows of `funds.csv`, one per fund in the parameters' order."""
    params = review.inputs.params
    rows: list[list[object]] = []
    for f in review.summary.funds:
        fund = params.funds[f.fund]
        name = getattr(fund, f"name_{lang}")
        rows.append([f.fund, name, f.budget_kr, fund.budget_source, fund.max_amount_kr, f.received_n,
                     f.received_kr, f.granted_n, f.granted_kr, f.remaining_kr])
    return rows


def administrations_rows(review: Review) -> list[list[object]]:
    """The rows of `administrations.csv`: per fund (parameters' order) and administration (sorted)."""
    applicants = _applicants(review)
    d = review.decisions
    counted: dict[tuple[str, str], list[int]] = {}
    for app_id, fund, requested in _columns(d, "id", "fund", "requested_kr"):
        for name in applicants[str(app_id)]:
            entry = counted.setdefault((str(fund), name), [0, 0])
            entry[0] += 1
            entry[1] += int(requested)
    use = {(str(f), str(a)): (int(n), int(kr))
           for f, a, n, kr in _columns(review.summary.cap_use, "fund", "applicant", "granted_n", "granted_kr")}
    rows: list[list[object]] = []
    for code, fund in review.inputs.params.funds.items():
        for name in sorted(n for f, n in counted if f == code):
            n_apps, requested = counted[(code, name)]
            granted_n, granted_kr = use.get((code, name), (0, 0))
            rows.append([code, name, n_apps, requested, granted_n, fund.max_granted_per_applicant, granted_kr])
    return rows


def followup_rows(followup: pd.DataFrame) -> list[list[object]]:
    """The rows of `followup.csv` from a follow-up table with FOLLOWUP_COLUMNS (by id, in natural order)."""
    missing = [c for c in FOLLOWUP_COLUMNS if c not in followup.columns]
    if missing:
        raise RecordError(Msg.of("data.followup_columns", columns=", ".join(missing)))
    rows = []
    ordered = followup.iloc[sorted(range(len(followup)), key=lambda i: natural_key(str(followup["id"].iloc[i])))]
    for r in ordered[list(FOLLOWUP_COLUMNS)].itertuples(index=False):
        rows.append([None if pd.isna(v) else v.isoformat() if hasattr(v, "isoformat") else
                     int(v) if isinstance(v, float) and v.is_integer() else v for v in r])
    return rows


def followup_table(ledger: Ledger) -> pd.DataFrame:
    """A year's follow-up ledger (`core.followup`, validated against the year's grants) as the table of
    `followup.csv`: FOLLOWUP_COLUMNS, the report's status as a language-neutral code, by id. What the
    ledger repeats of `decisions.csv` (fund, applicants, title, amount granted) is left there."""
    rows = [(r.id, r.report_due, FOLLOWUP_STATUS[r.report_status], r.report_received, r.spent_kr, r.to_repay_kr,
             r.repaid_kr, r.repaid_on, r.source) for r in ledger.rows]
    return pd.DataFrame(rows, columns=list(FOLLOWUP_COLUMNS), dtype=object)


def grants(review: Review, lang: str) -> list[dict[str, Any]]:
    """The granted applications as 360Giving grants (only standard fields plus `fouReview`)."""
    params = review.inputs.params
    year, decided = params.year, params.decision.date.isoformat()
    applicants = _applicants(review)
    marks = _illustrative(review)
    funder = {"id": f"{ID_PREFIX}-ORG-{FUNDER_KEY}", "name": t(lang, "record", "data.funder.name")}
    out: list[dict[str, Any]] = []
    for app_id, code, title, requested, granted, reason_code, rank in _columns(
            review.decisions, "id", "fund", "title", "requested_kr", "granted_kr", "reason_code", "rank"):
        if int(granted) <= 0:
            continue
        fund = params.funds[str(code)]
        fund_name = getattr(fund, f"name_{lang}")
        names = applicants[str(app_id)]
        marked = marks.get(str(app_id), "").split()
        illustrative = sorted({"amountAppliedFor"} if ("all" in marked or "requested_kr" in marked) else set())
        if params.decision.date_source == "illustrative":
            illustrative = sorted({*illustrative, "awardDate"})
        if "all" in marked:
            illustrative = ["all"]
        extension: dict[str, Any] = {"fund": str(code), "district": list(names), "reasonCode": str(reason_code),
                                     "illustrative": illustrative}
        if not pd.isna(rank):
            extension["rank"] = int(rank)
        out.append({
            "id": f"{ID_PREFIX}-{year}-{app_id}",
            "title": str(title),
            "description": t(lang, "record", "data.grant.description", fund_name=fund_name, fund=str(code),
                             year=year, title=str(title)),
            "currency": "SEK",
            "amountAppliedFor": int(requested),
            "amountAwarded": int(granted),
            "awardDate": decided,
            "recipientOrganization": [{"id": f"{ID_PREFIX}-ORG-{_slug(n)}", "name": n} for n in names],
            "fundingOrganization": [funder],
            "grantProgramme": [{"code": str(code), "title": fund_name}],
            "fromOpenCall": "Yes",
            EXTENSION: extension,
        })
    return out


def check_grants(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every way the grants break the 360Giving schema (empty: all valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema_360giving(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    if _all_valid(validator, items):
        return []
    return [f"{g.get('id')}: {e.message}" for g in items for e in validator.iter_errors(g)]


_Check = Callable[[object], bool]


def _all_valid(validator: Any, items: Sequence[Mapping[str, Any]]) -> bool:
    """Whether every grant is valid: each shape (its keys) checked once, each distinct list or dict of a
    property once.

    The schema checks a grant's type and which keys it has (`oneOf` of `required`), and each of its
    keys' values on its own (`properties`, no other keyword looks at two values): so a grant is valid
    when its keys pass the first checks and each value passes its property's check (`_value_check`).
    """
    schema = validator.schema
    properties: Mapping[str, Any] = schema.get("properties", {})
    if set(schema) - {"$id", "$schema", "title", "type", "$defs", "oneOf", "properties"}:
        return False  # a keyword this reading does not know: check each grant whole
    shape = validator.evolve(schema={k: v for k, v in schema.items() if k != "properties"})
    refs: dict[str, _Check] = {}
    checks = {key: _value_check(validator, sub, refs) for key, sub in properties.items()}
    once = {key: _once_per_value(check) for key, check in checks.items()}
    by_shape: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for grant in items:
        if not isinstance(grant, Mapping):
            return False
        by_shape.setdefault(tuple(grant), []).append(grant)
    for keys, group in by_shape.items():  # each shape's keys checked once, then each key's values in turn
        if not shape.is_valid(dict.fromkeys(keys)):
            return False
        for key in keys:
            values = list(map(itemgetter(key), group))
            # a column holding a list or dict: each distinct value once; else each (a grant's id, title, amount)
            column = once if any(issubclass(kind, (list, dict)) for kind in set(map(type, values))) else checks
            if key in column and not all(map(column[key], values)):
                return False
    return True


def _once_per_value(check: _Check) -> _Check:
    """`check`, asked once per distinct value it passes (told apart by `repr`: by type and content)."""
    valid: set[str] = set()

    def once(value: object) -> bool:
        key = repr(value)
        if key in valid:
            return True
        if not check(value):
            return False
        valid.add(key)
        return True

    return once


def _value_check(validator: Any, schema: Any, refs: dict[str, _Check]) -> _Check:
    """Whether a value passes `schema` (a property's), with the whole schema's references and formats.

    A schema of only the keywords `_keyword_check` reads is checked by them; any other by the validator
    (`evolve`), once per distinct value. `refs`: the checks of the references met so far, by reference.
    """
    check = _keyword_check(validator, schema, refs)
    return check if check is not None else _once_per_value(validator.evolve(schema=schema).is_valid)


# The keywords `_keyword_check` reads (JSON Schema 2020-12, as jsonschema's Draft202012Validator checks them).
_READ = frozenset({"type", "minItems", "items", "required", "properties", "$ref"})
_LOCAL = "#/$defs/"


def _keyword_check(validator: Any, schema: Any, refs: dict[str, _Check]) -> _Check | None:
    """Whether a value passes `schema`, read keyword by keyword as the validator reads them, when they are
    only `_READ` ones (each keyword on its own; one about arrays or objects passes a value of another type;
    a `$ref` only to `#/$defs/<name>` of the whole schema); else None. A keyword the validator does not
    know is ignored, as it does; any other, or a `$`-keyword but `$ref` and `$comment` (`$id`, `$defs`),
    gives None."""
    if not isinstance(schema, Mapping):
        return None
    keywords = {k for k in schema if k in validator.VALIDATORS or k.startswith("$")} - {"$comment"}
    if not keywords <= _READ:
        return None
    is_type = validator.is_type
    parts: list[_Check] = []
    if "type" in keywords:
        kinds = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
            return None
        kind = kinds[0]
        parts.append((lambda v: bool(is_type(v, kind))) if len(kinds) == 1 else
                     (lambda v: any(is_type(v, k) for k in kinds)))
    if keywords & {"minItems", "items"}:
        parts.append(_array_check(validator, schema.get("minItems", 0),
                                  _value_check(validator, schema["items"], refs) if "items" in keywords else None))
    if keywords & {"required", "properties"}:
        props = {key: _value_check(validator, sub, refs) for key, sub in schema.get("properties", {}).items()}
        parts.append(_object_check(validator, list(schema.get("required", [])), props))
    if "$ref" in keywords:
        target = _local_ref(validator, schema["$ref"])
        if target is None:
            return None
        parts.append(_ref_check(validator, schema["$ref"], target, refs))
    if len(parts) == 1:
        return parts[0]
    return lambda value: all(part(value) for part in parts)


def _array_check(validator: Any, least: Any, item: _Check | None) -> _Check:
    """`minItems` (`least`) and `items` (each item passes `item`, when not None): true for a non-array."""
    def check(value: Any) -> bool:
        if not validator.is_type(value, "array"):
            return True
        return len(value) >= least and (item is None or all(map(item, value)))

    return check


def _object_check(validator: Any, needed: list[Any], props: Mapping[str, _Check]) -> _Check:
    """`required` (`needed`) and `properties` (a key's value passes its check): true for a non-object."""
    def check(value: Any) -> bool:
        if not validator.is_type(value, "object"):
            return True
        return all(key in value for key in needed) and all(props[k](v) for k, v in value.items() if k in props)

    return check


def _ref_check(validator: Any, ref: str, target: Any, refs: dict[str, _Check]) -> _Check:
    """Whether a value passes `target`, the schema `ref` names (its check made at its first use: a
    reference may lead back to itself)."""
    def check(value: object) -> bool:
        if ref not in refs:
            refs[ref] = _value_check(validator, target, refs)
        return refs[ref](value)

    return check


def _local_ref(validator: Any, ref: object) -> Any:
    """The schema `ref` names when it is `#/$defs/<name>` of the validator's whole schema (else None)."""
    if not isinstance(ref, str) or not ref.startswith(_LOCAL):
        return None
    name, defs = ref.removeprefix(_LOCAL), validator.schema.get("$defs")
    if any(c in name for c in "/~%") or not isinstance(defs, Mapping) or name not in defs:
        return None
    return defs[name]


def _schema(name: str, lang: str, review: Review) -> dict[str, Any]:
    spec = table_schemas()[name]
    fields = []
    for f in spec["fields"]:
        field = {"name": f["name"], "type": f["type"],  # a field's text: its own msgid, else by its name
                 "description": t(lang, "record", f.get("description", f"data.field.{f['name']}"))}
        constraints = dict(f.get("constraints", {}))
        if f["name"] == "fund":
            constraints["enum"] = list(review.inputs.params.funds)
        if name == "decisions" and f["name"] == "reason_code":
            constraints["enum"] = [c.value for c in ReasonCode] + [rule.code for rule in RULES]
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""], "primaryKey": spec["primaryKey"]}
    if "foreignKeys" in spec:
        schema["foreignKeys"] = spec["foreignKeys"]
    return schema


def _resource(name: str, path: str, data: bytes, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "path": path, "description": description, **extra,
            "bytes": len(data), "hash": f"sha256:{hashlib.sha256(data).hexdigest()}"}


def _readme(review: Review, lang: str, resources_: Sequence[Mapping[str, Any]], followup: bool) -> bytes:
    params = review.inputs.params
    title = getattr(params.decision, f"title_{lang}")

    def tr(msgid: str, **values: object) -> str:
        return t(lang, "record", msgid, **values)

    lines = [f"# {tr('data.readme.heading')}", "",
             tr("data.readme.lead", title=title, dnr=params.decision.dnr), "",
             f"## {tr('data.readme.files')}", ""]
    lines += [f"- `{r['path']}`: {r['description']}" for r in resources_]
    lines += ["", tr("data.readme.illustrative"), "", tr("data.readme.personal"), "", tr("data.readme.formula"), ""]
    if not followup:
        lines += [tr("data.readme.followup_none"), ""]
    lines += [f"## {tr('data.readme.grants')}", "",
              tr("data.readme.grants_lead", file=f"`{GRANTS_FILE}`", prefix=f"`{ID_PREFIX}`"), ""]
    lines += [f"- {tr(f'data.readme.add.{key}')}"
              for key in ("fund", "district", "reason_code", "rank", "illustrative")]
    return ("\n".join(lines) + "\n").encode("utf-8")


def open_data_files(review: Review, lang: str, followup: pd.DataFrame | None = None) -> dict[str, bytes]:
    """Every file of `data/`, keyed by its path in the record (`data/<name>`), sorted by path.

    `followup`: a table with FOLLOWUP_COLUMNS, when the year has a follow-up; else no `followup.csv`.
    Raises RecordError when a grant would break the 360Giving schema.
    """
    params = review.inputs.params
    names = {name: [f["name"] for f in table_schemas()[name]["fields"]] for name in TABLES}
    tables: dict[str, bytes] = {
        "decisions": _csv_of_columns(names["decisions"], _decisions_columns(review, lang)),
        "funds": _csv(names["funds"], funds_rows(review, lang)),
        "administrations": _csv(names["administrations"], administrations_rows(review)),
    }
    if followup is not None:
        tables["followup"] = _csv(names["followup"], followup_rows(followup))
    grant_list = grants(review, lang)
    problems = check_grants(grant_list)
    if problems:
        raise RecordError(Msg.of("data.not_360giving", problems="; ".join(problems[:5])))
    grants_bytes = _json({"grants": grant_list})
    res = [_resource(name, table_schemas()[name]["path"], data, t(lang, "record", f"data.resource.{name}"),
                     profile="tabular-data-resource", format="csv", mediatype="text/csv", encoding="utf-8",
                     schema=_schema(name, lang, review))
           for name, data in tables.items()]
    res.append(_resource("grants-360giving", GRANTS_FILE, grants_bytes, t(lang, "record", "data.resource.grants"),
                         format="json", mediatype="application/json", encoding="utf-8"))
    title = getattr(params.decision, f"title_{lang}")
    package = {
        "profile": "data-package",
        "name": f"fou-review-{params.year}" + ("-en" if lang == "en" else ""),
        "title": t(lang, "record", "data.package.title", title=title),
        "description": t(lang, "record", "data.package.description", dnr=params.decision.dnr),
        "created": f"{params.decision.date.isoformat()}T00:00:00Z",  # the decision's day
        "resources": res,
    }
    files = {f"{DATA_DIR}/{table_schemas()[name]['path']}": data for name, data in tables.items()}
    files[f"{DATA_DIR}/{GRANTS_FILE}"] = grants_bytes
    files[f"{DATA_DIR}/{PACKAGE_FILE}"] = _json(package)
    files[f"{DATA_DIR}/{README_FILE}"] = _readme(review, lang, res, followup is not None)
    return {path: files[path] for path in sorted(files)}


__all__ = ["DATA_DIR", "GRANTS_FILE", "PACKAGE_FILE", "check_grants", "followup_table", "grants", "open_data_files",
           "schema_360giving", "table_schemas"]
