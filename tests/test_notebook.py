# mypy: disable-error-code="no-untyped-call"
"""The review notebook: thin, strictly parameterised, runnable with plain papermill, checked by nbval."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from fou_review.errors import ParameterError
from fou_review.yearly.notebook_params import check_parameters, resolve_root

BIN = Path(sys.executable).parent
DEFAULTS: dict[str, object] = {"year": 2022, "root": "", "lang": "sv", "superseded_record": "",
                               "superseded_sha256": ""}


@pytest.fixture(scope="module")
def project(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nbproject")
    for part in ("params", "data", "notebooks"):
        shutil.copytree(repo_root / part, root / part)
    return root


# --- the notebook's shape --------------------------------------------------------------------------

def test_notebook_is_thin_and_declares_typed_parameters(repo_root: Path) -> None:
    nb = nbformat.read(repo_root / "notebooks" / "review.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    for cell in code:
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
    declared = {}
    for node in ast.parse(code[0].source).body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        declared[node.target.id] = ast.literal_eval(node.value)  # type: ignore[arg-type]
    assert declared == DEFAULTS
    for line in code[0].source.splitlines()[1:]:
        assert "  # " in line, f"parameter line without a comment: {line}"


# --- check_parameters ------------------------------------------------------------------------------

def test_declared_parameters_pass(repo_root: Path) -> None:
    namespace = dict(DEFAULTS, In=[], Out={}, get_ipython=print, _i1="x", json=json, check_parameters=print)
    run = check_parameters(namespace, cwd=repo_root)
    assert (run.year, run.root, run.lang, run.supersedes()) == (2022, repo_root.resolve(), "sv", None)
    assert run.as_manifest() == {"lang": "sv", "year": 2022}


def test_unknown_parameter_is_an_error(repo_root: Path) -> None:
    with pytest.raises(ParameterError, match="okänd parameter 'yeer'; notebooken har parametrarna year, root"):
        check_parameters(dict(DEFAULTS, yeer=2023), cwd=repo_root)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("year", "2022", "parametern year ska vara ett heltal"),
    ("year", 2022.0, "parametern year ska vara ett heltal .* fick ett decimaltal 2022.0"),
    ("year", True, "parametern year ska vara ett heltal"),
    ("lang", "de", "parametern lang: okänt språk 'de': välj ett av sv, en"),
    ("root", 3, "parametern root ska vara text"),
])
def test_mistyped_parameter_is_an_error(repo_root: Path, name: str, value: object, expected: str) -> None:
    with pytest.raises(ParameterError, match=expected):
        check_parameters(dict(DEFAULTS, **{name: value}), cwd=repo_root)


def test_parameter_errors_in_english(repo_root: Path) -> None:
    with pytest.raises(ParameterError) as caught:
        check_parameters(dict(DEFAULTS, yeer=2023, year="2022", lang="de"), cwd=repo_root)
    english = [part.text("en") for part in caught.value.args]
    assert caught.value.message("en") == "; ".join(english)
    assert english == [
        ("unknown parameter 'yeer'; the notebook's parameters are year, root, lang, superseded_record, "
         "superseded_sha256"),
        "the parameter year should be an integer (the year of the call, e.g. 2022), got text '2022'",
        "the parameter lang: unknown language 'de': choose one of sv, en"]
    assert str(caught.value).startswith("okänd parameter 'yeer'; notebooken har parametrarna year, root")


def test_supersede_parameters_come_together(repo_root: Path) -> None:
    with pytest.raises(ParameterError, match="tillsammans"):
        check_parameters(dict(DEFAULTS, superseded_record="reports/2022/superseded/1/allocation.html"),
                         cwd=repo_root)


def test_root_is_found_from_the_kernels_folder_upwards(repo_root: Path, tmp_path: Path) -> None:
    assert resolve_root("", 2022, cwd=repo_root) == repo_root.resolve()
    assert resolve_root("", 2022, cwd=repo_root / "notebooks") == repo_root.resolve()
    assert resolve_root("..", 2022, cwd=repo_root / "notebooks") == repo_root.resolve()
    with pytest.raises(ParameterError, match="hittar inte params/2022.yaml"):
        resolve_root("", 2022, cwd=tmp_path)
    with pytest.raises(ParameterError, match="innehåller inte params/2022.yaml"):
        resolve_root(str(tmp_path), 2022, cwd=repo_root)


# --- plain papermill -------------------------------------------------------------------------------

def papermill(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "papermill"), "notebooks/review.ipynb", "out.ipynb", "--no-progress-bar",
                           *args], cwd=root, capture_output=True, text=True, timeout=300, check=False)


def test_plain_papermill_from_the_repository_root(project: Path) -> None:
    done = papermill(project, "-p", "year", "2022")
    assert done.returncode == 0, done.stderr[-2000:]
    nb = nbformat.read(project / "out.ipynb", as_version=4)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "4\u00a0003\u00a0030\u00a0kr" in html and "3\u00a0705\u00a0000\u00a0kr" in html


@pytest.mark.parametrize(("args", "expected"), [
    (("-p", "year", "2022", "-p", "yeer", "2023"), "ParameterError: okänd parameter 'yeer'"),
    (("-p", "year", "tjugotjugotvå"), "ParameterError: parametern year ska vara ett heltal"),
])
def test_plain_papermill_fails_on_a_bad_parameter(project: Path, args: tuple[str, ...], expected: str) -> None:
    done = papermill(project, *args)
    assert done.returncode == 1
    assert expected in done.stderr


# --- nbval -----------------------------------------------------------------------------------------

def nbval(cwd: Path, notebook: Path, sanitize: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "--nbval", str(notebook), "--nbval-sanitize-with",
                           str(sanitize), "--nbval-current-env", "-p", "no:cacheprovider", "-q"],
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_nbval_reproduces_the_committed_2022_notebook(repo_root: Path) -> None:
    notebook = repo_root / "reports" / "2022" / "review.ipynb"
    code_cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    assert sum(len(c.outputs) for c in code_cells) >= 5, "an unexecuted notebook would compare nothing"
    done = nbval(repo_root, notebook.relative_to(repo_root), repo_root / "tests" / "nbval_sanitize.cfg")
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"{len(code_cells)} passed" in done.stdout


def test_nbval_really_compares_outputs(repo_root: Path, project: Path) -> None:
    """One changed figure in one output of a copy of the record's notebook makes nbval fail."""
    nb = nbformat.read(repo_root / "reports" / "2022" / "review.ipynb", as_version=4)
    changed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            if "3\u00a0705\u00a0000" in html and not changed:
                output["data"]["text/html"] = html.replace("3\u00a0705\u00a0000", "3\u00a0705\u00a0001", 1)
                changed += 1
    assert changed == 1
    copy = project / "reports" / "2022" / "review.ipynb"
    copy.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, copy)
    done = nbval(project, copy.relative_to(project), repo_root / "tests" / "nbval_sanitize.cfg")
    assert done.returncode == 1, done.stdout[-3000:]
    assert "1 failed" in done.stdout and "3\u00a0705\u00a0001" in done.stdout
