"""The package's exceptions: one root, small documented subclasses.

An input error names the file, the row and the column, says what was expected and how to fix it.
An ineligible application is *not* an exception: it is a result with reasons (see eligibility).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place in the inputs."""

    file: str
    message: str
    row: int | None = None  # the row number a spreadsheet program shows (header is row 1)
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", rad {self.row}"
        if self.column is not None:
            where += f", kolumn {self.column!r}"
        return f"{where}: {self.message}"


class FouReviewError(Exception):
    """Root of every error this package raises on purpose."""


class InputError(FouReviewError):
    """The year's inputs have one or more problems; each names file, row and column."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = list(problems)
        more = f" (och {len(problems) - 1} till)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


class TieError(FouReviewError):
    """Two applications stay tied after every declared tie-break key: no silent choice."""


class ParameterError(FouReviewError):
    """A notebook or run parameter is unknown or has the wrong type."""


class RunError(FouReviewError):
    """A yearly run failed; the previous report is left untouched."""

    def __init__(self, message: str, *, cell_index: int | None = None, ename: str | None = None,
                 evalue: str | None = None) -> None:
        super().__init__(message)
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue


class FrozenRecordError(RunError):
    """The year's record was made from other inputs; `--supersede` keeps it and makes a new one."""


class RecordError(FouReviewError):
    """The record would not be static: it names what would load or run."""


class VerifyError(FouReviewError):
    """A re-made record differs from the committed one."""
