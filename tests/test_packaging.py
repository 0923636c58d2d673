"""The package's set-up: pyproject.toml and environment.yml agree; script and type marker are there."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import re
import tomllib
from pathlib import Path

import yaml

from fou_review.cli import main


def _normalise(requirement: str) -> str:
    name, rest = re.match(r"^([A-Za-z0-9_.\-]+)(.*)$", requirement.strip()).groups()  # type: ignore[union-attr]
    return re.sub(r"[-_.]+", "-", name).lower() + rest.replace(" ", "")


def test_environment_yml_lists_the_same_dependencies_and_pins(repo_root: Path) -> None:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    env = yaml.safe_load((repo_root / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = [p for p in pip if not p.startswith("-e")]
    assert sorted(map(_normalise, listed)) == sorted(map(_normalise, wanted))
    assert "-e ." in pip
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, python.split("=")[1].split("."))) >= tuple(map(int, minimum.split(".")))


def test_the_console_script_is_declared_and_installed(repo_root: Path) -> None:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"fou-review": "fou_review.cli:main"}
    (entry,) = importlib.metadata.entry_points(group="console_scripts", name="fou-review")
    assert entry.load() is main


def test_the_package_is_typed(repo_root: Path) -> None:
    assert importlib.resources.files("fou_review").joinpath("py.typed").is_file()
    setup = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "py.typed" in setup["package-data"]["fou_review"]


def test_public_api_resolves() -> None:
    import fou_review

    for name in fou_review.__all__:
        assert getattr(fou_review, name) is not None, name
    assert fou_review.__version__ == importlib.metadata.version("fou-review")


def test_the_errors_a_caller_catches_are_public_and_under_the_root() -> None:
    import fou_review
    from fou_review import errors
    from fou_review.yearly import publish

    for name in ("Msg", "ManifestError", "SaveError", "PublishError"):
        assert name in fou_review.__all__ and getattr(fou_review, name) is getattr(errors, name), name
    for error in (fou_review.ManifestError, fou_review.SaveError, fou_review.PublishError):
        assert issubclass(error, fou_review.FouReviewError), error
    assert publish.PublishError is fou_review.PublishError  # still importable where it is raised
