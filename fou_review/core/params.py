"""A year's parameters (`params/<year>.yaml`): everything that changes between years.

`parse_params_from_string` is pure; `load_params` is its thin file wrapper. Validation is strict:
an unknown key, a wrong type or an impossible value is an `InputError` naming the key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from fou_review.errors import InputError, Problem

T = TypeVar("T")

OVER_MAX_POLICIES = ("reject", "reduce")
JOINT_COUNTING = ("each_partner", "lead_only")
TIE_BREAK_KEYS = ("total_score", "received", "requested_kr", "id")  # or "criterion:<name>"


@dataclass(frozen=True)
class Window:
    opens: dt.date
    closes: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.opens <= day <= self.closes


@dataclass(frozen=True)
class Remainder:
    """What happens when the remaining budget is smaller than the next request."""

    partial: bool  # may the application get what is left?
    minimum_kr: int  # ... but only if at least this much is left


@dataclass(frozen=True)
class Fund:
    code: str
    name_sv: str
    name_en: str
    budget_kr: int
    budget_source: str  # "published" or "illustrative"
    max_amount_kr: int
    over_max: str  # "reject" or "reduce"
    max_granted_per_applicant: int
    joint_counts_for: str  # "each_partner" or "lead_only"
    window: Window
    excluded_purposes: tuple[str, ...]
    max_project_years: int | None
    remainder: Remainder
    title_label_sv: str  # the heading of the title column: "Projekt", "Studiebesök till ort"
    title_label_en: str


@dataclass(frozen=True)
class Criterion:
    code: str
    name_sv: str
    name_en: str
    weight: int
    # Counts only when at least one of these criteria has a mean score >= the given value.
    requires_any: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Scale:
    minimum: int
    maximum: int
    descriptors_sv: Mapping[int, str]
    descriptors_en: Mapping[int, str]


@dataclass(frozen=True)
class TieBreakKey:
    key: str
    descending: bool


@dataclass(frozen=True)
class Alias:
    old: str
    new: str
    valid_from: dt.date


@dataclass(frozen=True)
class Decision:
    dnr: str
    date: dt.date
    date_source: str
    repayment_deadline: dt.date
    repayment_address: str
    title_sv: str
    title_en: str


@dataclass(frozen=True)
class Params:
    year: int
    decision: Decision
    funds: Mapping[str, Fund]
    administrations: tuple[str, ...]
    aliases: tuple[Alias, ...]
    reviewers: tuple[str, ...]
    scale: Scale
    criteria: tuple[Criterion, ...]
    tie_break: tuple[TieBreakKey, ...]
    source_file: str = "params"

    def criterion_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria)


class _Reader:
    """Walks a parsed YAML mapping, collecting every problem instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, f"nyckeln {key!r}: {message}"))

    def mapping(self, node: Any, key: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(node, dict):
            self.fail(key, f"förväntade en tabell (mapping), fick {_kind(node)}")
            return {}
        for name in node:
            if name not in allowed:
                self.fail(f"{key}.{name}" if key else str(name),
                          f"okänd nyckel; tillåtna är {', '.join(allowed)}")
        for name in required:
            if name not in node:
                self.fail(f"{key}.{name}" if key else name, "saknas")
        return node

    def typed(self, node: dict[str, Any], name: str, key: str, kind: type[T], default: T | None = None) -> T | None:
        full = f"{key}.{name}" if key else name
        if name not in node:
            return default
        value = node[name]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            self.fail(full, f"förväntade ett heltal, fick {_kind(value)} {value!r}")
            return default
        if kind is str and not isinstance(value, str):
            self.fail(full, f"förväntade text, fick {_kind(value)} {value!r}")
            return default
        if kind is bool and not isinstance(value, bool):
            self.fail(full, f"förväntade true eller false, fick {value!r}")
            return default
        return value  # type: ignore[no-any-return]

    def date(self, node: dict[str, Any], name: str, key: str) -> dt.date | None:
        full = f"{key}.{name}"
        if name not in node:
            return None
        value = node[name]
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(full, f"förväntade ett datum ÅÅÅÅ-MM-DD, fick {value!r}")
        return None

    def positive(self, value: int | None, key: str, *, allow_zero: bool = False) -> None:
        if value is not None and (value < 0 or (value == 0 and not allow_zero)):
            self.fail(key, f"måste vara {'noll eller ' if allow_zero else ''}större än noll, fick {value}")

    def choice(self, value: str | None, key: str, choices: tuple[str, ...]) -> None:
        if value is not None and value not in choices:
            self.fail(key, f"förväntade ett av {', '.join(choices)}, fick {value!r}")


def _kind(value: Any) -> str:
    return {dict: "en tabell", list: "en lista", str: "text", int: "ett heltal", float: "ett decimaltal",
            bool: "sant/falskt", type(None): "ingenting"}.get(type(value), type(value).__name__)


def _read_fund(r: _Reader, code: str, node: Any) -> Fund | None:
    key = f"funds.{code}"
    fields = ("name_sv", "name_en", "budget_kr", "budget_source", "max_amount_kr", "over_max",
              "max_granted_per_applicant", "joint_counts_for", "window", "excluded_purposes",
              "max_project_years", "remainder", "title_label_sv", "title_label_en")
    required = tuple(f for f in fields if f not in ("excluded_purposes", "max_project_years"))
    m = r.mapping(node, key, fields, required)
    if not m:
        return None
    before = len(r.problems)
    budget = r.typed(m, "budget_kr", key, int)
    r.positive(budget, f"{key}.budget_kr")
    max_amount = r.typed(m, "max_amount_kr", key, int)
    r.positive(max_amount, f"{key}.max_amount_kr")
    cap = r.typed(m, "max_granted_per_applicant", key, int)
    r.positive(cap, f"{key}.max_granted_per_applicant")
    over_max = r.typed(m, "over_max", key, str)
    r.choice(over_max, f"{key}.over_max", OVER_MAX_POLICIES)
    joint = r.typed(m, "joint_counts_for", key, str)
    r.choice(joint, f"{key}.joint_counts_for", JOINT_COUNTING)
    budget_source = r.typed(m, "budget_source", key, str)
    r.choice(budget_source, f"{key}.budget_source", ("published", "illustrative"))
    years = r.typed(m, "max_project_years", key, int)
    r.positive(years, f"{key}.max_project_years")
    w = r.mapping(m.get("window"), f"{key}.window", ("opens", "closes"), ("opens", "closes"))
    opens, closes = r.date(w, "opens", f"{key}.window"), r.date(w, "closes", f"{key}.window")
    if opens and closes and closes < opens:
        r.fail(f"{key}.window", f"stänger {closes} före den öppnar {opens}")
    rem = r.mapping(m.get("remainder"), f"{key}.remainder", ("partial", "minimum_kr"), ("partial",))
    partial = r.typed(rem, "partial", f"{key}.remainder", bool)
    minimum = r.typed(rem, "minimum_kr", f"{key}.remainder", int, 0)
    r.positive(minimum, f"{key}.remainder.minimum_kr", allow_zero=True)
    excluded = m.get("excluded_purposes", [])
    if not isinstance(excluded, list) or not all(isinstance(x, str) for x in excluded):
        r.fail(f"{key}.excluded_purposes", f"förväntade en lista med text, fick {excluded!r}")
        excluded = []
    labels = [r.typed(m, f, key, str) for f in ("name_sv", "name_en", "title_label_sv", "title_label_en")]
    if len(r.problems) > before or None in (budget, max_amount, cap, over_max, joint, budget_source,
                                            opens, closes, partial, *labels):
        return None
    assert budget is not None and max_amount is not None and cap is not None and opens and closes
    return Fund(code=code, name_sv=str(labels[0]), name_en=str(labels[1]), budget_kr=budget,
                budget_source=str(budget_source), max_amount_kr=max_amount, over_max=str(over_max),
                max_granted_per_applicant=cap, joint_counts_for=str(joint), window=Window(opens, closes),
                excluded_purposes=tuple(excluded), max_project_years=years,
                remainder=Remainder(bool(partial), int(minimum or 0)),
                title_label_sv=str(labels[2]), title_label_en=str(labels[3]))


def _read_scale(r: _Reader, node: Any) -> Scale | None:
    m = r.mapping(node, "scale", ("min", "max", "descriptors_sv", "descriptors_en"),
                  ("min", "max", "descriptors_sv", "descriptors_en"))
    lo, hi = r.typed(m, "min", "scale", int), r.typed(m, "max", "scale", int)
    if lo is None or hi is None:
        return None
    if lo >= hi:
        r.fail("scale", f"min ({lo}) måste vara mindre än max ({hi})")
        return None
    texts: list[dict[int, str]] = []
    for lang in ("descriptors_sv", "descriptors_en"):
        d = m.get(lang)
        if not isinstance(d, dict):
            r.fail(f"scale.{lang}", "förväntade en tabell betyg: beskrivning")
            return None
        grades = set(range(lo, hi + 1))
        if set(d) != grades or not all(isinstance(v, str) and v.strip() for v in d.values()):
            r.fail(f"scale.{lang}", f"förväntade en beskrivning (text) för varje betyg {lo}–{hi}, fick {sorted(d)}")
            return None
        texts.append({int(k): str(v) for k, v in sorted(d.items())})
    return Scale(lo, hi, texts[0], texts[1])


def _read_criteria(r: _Reader, node: Any, scale: Scale | None) -> tuple[Criterion, ...]:
    if not isinstance(node, list) or not node:
        r.fail("criteria", "förväntade en lista med minst ett kriterium")
        return ()
    out: list[Criterion] = []
    for i, item in enumerate(node):
        key = f"criteria[{i}]"
        m = r.mapping(item, key, ("code", "name_sv", "name_en", "weight", "requires_any"),
                      ("code", "name_sv", "name_en", "weight"))
        code, sv, en = (r.typed(m, f, key, str) for f in ("code", "name_sv", "name_en"))
        weight = r.typed(m, "weight", key, int)
        r.positive(weight, f"{key}.weight")
        req = m.get("requires_any", {})
        pairs: list[tuple[str, float]] = []
        if not isinstance(req, dict):
            r.fail(f"{key}.requires_any", "förväntade en tabell kriterium: lägsta medelbetyg")
        else:
            for other, threshold in req.items():
                if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
                    r.fail(f"{key}.requires_any.{other}", f"förväntade ett tal, fick {threshold!r}")
                    continue
                if scale and not scale.minimum <= threshold <= scale.maximum:
                    r.fail(f"{key}.requires_any.{other}", f"{threshold} ligger utanför skalan")
                pairs.append((str(other), float(threshold)))
        if code and sv and en and weight and weight > 0:
            out.append(Criterion(code, sv, en, weight, tuple(pairs)))
    codes = [c.code for c in out]
    for c in out:
        if codes.count(c.code) > 1:
            r.fail("criteria", f"kriteriet {c.code!r} finns två gånger")
        for other, _ in c.requires_any:
            if other not in codes or other == c.code:
                r.fail(f"criteria.{c.code}.requires_any", f"okänt kriterium {other!r}; kända är {', '.join(codes)}")
    return tuple(out)


def _read_tie_break(r: _Reader, node: Any, criteria: tuple[Criterion, ...]) -> tuple[TieBreakKey, ...]:
    if not isinstance(node, list) or not node:
        r.fail("tie_break", "förväntade en lista, t.ex. [total_score desc, received asc, id asc]")
        return ()
    keys: list[TieBreakKey] = []
    known = TIE_BREAK_KEYS + tuple(f"criterion:{c.code}" for c in criteria)
    for i, item in enumerate(node):
        parts = item.split() if isinstance(item, str) else []
        if len(parts) != 2 or parts[0] not in known or parts[1] not in ("asc", "desc"):
            r.fail(f"tie_break[{i}]", f"förväntade '<nyckel> asc|desc' med nyckel bland {', '.join(known)}; "
                   f"fick {item!r}")
            continue
        keys.append(TieBreakKey(parts[0], parts[1] == "desc"))
    return tuple(keys)


def _read_names(r: _Reader, node: Any, key: str) -> tuple[str, ...]:
    if not isinstance(node, list) or not node or not all(isinstance(x, str) and x.strip() for x in node):
        r.fail(key, "förväntade en lista med namn (text)")
        return ()
    for name in set(node):
        if node.count(name) > 1:
            r.fail(key, f"{name!r} finns två gånger")
    return tuple(x.strip() for x in node)


def parse_params_from_string(text: str, file: str = "params.yaml") -> Params:
    """Parse and validate a year's parameters; raise InputError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError([Problem(file, f"ogiltig YAML: {getattr(exc, 'problem', exc)}", row=row)]) from None
    r = _Reader(file)
    top = ("year", "decision", "funds", "administrations", "aliases", "reviewers", "scale", "criteria",
           "tie_break")
    m = r.mapping(raw, "", top, top)
    if not m:
        raise InputError(r.problems or [Problem(file, "filen är tom")])
    year = r.typed(m, "year", "", int)
    d = r.mapping(m.get("decision"), "decision",
                  ("dnr", "date", "date_source", "repayment_deadline", "repayment_address", "title_sv", "title_en"),
                  ("dnr", "date", "date_source", "repayment_deadline", "repayment_address", "title_sv", "title_en"))
    dnr, src, addr, tsv, ten = (r.typed(d, f, "decision", str) for f in
                                ("dnr", "date_source", "repayment_address", "title_sv", "title_en"))
    r.choice(src, "decision.date_source", ("published", "illustrative"))
    date, repay = r.date(d, "date", "decision"), r.date(d, "repayment_deadline", "decision")
    funds_node = m.get("funds")
    funds: dict[str, Fund] = {}
    if not isinstance(funds_node, dict) or not funds_node:
        r.fail("funds", "förväntade en tabell med minst en fond, t.ex. LUM och MUL")
    else:
        for code, node in funds_node.items():
            fund = _read_fund(r, str(code), node)
            if fund is not None:
                funds[str(code)] = fund
    administrations = _read_names(r, m.get("administrations"), "administrations")
    aliases: list[Alias] = []
    alias_node = m.get("aliases")
    if not isinstance(alias_node, list):
        r.fail("aliases", "förväntade en lista med {old, new, from}")
    else:
        for i, item in enumerate(alias_node):
            a = r.mapping(item, f"aliases[{i}]", ("old", "new", "from"), ("old", "new", "from"))
            old, new = r.typed(a, "old", f"aliases[{i}]", str), r.typed(a, "new", f"aliases[{i}]", str)
            since = r.date(a, "from", f"aliases[{i}]")
            if old and new and since:
                aliases.append(Alias(old, new, since))
    reviewers = _read_names(r, m.get("reviewers"), "reviewers")
    scale = _read_scale(r, m.get("scale"))
    criteria = _read_criteria(r, m.get("criteria"), scale)
    tie_break = _read_tie_break(r, m.get("tie_break"), criteria)
    if year is not None and not 2000 <= year <= 2100:
        r.fail("year", f"orimligt år {year}")
    if r.problems:
        raise InputError(r.problems)
    assert year is not None and dnr and date and repay and src and addr and tsv and ten and scale
    return Params(year=year, decision=Decision(dnr, date, src, repay, addr, tsv, ten), funds=funds,
                  administrations=administrations, aliases=tuple(aliases), reviewers=reviewers,
                  scale=scale, criteria=criteria, tie_break=tie_break, source_file=file)


def params_path(root: Path, year: int) -> Path:
    return root / "params" / f"{year}.yaml"


def load_params(root: Path, year: int) -> Params:
    """Read `params/<year>.yaml` under the project root."""
    path = params_path(root, year)
    rel = f"params/{year}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem(rel, f"filen saknas; skapa den (se params/2022.yaml) under {root}")]) from None
    params = parse_params_from_string(text, rel)
    if params.year != year:
        raise InputError([Problem(rel, f"nyckeln 'year' är {params.year} men filen gäller {year}")])
    return params


def resolve_name(params: Params, name: str, on: dt.date | None = None) -> str | None:
    """The administration's name valid on `on` (default: the decision date), or None if unknown then.

    Follows the dated alias map, so an older file's "Rinkeby-Kista" reads as "Järva" after 2023-07-01.
    """
    day = on or params.decision.date
    seen: set[str] = set()
    current = name.strip()
    while current not in seen:
        seen.add(current)
        if current in params.administrations:
            return current
        nxt = [a.new for a in params.aliases if a.old == current and a.valid_from <= day]
        if not nxt:
            return None
        current = nxt[0]
    return None


def is_known_name(params: Params, name: str) -> bool:
    """Is this the name of some administration, in any era the alias map knows?"""
    known = set(params.administrations)
    for a in params.aliases:
        known.update((a.old, a.new))
    return name.strip() in known

