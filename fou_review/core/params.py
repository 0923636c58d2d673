"""A year's parameters (`params/<year>.yaml`): everything that changes between years.

`parse_params_from_string` is pure (it reads no file; `core.load.load_params` reads the file and
calls it). The file's schema is the pydantic model `ParamsModel` (strict types, unknown keys
forbidden); the checks that relate keys to each other (tie-break keys naming real criteria, a
threshold inside the scale, ...) run once the types are right. Every problem is an `InputError`
naming file, line and key path. The validated model is turned into the frozen dataclasses below,
which the rest of the package uses.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from fou_review.core.yamlinput import YamlDoc, fail, parse_yaml, validate
from fou_review.errors import InputError, Problem

OVER_MAX_POLICIES = ("reject", "reduce")
JOINT_COUNTING = ("each_partner", "lead_only")
TIE_BREAK_KEYS = ("total_score", "received", "requested_kr", "id")  # or "criterion:<name>"


@dataclass(frozen=True)
class Window:
    """A fund's application window: the first and last day applications are received (both inclusive)."""

    opens: dt.date
    closes: dt.date

    def contains(self, day: dt.date) -> bool:
        """Whether `day` falls inside the window, both ends included."""
        return self.opens <= day <= self.closes


@dataclass(frozen=True)
class Remainder:
    """What happens when the remaining budget is smaller than the next request."""

    partial: bool  # may the application get what is left?
    minimum_kr: int  # ... but only if at least this much is left


@dataclass(frozen=True)
class Fund:
    """One fund of the call (LUM or MUL): its budget, caps, window and the rules its applications meet."""

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
    """An assessment criterion: its code, names, weight in the total and when it counts at all."""

    code: str
    name_sv: str
    name_en: str
    weight: int
    # Counts only when at least one of these criteria has a mean score >= the given value.
    requires_any: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Scale:
    """The score scale (lowest and highest grade) and what each grade means, in Swedish and English."""

    minimum: int
    maximum: int
    descriptors_sv: Mapping[int, str]
    descriptors_en: Mapping[int, str]


@dataclass(frozen=True)
class TieBreakKey:
    """One key of the tie-break order among equal totals, and whether it sorts descending."""

    key: str
    descending: bool


@dataclass(frozen=True)
class Alias:
    """An administration's former name (`old`), read as `new` for applications from `valid_from` on."""

    old: str
    new: str
    valid_from: dt.date


@dataclass(frozen=True)
class Decision:
    """The decision's registration number, date, repayment terms and title."""

    dnr: str
    date: dt.date
    date_source: str
    repayment_deadline: dt.date
    repayment_address: str
    title_sv: str
    title_en: str


# The record's published texts (see `decision_text:` in params/<year>.yaml), and which of the
# year's assessment rules are illustrative; both optional, used only by the record.
ILLUSTRATIVE_KINDS = ("scores", "conflicts", "scale", "weights", "thresholds", "tie_break", "reviewers")


@dataclass(frozen=True)
class Signatory:
    """A person who signs the decision, with the role in Swedish and English."""

    name: str
    role_sv: str
    role_en: str


@dataclass(frozen=True)
class DecisionText:
    """The decision document's prose of one language that changes between years (lists of paragraphs)."""

    background: tuple[str, ...] = ()
    priorities_lead: str = ""
    priorities: tuple[str, ...] = ()
    funds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    allocated_to: Mapping[str, str] = field(default_factory=dict)
    reporting: tuple[str, ...] = ()
    preparation: tuple[str, ...] = ()
    matter: tuple[str, ...] = ()


ALLOCATION_SCORES = ("raw", "calibrated")


@dataclass(frozen=True)
class RobustnessSettings:
    """How the decision's robustness and the reviewers' calibration are tested (`robustness:`).

    `bootstrap_resamples` resamples of the reviewers (and of the applications, for the calibration's
    intervals) drawn from a generator seeded with `seed`, so the same inputs give the same figures;
    an application is "cannot be told apart" when fewer than `confidence` of the resamples and of the
    leave-one-reviewer-out runs put it on the side of the funding line it got.
    """

    bootstrap_resamples: int = 1000
    seed: int = 2022
    confidence: float = 0.95


@dataclass(frozen=True)
class OneOff:
    """A value set for this year only (2022: the MUL cap of 3) and its normal value."""

    key: str  # the key path, e.g. "funds.MUL.max_granted_per_applicant"
    normal: int
    note_sv: str = ""
    note_en: str = ""


@dataclass(frozen=True)
class Population:
    """Inhabitants per administration (for grants per inhabitant), with its source."""

    source: str
    as_of: dt.date
    districts: Mapping[str, int]


@dataclass(frozen=True)
class Cycle:
    """The optional keys of the yearly cycle; every default keeps an older params file as it was.

    `predecessor_names`: an application naming an administration after it was merged into another
    is read as its successor ("accept") or refused with the successor's name as a hint ("reject").
    `report_due`: when the reports on this year's grants are due (for the follow-up ledger).
    `illustrative_year`: the whole call is illustrative (an example), marked on every page and file.
    `published_totals`: per fund the published (received_kr, granted_kr); the record says the
    illustrative rows agree with them only when they are given and do.
    """

    predecessor_names: str = "accept"
    one_off: tuple[OneOff, ...] = ()
    population: Population | None = None
    report_due: dt.date | None = None
    report_due_source: str = "illustrative"
    illustrative_year: bool = False
    published_totals: Mapping[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Params:
    """A year's validated parameters: the decision, funds, administrations, reviewers and assessment rules."""

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
    signatories: tuple[Signatory, ...] = ()
    texts: Mapping[str, DecisionText] = field(default_factory=dict)  # by language: "sv", "en"
    illustrative: frozenset[str] = frozenset()  # ILLUSTRATIVE_KINDS of this year
    allocation_scores: str = "raw"  # ALLOCATION_SCORES: the allocation ranks raw or calibrated totals
    robustness: RobustnessSettings = RobustnessSettings()
    cycle: Cycle = Cycle()  # the keys of the yearly cycle (issue 11)

    def criterion_codes(self) -> tuple[str, ...]:
        """The criteria's codes in the order of the params file."""
        return tuple(c.code for c in self.criteria)

    @cached_property
    def _administration_set(self) -> frozenset[str]:
        """The administrations, for membership tests (kept on first use)."""
        return frozenset(self.administrations)

    @cached_property
    def _known_names(self) -> frozenset[str]:
        """Every name the alias map knows, in any era, and the administrations (kept on first use)."""
        return frozenset(self.administrations).union(*((a.old, a.new) for a in self.aliases))


class _Model(BaseModel):
    """Strict types (an integer is an int, not "12" or 12.5 or true) and no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid")


def _to_date(value: object) -> object:
    """YAML reads 2021-05-05 as a date; a quoted "2021-05-05" is accepted too."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise fail("expected.date", value=repr(value)) from None
    if not isinstance(value, dt.date):
        raise fail("expected.date", value=repr(value))
    return value


YamlDate = Annotated[dt.date, BeforeValidator(_to_date)]
Positive = Annotated[int, Field(gt=0)]
Source = Literal["published", "illustrative"]


def _names(value: object) -> object:
    if not isinstance(value, list) or not value or not all(isinstance(x, str) and x.strip() for x in value):
        raise fail("params.names")
    twice = sorted(x for x, n in Counter(value).items() if n > 1)
    if twice:
        raise fail("params.name_twice", name=repr(twice[0]))
    return [x.strip() for x in value]


def _funds(value: object) -> object:
    if not isinstance(value, dict) or not value:
        raise fail("params.funds")
    return value


def _list(msgid: str, *, nonempty: bool = True) -> BeforeValidator:
    """A list (with at least one item), or the problem `msgid`."""

    def check(value: object) -> object:
        if not isinstance(value, list) or (nonempty and not value):
            raise fail(msgid)
        return value

    return BeforeValidator(check)


Names = Annotated[list[str], BeforeValidator(_names)]


class WindowModel(_Model):
    """Schema of a fund's `window:` (opens, closes; closes not before opens)."""

    opens: YamlDate
    closes: YamlDate

    @model_validator(mode="after")
    def _in_order(self) -> WindowModel:
        if self.closes < self.opens:
            raise fail("params.window_order", opens=str(self.opens), closes=str(self.closes))
        return self


class RemainderModel(_Model):
    """Schema of a fund's `remainder:` (may the last application get what is left, and from how much)."""

    partial: bool
    minimum_kr: Annotated[int, Field(ge=0)] = 0


class FundModel(_Model):
    """Schema of one fund under `funds:`."""

    name_sv: str
    name_en: str
    budget_kr: Positive
    budget_source: Source
    max_amount_kr: Positive
    over_max: Literal["reject", "reduce"]
    max_granted_per_applicant: Positive
    joint_counts_for: Literal["each_partner", "lead_only"]
    window: WindowModel
    excluded_purposes: list[str] = []
    max_project_years: Positive | None = None
    remainder: RemainderModel
    title_label_sv: str
    title_label_en: str


class CriterionModel(_Model):
    """Schema of one item of `criteria:`."""

    code: str
    name_sv: str
    name_en: str
    weight: Positive
    requires_any: dict[str, float] = {}


class ScaleModel(_Model):
    """Schema of `scale:` (min, max and a descriptor for every grade in both languages)."""

    min: int
    max: int
    descriptors_sv: dict[int, str]
    descriptors_en: dict[int, str]


class AliasModel(_Model):
    """Schema of one item of `aliases:` (old name, new name, `from` date)."""

    old: str
    new: str
    valid_from: YamlDate = Field(alias="from")


class DecisionModel(_Model):
    """Schema of `decision:`."""

    dnr: str
    date: YamlDate
    date_source: Source
    repayment_deadline: YamlDate
    repayment_address: str
    title_sv: str
    title_en: str


class SignatoryModel(_Model):
    """Schema of one item of `decision_text: signatories:`."""

    name: str
    role_sv: str
    role_en: str


class DecisionTextLangModel(_Model):
    """Schema of `decision_text: sv:` or `en:` (the prose of one language)."""

    background: list[str] = []
    priorities_lead: str = ""
    priorities: list[str] = []
    funds: dict[str, list[str]] = {}
    allocated_to: dict[str, str] = {}
    reporting: list[str] = []
    preparation: list[str] = []
    matter: list[str] = []


class DecisionTextModel(_Model):
    """Schema of `decision_text:` (signatories and the prose per language)."""

    signatories: list[SignatoryModel] = []
    sv: DecisionTextLangModel = DecisionTextLangModel()
    en: DecisionTextLangModel = DecisionTextLangModel()


class RobustnessModel(_Model):
    """Schema of `robustness:` (resamples, seed, confidence)."""

    bootstrap_resamples: Annotated[int, Field(gt=0, le=100_000)] = 1000
    seed: Annotated[int, Field(ge=0)] = 2022
    confidence: Annotated[float, Field(gt=0.5, lt=1)] = 0.95


class OneOffModel(_Model):
    """Schema of one item of `one_off:` (a key path set for this year only and its normal value)."""

    key: str
    normal: int
    note_sv: str = ""
    note_en: str = ""


class PopulationModel(_Model):
    """Schema of `population:` (inhabitants per administration, with source and date)."""

    source: str
    as_of: YamlDate
    districts: dict[str, Positive]


class FollowupTermsModel(_Model):
    """Schema of `followup:` (when the reports on the grants are due)."""

    report_due: YamlDate
    report_due_source: Source = "illustrative"


class TotalsModel(_Model):
    """Schema of one fund under `published_totals:` (received and granted kronor)."""

    received_kr: Annotated[int, Field(ge=0)]
    granted_kr: Annotated[int, Field(ge=0)]


class ParamsModel(_Model):
    """The schema of `params/<year>.yaml`: every key required unless it has a default."""

    year: int
    decision: DecisionModel
    funds: Annotated[dict[str, FundModel], BeforeValidator(_funds)]
    administrations: Names
    aliases: Annotated[list[AliasModel], _list("params.aliases", nonempty=False)]
    reviewers: Names
    scale: ScaleModel
    criteria: Annotated[list[CriterionModel], _list("params.criteria")]
    tie_break: Annotated[list[str], _list("params.tie_break_list")]
    decision_text: DecisionTextModel = DecisionTextModel()
    illustrative: list[Literal["scores", "conflicts", "scale", "weights", "thresholds", "tie_break", "reviewers"]] = []
    predecessor_names: Literal["accept", "reject"] = "accept"
    one_off: list[OneOffModel] = []
    population: PopulationModel | None = None
    followup: FollowupTermsModel | None = None
    illustrative_year: bool = False
    published_totals: dict[str, TotalsModel] = {}
    allocation_scores: Literal["raw", "calibrated"] = "raw"
    robustness: RobustnessModel = RobustnessModel()


def _semantic_problems(doc: YamlDoc, m: ParamsModel) -> list[Problem]:
    """The checks that relate keys to each other (run once every key has the right type)."""
    out: list[Problem] = []
    if not 2000 <= m.year <= 2100:
        out.append(doc.problem(["year"], "params.year_range", year=m.year))
    scale_ok = m.scale.min < m.scale.max
    out += _scale_problems(doc, m)
    out += _criteria_problems(doc, m, scale_ok)
    out += _decision_text_problems(doc, m)
    out += _cycle_problems(doc, m)
    out += _tie_break_problems(doc, m)
    return out


def _scale_problems(doc: YamlDoc, m: ParamsModel) -> list[Problem]:
    """The scale runs upwards and both languages describe every grade on it."""
    lo, hi = m.scale.min, m.scale.max
    if not lo < hi:
        return [doc.problem(["scale"], "params.scale_order", lo=lo, hi=hi)]
    out: list[Problem] = []
    for lang in ("descriptors_sv", "descriptors_en"):
        d: dict[int, str] = getattr(m.scale, lang)
        if set(d) != set(range(lo, hi + 1)) or not all(v.strip() for v in d.values()):
            out.append(doc.problem(["scale", lang], "params.descriptors", lo=lo, hi=hi, got=str(sorted(d))))
    return out


def _criteria_problems(doc: YamlDoc, m: ParamsModel, scale_ok: bool) -> list[Problem]:
    """Criterion codes are unique; `requires_any` names other criteria with thresholds on the scale."""
    lo, hi = m.scale.min, m.scale.max
    out: list[Problem] = []
    codes = [c.code for c in m.criteria]
    for i, c in enumerate(m.criteria):
        if codes.index(c.code) != i:
            out.append(doc.problem(["criteria", i, "code"], "params.criterion_twice", code=repr(c.code)))
        for other, threshold in c.requires_any.items():
            loc: list[str | int] = ["criteria", i, "requires_any", other]
            if other not in codes or other == c.code:
                out.append(doc.problem(loc, "params.unknown_criterion", name=repr(other), known=", ".join(codes)))
            if scale_ok and not lo <= threshold <= hi:
                out.append(doc.problem(loc, "params.threshold_outside", value=f"{threshold:g}"))
    return out


def _decision_text_problems(doc: YamlDoc, m: ParamsModel) -> list[Problem]:
    """The decision text's per-fund paragraphs name funds of the year."""
    out: list[Problem] = []
    for lang in ("sv", "en"):
        block: DecisionTextLangModel = getattr(m.decision_text, lang)
        for key in ("funds", "allocated_to"):
            for code in getattr(block, key):
                if code not in m.funds:
                    out.append(doc.problem(["decision_text", lang, key, code], "apps.unknown_fund",
                                           fund=repr(code), funds=", ".join(m.funds)))
    return out


def _tie_break_problems(doc: YamlDoc, m: ParamsModel) -> list[Problem]:
    """Each tie-break item is a known key (or `criterion:<code>`) followed by asc or desc."""
    out: list[Problem] = []
    known = TIE_BREAK_KEYS + tuple(f"criterion:{c.code}" for c in m.criteria)
    for i, item in enumerate(m.tie_break):
        parts = item.split()
        if len(parts) != 2 or parts[0] not in known or parts[1] not in ("asc", "desc"):
            out.append(doc.problem(["tie_break", i], "params.tie_break_key", known=", ".join(known),
                                   value=repr(item)))
    return out


def one_off_value(m: ParamsModel | Mapping[str, object], key: str) -> object:
    """The value at a dotted key path ("funds.MUL.max_granted_per_applicant"), or None."""
    node: object = m.model_dump(by_alias=True) if isinstance(m, BaseModel) else m
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _cycle_problems(doc: YamlDoc, m: ParamsModel) -> list[Problem]:
    """The cycle's keys: one-off keys naming an integer, totals and populations naming funds and names."""
    out: list[Problem] = []
    for i, item in enumerate(m.one_off):
        value = one_off_value(m, item.key)
        if not isinstance(value, int) or isinstance(value, bool):
            out.append(doc.problem(["one_off", i, "key"], "params.one_off_key", key=repr(item.key)))
    for code in m.published_totals:
        if code not in m.funds:
            out.append(doc.problem(["published_totals", code], "apps.unknown_fund", fund=repr(code),
                                   funds=", ".join(m.funds)))
    if m.population is not None:
        known = set(m.administrations) | {a.old for a in m.aliases} | {a.new for a in m.aliases}
        for name in m.population.districts:
            if name not in known:
                out.append(doc.problem(["population", "districts", name], "params.population_name",
                                       name=repr(name), names=", ".join(m.administrations)))
    return out


def _cycle(m: ParamsModel) -> Cycle:
    pop = m.population
    return Cycle(
        predecessor_names=m.predecessor_names,
        one_off=tuple(OneOff(o.key, o.normal, o.note_sv, o.note_en) for o in m.one_off),
        population=Population(pop.source, pop.as_of, dict(pop.districts)) if pop is not None else None,
        report_due=m.followup.report_due if m.followup is not None else None,
        report_due_source=m.followup.report_due_source if m.followup is not None else "illustrative",
        illustrative_year=m.illustrative_year,
        published_totals={k: (v.received_kr, v.granted_kr) for k, v in m.published_totals.items()})


def _to_params(m: ParamsModel, file: str) -> Params:
    d = m.decision
    funds = {code: Fund(
        code=code, name_sv=f.name_sv, name_en=f.name_en, budget_kr=f.budget_kr, budget_source=f.budget_source,
        max_amount_kr=f.max_amount_kr, over_max=f.over_max, max_granted_per_applicant=f.max_granted_per_applicant,
        joint_counts_for=f.joint_counts_for, window=Window(f.window.opens, f.window.closes),
        excluded_purposes=tuple(f.excluded_purposes), max_project_years=f.max_project_years,
        remainder=Remainder(f.remainder.partial, f.remainder.minimum_kr),
        title_label_sv=f.title_label_sv, title_label_en=f.title_label_en) for code, f in m.funds.items()}
    scale = Scale(m.scale.min, m.scale.max, dict(sorted(m.scale.descriptors_sv.items())),
                  dict(sorted(m.scale.descriptors_en.items())))
    criteria = tuple(Criterion(c.code, c.name_sv, c.name_en, c.weight,
                               tuple((k, float(v)) for k, v in c.requires_any.items())) for c in m.criteria)
    tie_break = tuple(TieBreakKey(k, order == "desc") for k, order in (item.split() for item in m.tie_break))
    return Params(year=m.year, decision=Decision(d.dnr, d.date, d.date_source, d.repayment_deadline,
                                                 d.repayment_address, d.title_sv, d.title_en),
                  funds=funds, administrations=tuple(m.administrations),
                  aliases=tuple(Alias(a.old, a.new, a.valid_from) for a in m.aliases),
                  reviewers=tuple(m.reviewers), scale=scale, criteria=criteria, tie_break=tie_break,
                  source_file=file, signatories=tuple(Signatory(s.name, s.role_sv, s.role_en)
                                                      for s in m.decision_text.signatories),
                  texts=_record_texts(m), illustrative=frozenset(m.illustrative),
                  allocation_scores=m.allocation_scores, cycle=_cycle(m),
                  robustness=RobustnessSettings(m.robustness.bootstrap_resamples, m.robustness.seed,
                                                m.robustness.confidence))


def _record_texts(m: ParamsModel) -> dict[str, DecisionText]:
    """The optional `decision_text:` per language."""
    dt_ = m.decision_text
    return {lang: DecisionText(
        background=tuple(x.background), priorities_lead=x.priorities_lead, priorities=tuple(x.priorities),
        funds={k: tuple(v) for k, v in x.funds.items()}, allocated_to=dict(x.allocated_to),
        reporting=tuple(x.reporting), preparation=tuple(x.preparation), matter=tuple(x.matter))
        for lang, x in (("sv", dt_.sv), ("en", dt_.en))}


def parse_params_from_string(text: str, file: str = "params.yaml", *, year: int | None = None) -> Params:
    """Parse and validate a year's parameters (pure: reads no file); raise InputError listing every problem.

    With `year`, the file's `year:` must be that year.
    """
    doc = parse_yaml(text, file)
    if doc.data is None:
        raise InputError([Problem.of(file, "yaml.empty")])
    model = validate(doc, ParamsModel)
    problems = _semantic_problems(doc, model)
    if year is not None and model.year != year:
        problems.append(doc.problem(["year"], "params.wrong_year", value=model.year, year=year))
    if problems:
        raise InputError(problems)
    return _to_params(model, file)


def params_path(root: Path, year: int) -> Path:
    """Where a year's parameters are: `params/<year>.yaml` under the project root."""
    return root / "params" / f"{year}.yaml"


def load_params(root: Path, year: int) -> Params:
    """Read and parse `params/<year>.yaml` under the project root (the reading is `core.load`'s)."""
    from fou_review.core.load import load_params as load  # load imports this module

    return load(root, year)


def resolve_name(params: Params, name: str, on: dt.date | None = None) -> str | None:
    """The administration's name valid on `on` (default: the decision date), or None if unknown then.

    Follows the dated alias map, so an older file's "Rinkeby-Kista" reads as "Järva" after 2023-07-01.
    """
    day = on or params.decision.date
    seen: set[str] = set()
    current = name.strip()
    while current not in seen:
        seen.add(current)
        if current in params._administration_set:
            return current
        nxt = [a.new for a in params.aliases if a.old == current and a.valid_from <= day]
        if not nxt:
            return None
        current = nxt[0]
    return None


def is_known_name(params: Params, name: str) -> bool:
    """Is this the name of some administration, in any era the alias map knows?"""
    return name.strip() in params._known_names



def renamed_before(params: Params, name: str, day: dt.date) -> Alias | None:
    """The alias by which `name` had already become another administration on `day`, or None.

    "Rinkeby-Kista" on 2023-09-01 -> the alias Rinkeby-Kista -> Järva from 2023-07-01.
    """
    found = [a for a in params.aliases if a.old == name.strip() and a.valid_from <= day]
    return max(found, key=lambda a: a.valid_from) if found else None


def successors_map(params: Params, on: dt.date | None = None) -> dict[str, str]:
    """Every name the alias map knows -> the name valid on `on` (default: the decision date).

    A current name maps to itself; names unknown on that date are left out.
    """
    names = set(params.administrations) | {a.old for a in params.aliases} | {a.new for a in params.aliases}
    out: dict[str, str] = {}
    for name in sorted(names):
        resolved = resolve_name(params, name, on)
        if resolved is not None:
            out[name] = resolved
    return out


def successor_on(params: Params, name: str, day: dt.date) -> str:
    """The name `name` has become by `day` through the dated alias map (itself when it never changed).

    Unlike `resolve_name`, this follows the map even for a name this year's parameters list, so the
    next year's administrations can be read from this year's: "Rinkeby-Kista" on 2023-12-14 -> "Järva".
    """
    current, seen = name.strip(), set()
    while current not in seen:
        seen.add(current)
        alias = renamed_before(params, current, day)
        if alias is None:
            return current
        current = alias.new
    return current
