"""Shared fixtures. Keep this file small: fixtures used by one test module live in that module."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fou_review.core.params import Params, load_params, parse_params_from_string


@pytest.fixture(scope="session")
def repo_root(pytestconfig: pytest.Config) -> Path:
    """The repository root (where pyproject.toml is): the tests read only inside it."""
    return Path(pytestconfig.rootpath)


@pytest.fixture(scope="session")
def params_2022(repo_root: Path) -> Params:
    return load_params(repo_root, 2022)


@pytest.fixture
def year_2022_copy(repo_root: Path, tmp_path: Path) -> Path:
    """A scratch project root holding a copy of params/2022.yaml and data/2022/, free to break."""
    (tmp_path / "params").mkdir()
    shutil.copy(repo_root / "params" / "2022.yaml", tmp_path / "params" / "2022.yaml")
    shutil.copytree(repo_root / "data" / "2022", tmp_path / "data" / "2022")
    return tmp_path


@pytest.fixture
def root(year_2022_copy: Path) -> Path:
    """The scratch project root of the form, store and preview tests: a copy of the 2022 inputs."""
    return year_2022_copy


def _fund(**changes: Any) -> dict[str, Any]:
    fund: dict[str, Any] = {
        "name_sv": "Fond", "name_en": "Fund", "budget_kr": 100_000, "budget_source": "illustrative",
        "max_amount_kr": 50_000, "over_max": "reject", "max_granted_per_applicant": 2,
        "joint_counts_for": "each_partner", "window": {"opens": "2021-05-01", "closes": "2021-09-30"},
        "excluded_purposes": [], "remainder": {"partial": False, "minimum_kr": 0},
        "title_label_sv": "Projekt", "title_label_en": "Project"}
    fund.update(changes)
    return fund


def small_params_dict(funds: dict[str, dict[str, Any]] | None = None, *, administrations: list[str] | None = None,
                      reviewers: list[str] | None = None, criteria: list[dict[str, Any]] | None = None,
                      tie_break: list[str] | None = None) -> dict[str, Any]:
    """A valid parameters mapping for a small synthetic call; each fund's keys may be overridden."""
    return {
        "year": 2022,
        "decision": {"dnr": "1/2021", "date": "2021-12-14", "date_source": "illustrative",
                     "repayment_deadline": "2022-06-06", "repayment_address": "fou@example.org",
                     "title_sv": "Prov", "title_en": "Test"},
        "funds": {code: _fund(**changes) for code, changes in (funds or {"A": {}}).items()},
        "administrations": administrations or ["Alfa", "Beta", "Gamma", "Delta"],
        "aliases": [],
        "reviewers": reviewers or ["r1", "r2"],
        "scale": {"min": 1, "max": 7, "descriptors_sv": {g: f"betyg {g}" for g in range(1, 8)},
                  "descriptors_en": {g: f"grade {g}" for g in range(1, 8)}},
        "criteria": criteria or [{"code": "k1", "name_sv": "K1", "name_en": "C1", "weight": 2},
                                 {"code": "k2", "name_sv": "K2", "name_en": "C2", "weight": 1}],
        "tie_break": tie_break or ["total_score desc", "id asc"],
    }


@pytest.fixture(scope="session")
def make_params() -> Callable[..., Params]:
    """Build validated Params for a small synthetic call (see `small_params_dict`)."""

    def build(funds: dict[str, dict[str, Any]] | None = None, **kwargs: Any) -> Params:
        text = yaml.safe_dump(small_params_dict(funds, **kwargs), allow_unicode=True)
        return parse_params_from_string(text, "synthetic.yaml")

    return build
