"""What-if: change some of the year's parameters and see who gains and who loses against the computed allocation.

API (for the workbook's widgets and `fou-review compare`):
- `baseline(inputs: YearInputs) -> Baseline`: the computed allocation (eligibility, `Decided`) once.
- `what_if(base: Baseline, changes: Mapping[str, object], source="--set") -> WhatIf`: the allocation with
  the changed parameters; `WhatIf.changes` is a tuple of `core.compare.Change` (kronor, rank and typed
  reason before and after), `WhatIf.frame(lang)` the same as a DataFrame with the reasons in words
  (`core.compare.CHANGE_COLUMNS`), `WhatIf.params` and `WhatIf.decided` the new parameters and result.
- `apply_changes(params, changes, source="--set") -> Params`: the parameters with `changes` applied,
  each value validated by the same pydantic models as `params/<year>.yaml` (strict types); a key that
  cannot be changed or a bad value is an `InputError` naming the key.
- `parse_assignment(text, source="--set") -> tuple[str, object]`: ``KEY=VALUE`` with VALUE read as YAML
  (``2``, ``true``, ``reduce``, ``{partial: true, minimum_kr: 5000}``).
- `SETTABLE`: the keys that can be changed (`<fund>` a fund's code, `<criterion>` a criterion's code).

Only what a change touches is recomputed: eligibility when a fund's rules change, scoring when a
weight or `allocation_scores` changes; the allocation and its summary always, but for no change at all
(the workbook's view opens with none): that is the computed allocation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from fou_review.core.allocation import allocate
from fou_review.core.calibration import calibrated_scoring, totals_from_means
from fou_review.core.compare import Change, changes_frame, diff_tables
from fou_review.core.eligibility import check_eligibility
from fou_review.core.load import YearInputs
from fou_review.core.params import Criterion, CriterionModel, Fund, FundModel, Params, Remainder
from fou_review.core.pipeline import Decided, decide
from fou_review.core.scoring import score_applications
from fou_review.core.summary import summarise
from fou_review.core.yamlinput import YamlDoc, parse_yaml, validate
from fou_review.errors import InputError, Msg, Problem

FUND_KEYS = ("budget_kr", "max_amount_kr", "over_max", "max_granted_per_applicant", "joint_counts_for",
             "remainder", "remainder.partial", "remainder.minimum_kr")
SETTABLE = (*(f"funds.<fund>.{k}" for k in FUND_KEYS), "criteria.<criterion>.weight", "allocation_scores")


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _Funds(_Strict):
    funds: dict[str, FundModel]


class _Criteria(_Strict):
    criteria: dict[str, CriterionModel]


class _Top(_Strict):
    allocation_scores: Literal["raw", "calibrated"]


def _fund_data(f: Fund) -> dict[str, Any]:
    return {"name_sv": f.name_sv, "name_en": f.name_en, "budget_kr": f.budget_kr, "budget_source": f.budget_source,
            "max_amount_kr": f.max_amount_kr, "over_max": f.over_max,
            "max_granted_per_applicant": f.max_granted_per_applicant, "joint_counts_for": f.joint_counts_for,
            "window": {"opens": f.window.opens, "closes": f.window.closes},
            "excluded_purposes": list(f.excluded_purposes), "max_project_years": f.max_project_years,
            "remainder": {"partial": f.remainder.partial, "minimum_kr": f.remainder.minimum_kr},
            "title_label_sv": f.title_label_sv, "title_label_en": f.title_label_en}


def _criterion_data(c: Criterion) -> dict[str, Any]:
    return {"code": c.code, "name_sv": c.name_sv, "name_en": c.name_en, "weight": c.weight,
            "requires_any": dict(c.requires_any)}


def _unknown(source: str, key: str, allowed: str) -> InputError:
    return InputError([Problem(source, key=key, msg=Msg.of("yaml.unknown_key", allowed=allowed))])


def parse_assignment(text: str, source: str = "--set") -> tuple[str, object]:
    """``KEY=VALUE`` -> (KEY, VALUE read as YAML); without "=" or with broken YAML an InputError."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError([Problem(source, key=key or None, msg=Msg.of("yaml.missing"))])
    data = parse_yaml(value, f"{source} {key}").data if value.strip() else None
    return key, data


def _assign(changes: Mapping[str, object], funds: dict[str, dict[str, Any]], criteria: dict[str, dict[str, Any]],
            source: str) -> tuple[set[str], set[str], dict[str, object], list[Problem]]:
    """Write each change into the funds' and criteria's data (not yet validated).

    Returns the funds and criteria touched, the top-level keys set, and the keys that cannot be set.
    """
    touched_funds: set[str] = set()
    touched_criteria: set[str] = set()
    top: dict[str, object] = {}
    problems: list[Problem] = []
    for key, value in changes.items():
        parts = key.split(".")
        if parts == ["allocation_scores"]:
            top["allocation_scores"] = value
        elif parts[0] == "funds" and len(parts) >= 3:
            code, rest = parts[1], ".".join(parts[2:])
            if code not in funds:
                problems.append(Problem(source, key=key, msg=Msg.of("apps.unknown_fund", fund=repr(code),
                                                                     funds=", ".join(funds))))
            elif rest not in FUND_KEYS:
                problems.append(_unknown(source, key, ", ".join(f"funds.{code}.{k}" for k in FUND_KEYS)).problems[0])
            else:
                current = funds[code]["remainder"]
                if rest.startswith("remainder.") and isinstance(current, Mapping):
                    funds[code]["remainder"] = {**current, rest.split(".", 1)[1]: value}
                elif rest.startswith("remainder."):
                    pass  # a remainder set to a non-mapping before: validation names that value
                else:
                    funds[code][rest] = value
                touched_funds.add(code)
        elif parts[0] == "criteria" and len(parts) == 3 and parts[2] == "weight":
            if parts[1] not in criteria:
                problems.append(Problem(source, key=key, msg=Msg.of("params.unknown_criterion", name=repr(parts[1]),
                                                                     known=", ".join(criteria))))
            else:
                criteria[parts[1]]["weight"] = value
                touched_criteria.add(parts[1])
        else:
            problems.append(_unknown(source, key, ", ".join(SETTABLE)).problems[0])
    return touched_funds, touched_criteria, top, problems


def apply_changes(params: Params, changes: Mapping[str, object], source: str = "--set") -> Params:
    """`params` with `changes` (key -> value, keys as in `SETTABLE`) applied and validated."""
    funds = {code: _fund_data(f) for code, f in params.funds.items()}
    criteria = {c.code: _criterion_data(c) for c in params.criteria}
    touched_funds, touched_criteria, top, problems = _assign(changes, funds, criteria, source)
    new_funds = dict(params.funds)
    new_criteria = list(params.criteria)
    allocation_scores = params.allocation_scores
    for model, data in ((_Funds, {"funds": {c: funds[c] for c in sorted(touched_funds)}}),
                        (_Criteria, {"criteria": {c: criteria[c] for c in sorted(touched_criteria)}}),
                        (_Top, top)):
        if (model is _Top and not top) or (model is not _Top and not next(iter(data.values()))):
            continue
        try:
            checked = validate(YamlDoc(source, data, {}), model)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if isinstance(checked, _Funds):
            for code, m in checked.funds.items():
                new_funds[code] = replace(
                    params.funds[code], budget_kr=m.budget_kr, max_amount_kr=m.max_amount_kr, over_max=m.over_max,
                    max_granted_per_applicant=m.max_granted_per_applicant, joint_counts_for=m.joint_counts_for,
                    remainder=Remainder(m.remainder.partial, m.remainder.minimum_kr))
        elif isinstance(checked, _Criteria):
            new_criteria = [replace(c, weight=checked.criteria[c.code].weight) if c.code in checked.criteria else c
                            for c in params.criteria]
        elif isinstance(checked, _Top):
            allocation_scores = checked.allocation_scores
    if problems:
        raise InputError(problems)
    return replace(params, funds=new_funds, criteria=tuple(new_criteria), allocation_scores=allocation_scores)


@dataclass(frozen=True)
class Baseline:
    """The year's inputs and their computed allocation, against which changes are compared."""

    inputs: YearInputs
    eligibility: pd.DataFrame
    decided: Decided


def baseline(inputs: YearInputs) -> Baseline:
    """Eligibility and the computed allocation of the year's inputs (once, before any change)."""
    eligibility = check_eligibility(inputs.applications, inputs.params)
    decided = decide(inputs.applications, eligibility, inputs.scores, inputs.conflicts, inputs.params,
                     inputs.overrides)
    return Baseline(inputs, eligibility, decided)


@dataclass(frozen=True)
class WhatIf:
    """The allocation under changed parameters, compared with the computed one."""

    params: Params
    decided: Decided
    changes: tuple[Change, ...]

    @property
    def gains(self) -> tuple[Change, ...]:
        """The applications that get more kronor."""
        return tuple(c for c in self.changes if c.delta_kr > 0)

    @property
    def losses(self) -> tuple[Change, ...]:
        """The applications that get fewer kronor."""
        return tuple(c for c in self.changes if c.delta_kr < 0)

    def frame(self, lang: str = "sv") -> pd.DataFrame:
        """The changes as a table with the reasons in words (`core.compare.CHANGE_COLUMNS`)."""
        return changes_frame(self.changes, self.params, lang)


def what_if(base: Baseline, changes: Mapping[str, object], source: str = "--set") -> WhatIf:
    """The allocation with `changes` applied (see `apply_changes`), and who gains and loses by them."""
    old = base.inputs.params
    params = apply_changes(old, changes, source)
    if not changes:  # the computed allocation itself: deciding the same inputs again gives the same
        return WhatIf(params, base.decided, ())
    inputs = base.inputs
    apps = inputs.applications
    rules_changed = any(params.funds[c] != old.funds[c] for c in old.funds)
    eligibility = check_eligibility(apps, params) if rules_changed else base.eligibility
    if params.allocation_scores == old.allocation_scores:
        scoring = base.decided.scoring
        if params.criteria != old.criteria:  # only weights change: the means stay, the totals follow
            means = np.column_stack([scoring[f"{c}_mean"].to_numpy(dtype=np.float64)
                                     for c in params.criterion_codes()])
            scoring = scoring.assign(total_score=totals_from_means(means, params)[1])
    else:
        scoring = score_applications(apps, inputs.scores, inputs.conflicts, params)
        if params.allocation_scores == "calibrated":
            scoring = calibrated_scoring(apps, inputs.scores, inputs.conflicts, params, raw=scoring)
    allocation = allocate(apps, eligibility, scoring, params, inputs.overrides)
    eligible_ids = set(apps["id"].to_numpy()[eligibility["eligible"].to_numpy(dtype=bool)].tolist())
    decided = Decided(scoring, allocation, summarise(allocation.table, eligible_ids, params))
    return WhatIf(params, decided, diff_tables(base.decided.allocation.table, allocation.table, list(params.funds)))
