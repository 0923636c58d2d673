"""The rules of ARCHITECTURE.md that a machine can check: who imports whom, who reads files."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fou_review"
FORBIDDEN = {
    "core": ("fou_review.record", "fou_review.workbook", "fou_review.yearly", "fou_review.cli"),
    "texts": ("fou_review.record", "fou_review.workbook", "fou_review.yearly", "fou_review.cli"),
    "record": ("fou_review.workbook", "fou_review.yearly", "fou_review.cli"),
    "workbook": ("fou_review.record", "fou_review.yearly", "fou_review.cli"),
    "yearly": ("fou_review.cli", "fou_review.workbook"),
}
READERS = {"tables.py", "load.py"}  # the loaders: the only core modules that read input files
READ_CALLS = {"open", "read_text", "read_bytes", "read_csv", "read_excel", "load_workbook", "safe_load"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_never_imports_what_comes_after_it(room: str) -> None:
    wrong = [(p.name, name) for p in sorted((PACKAGE / room).glob("*.py")) for name in _imports(p)
             if name.startswith(FORBIDDEN[room])]
    assert not wrong


def test_only_the_loaders_read_files_in_the_core() -> None:
    readers = []
    for path in sorted((PACKAGE / "core").glob("*.py")):
        if path.name in READERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name in READ_CALLS:
                    readers.append((path.name, node.lineno, name))
    assert not readers


def test_notebooks_define_nothing() -> None:
    import nbformat

    for path in sorted((PACKAGE.parent / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                tree = ast.parse(cell.source)
                assert not [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)], path
