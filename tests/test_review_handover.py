"""The run's validated review handed to the kernel (yearly/review_handover.py, `NotebookParameters.review`).

The loader says what it parsed (`YearInputs.digests`); the run hands its review over only when the snapshot
holds those very bytes, and the kernel uses it only when the snapshot still does: it is then the review
`review_year(snapshot, year)` gives, paths and all. Anything else (a file changed between the validation
and the copy, a missing or broken pickle, no run at all) is the kernel's own `review_year`.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

from fou_review.core import pipeline
from fou_review.core.load import load_year
from fou_review.core.pipeline import Review, review_year
from fou_review.core.tables import READ_TWICE_DIFFERENTLY, read_bytes, recorded_reads
from fou_review.yearly.manifest import input_entries
from fou_review.yearly.notebook_params import NotebookParameters, check_parameters
from fou_review.yearly.review_handover import REVIEW_ENV, hand_over, handed_review
from fou_review.yearly.run import Workspace, make_record
from fou_review.yearly.run_files import run_files

REPO = Path(__file__).resolve().parent.parent
YEAR = 2022
SCORES = Path("data") / "2022" / "scores" / "ledamot-a.csv"


def assert_same(a: Any, b: Any, where: str = "review") -> None:
    """`a` and `b` are equal all the way down: DataFrames with their dtypes, arrays, dataclasses field by field."""
    assert type(a) is type(b), where
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=where)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, obj=where)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tolist() == b.tolist(), where
    elif isinstance(a, BaseModel):
        assert a == b, where
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where  # the same keys in the same order
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    else:
        assert a == b, where


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch project root: the repository's 2022 inputs and notebook."""
    root = tmp_path / "root"
    for part in ("params", "data", "notebooks"):
        shutil.copytree(REPO / part, root / part)
    return root.resolve()


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    """A run's private folder (snapshot/ and the hand-over's file), removed afterwards."""
    made = Workspace()
    yield made
    made.remove()


def kernel_parameters(snapshot: Path, year: int = YEAR) -> NotebookParameters:
    """The notebook's parameters as checked in a kernel whose folder is `snapshot`."""
    return check_parameters({"year": year, "root": "", "lang": "sv", "superseded_record": "",
                             "superseded_sha256": ""}, cwd=snapshot)


@pytest.fixture
def kernel_review_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, int]]:
    """Every `review_year` the kernel's `run.review()` makes itself (the real one is still called)."""
    calls: list[tuple[Path, int]] = []
    real = pipeline.review_year

    def spy(root: Path | str, year: int) -> Review:
        calls.append((Path(root), year))
        return real(root, year)

    monkeypatch.setattr(pipeline, "review_year", spy)
    return calls


# -- The loader says what it parsed --


@pytest.mark.parametrize(("root", "year"), [(REPO, 2022), (REPO / "examples" / "cycle", 2024)])
def test_load_year_records_the_digest_of_every_file_it_reads(root: Path, year: int) -> None:
    inputs = load_year(root, year)  # 2024 of the cycle example reads its earlier years too
    assert dict(inputs.digests) == {e["path"]: e["sha256"] for e in input_entries(root, inputs.files)}


def test_a_file_read_twice_with_different_bytes_matches_no_digest(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n", "utf-8")
    with recorded_reads() as outer:
        read_bytes(path, "a.csv")
        with recorded_reads() as inner:  # a nested loader (an earlier year) adds its reads to the outer one
            path.write_text("x\n2\n", "utf-8")
            read_bytes(path, "a.csv")
            read_bytes(path, "b.csv")
        assert set(inner) == {"a.csv", "b.csv"} and inner["a.csv"] == inner["b.csv"] != READ_TWICE_DIFFERENTLY
    assert outer["a.csv"] == READ_TWICE_DIFFERENTLY and outer["b.csv"] == inner["b.csv"]
    read_bytes(path, "a.csv")  # outside any recording: nothing noted
    assert set(outer) == {"a.csv", "b.csv"}


# -- The kernel's review --


@pytest.mark.parametrize("example", ["2022", "cycle"])
def test_the_kernel_review_is_a_fresh_review_of_the_snapshot(example: str, project: Path, workspace: Workspace,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            kernel_review_calls: list[tuple[Path, int]]) -> None:
    root, year = (project, YEAR) if example == "2022" else ((REPO / "examples" / "cycle").resolve(), 2024)
    review = review_year(root, year)
    assert hand_over(workspace.review, root, review, workspace.copy_inputs(root, review.inputs.files))
    monkeypatch.setenv(REVIEW_ENV, str(workspace.review))
    run = kernel_parameters(workspace.snapshot, year)
    kernel_review_calls.clear()
    handed = run.review()
    assert kernel_review_calls == []  # handed over, not reviewed again
    fresh = review_year(run.root, year)
    assert run.root == workspace.snapshot.resolve() and handed.inputs.files[0].is_relative_to(run.root)
    assert_same(handed.inputs.files, fresh.inputs.files)
    assert_same(dict(handed.inputs.score_stamps), dict(fresh.inputs.score_stamps))  # the snapshot's, for the preview
    assert_same(handed.inputs.params, fresh.inputs.params)
    assert_same(handed.decisions, fresh.decisions)
    assert_same(handed, fresh)  # and everything else: every DataFrame, array and check


def test_a_file_changed_before_the_copy_is_not_handed_over(project: Path, workspace: Workspace,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           kernel_review_calls: list[tuple[Path, int]]) -> None:
    review = review_year(project, YEAR)
    edited = (project / SCORES).read_text("utf-8").replace("LUM-01,strategisk,6,", "LUM-01,strategisk,1,", 1)
    (project / SCORES).write_text(edited, "utf-8")
    assert not hand_over(workspace.review, project, review, workspace.copy_inputs(project, review.inputs.files))
    assert not workspace.review.exists()
    monkeypatch.setenv(REVIEW_ENV, str(workspace.review))
    run = kernel_parameters(workspace.snapshot)
    kernel_review = run.review()
    assert kernel_review_calls == [(run.root, YEAR)]
    assert_same(kernel_review.inputs.scores, review_year(project, YEAR).inputs.scores)  # the snapshot's data


@pytest.mark.parametrize("broken", ["missing", "not a pickle", "truncated", "another object", "changed since",
                                    "another year"])
def test_a_missing_or_broken_hand_over_falls_back(broken: str, project: Path, workspace: Workspace,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  kernel_review_calls: list[tuple[Path, int]]) -> None:
    review = review_year(project, YEAR)
    assert hand_over(workspace.review, project, review, workspace.copy_inputs(project, review.inputs.files))
    whole = workspace.review.read_bytes()
    if broken == "missing":
        workspace.review.unlink()
    elif broken == "not a pickle":
        workspace.review.write_bytes(b"not a pickle")
    elif broken == "truncated":
        workspace.review.write_bytes(whole[: len(whole) // 2])
    elif broken == "another object":
        workspace.review.write_bytes(pickle.dumps({"review": None}))
    elif broken == "changed since":  # the snapshot's file is no longer what the run read
        (workspace.snapshot / SCORES).write_text((workspace.snapshot / SCORES).read_text("utf-8") + "\n", "utf-8")
    monkeypatch.setenv(REVIEW_ENV, str(workspace.review))
    run = kernel_parameters(workspace.snapshot)
    if broken == "another year":
        assert handed_review(run.root, YEAR + 1) is None
        return
    assert handed_review(run.root, YEAR) is None
    assert_same(run.review().decisions, review_year(run.root, YEAR).decisions)
    assert kernel_review_calls[0] == (run.root, YEAR)


def test_outside_a_run_it_is_review_year(project: Path, monkeypatch: pytest.MonkeyPatch,
                                         kernel_review_calls: list[tuple[Path, int]]) -> None:
    monkeypatch.delenv(REVIEW_ENV, raising=False)
    loads: list[object] = []
    monkeypatch.setattr(pickle, "load", lambda *a, **k: loads.append(a))
    run = kernel_parameters(project / "notebooks")  # an analyst's workbook: the root found upwards
    review = run.review()
    assert kernel_review_calls == [(project, YEAR)] and loads == []
    assert_same(review.decisions, review_year(project, YEAR).decisions)


# -- Inside `fou-review run` --


def test_the_run_hands_over_only_what_the_snapshot_holds(project: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole records: the kernel (a fork of this process: the spy below is in it too) reviews nothing itself
    when handed the review, and a review made before a file changed leaves the record the snapshot's."""
    marks = tmp_path / "kernel-reviews.txt"
    real = pipeline.review_year

    def spy(root: Path | str, year: int) -> Review:
        if os.environ.get(REVIEW_ENV):  # only in the run's kernel (and its fork making the record ahead)
            with open(marks, "a", encoding="utf-8") as out:
                out.write(f"{year}\n")
        return real(root, year)

    monkeypatch.setattr(pipeline, "review_year", spy)
    handed = make_record(project, YEAR, "sv", progress=False, review=real(project, YEAR))
    assert not marks.exists()  # the kernel used the run's review

    stale = real(project, YEAR)
    edited = (project / SCORES).read_text("utf-8").replace("LUM-01,strategisk,6,", "LUM-01,strategisk,1,", 1)
    (project / SCORES).write_text(edited, "utf-8")
    record = make_record(project, YEAR, "sv", progress=False, review=stale)
    assert set(marks.read_text("utf-8").splitlines()) == {str(YEAR)}  # the kernel reviewed the snapshot itself
    assert record == make_record(project, YEAR, "sv", progress=False)  # the record of the edited inputs
    assert record["decisions.csv"] != handed["decisions.csv"]
    assert record["decisions.csv"] != run_files(stale, {}, "sv")["decisions.csv"]
