"""The analysts' live copy of the review notebook: `fou-review workbook YEAR`.

`make_workbook(root, year, lang)` executes `notebooks/review.ipynb` with papermill (widget state
stored) into `workbook/<year>/review.ipynb` (`workbook/<year>/en/review.ipynb` in English), a
git-ignored folder outside `reports/`, and marks it trusted for this user (`nbformat.sign`, as
`jupyter trust` does: the signature goes into the user's Jupyter data folder, the file is not
touched), so JupyterLab shows its stored widgets and SVG before anything runs. The kernel runs in
that folder; the notebook finds the project root upwards from it. JupyterLab is to be started with
that folder as its root, so neither the published record nor a tracked notebook can be opened,
trusted or autosaved from it; the only files a click changes are the reviewer's score file and its
change log, as the form says.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import nbformat.sign

from fou_review.core.load import load_year
from fou_review.yearly.kernel import started_kernel
from fou_review.yearly.run import execute, notebook_path

FOLDER = "workbook"


@dataclass(frozen=True)
class Workbook:
    """The analysts' workbook of a year: the executed notebook's path, and whether this call made it."""

    path: Path  # the executed, trusted notebook
    made: bool  # False: it existed and was kept (only trusted again)


def workbook_path(root: Path, year: int, lang: str = "sv") -> Path:
    """`workbook/<year>/review.ipynb`, or `workbook/<year>/en/review.ipynb` in English."""
    folder = Path(root) / FOLDER / str(year)
    return (folder if lang == "sv" else folder / lang) / "review.ipynb"


def make_workbook(root: Path, year: int, lang: str = "sv", *, fresh: bool = False,
                  progress: bool = False) -> Workbook:
    """Execute the review notebook into the workbook's folder (unless it exists and not `fresh`) and trust it."""
    root = Path(root).resolve()
    load_year(root, year)  # a mistake in the inputs stops here, before any cell runs
    path = workbook_path(root, year, lang)
    made = fresh or not path.is_file()
    if made:
        path.parent.mkdir(parents=True, exist_ok=True)
        with started_kernel(path.parent, notebook=notebook_path(root)) as kernel:
            executed = execute(notebook_path(root), path.parent, {"year": year, "lang": lang}, progress=progress,
                               kernel=kernel.manager)
        nbformat.write(executed, str(path))  # type: ignore[no-untyped-call]
    nb = nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    nbformat.sign.NotebookNotary().sign(nb)  # type: ignore[no-untyped-call]
    return Workbook(path, made)


def lab_command(workbook: Path) -> str:
    """The command that starts JupyterLab on the workbook's folder only, opening the notebook."""
    jupyter = Path(sys.executable).parent / "jupyter"
    program = str(jupyter) if jupyter.exists() else "jupyter"
    return f"cd {workbook.parent} && {program} lab {workbook.name}"
