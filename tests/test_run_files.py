"""The record's other files written by a fork of the kernel (yearly/run_files.py): the same bytes as
written at once, a failure raised by `wait` with what went wrong, nothing outside a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from fou_review.core.pipeline import Review, review_year
from fou_review.errors import RunError
from fou_review.yearly import run_files as module
from fou_review.yearly.run_files import RECORD_OUT_ENV, RUN_FILES_ERROR, read_run_files, run_files, start_run_files

REPO = Path(__file__).resolve().parent.parent
MANIFEST = {"year": 2022, "inputs": [], "supersedes": None}


@pytest.fixture(scope="module")
def review() -> Review:
    """The 2022 review."""
    return review_year(REPO, 2022)


def test_outside_a_run_nothing_is_written(review: Review, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RECORD_OUT_ENV, raising=False)
    assert start_run_files(review, MANIFEST, "sv").wait() == []


def test_the_fork_writes_the_same_bytes(review: Review, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RECORD_OUT_ENV, str(tmp_path))
    job = start_run_files(review, MANIFEST, "en")
    written = job.wait()
    expected = run_files(review, MANIFEST, "en")
    assert written == sorted(expected) and read_run_files(tmp_path) == expected
    assert job.wait() == written  # waiting again gives the same names


def test_a_failure_in_the_fork_is_raised_by_wait(review: Review, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> list[str]:
        raise ValueError("disk on fire")

    monkeypatch.setenv(RECORD_OUT_ENV, str(tmp_path))
    monkeypatch.setattr(module, "write_run_files", broken)  # the fork has this process's modules
    job = start_run_files(review, MANIFEST, "sv")
    with pytest.raises(RunError) as caught:
        job.wait()
    assert "ValueError: disk on fire" in caught.value.message("sv")
    assert "could not be written: ValueError: disk on fire" in caught.value.message("en")
    assert (tmp_path / RUN_FILES_ERROR).is_file()


def test_a_run_gone_meanwhile_is_not_recreated(review: Review, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run" / "out"
    monkeypatch.setenv(RECORD_OUT_ENV, str(out))  # the run's folder was removed (the run was killed)
    with pytest.raises(RunError):
        start_run_files(review, MANIFEST, "sv").wait()
    assert not (tmp_path / "run").exists()
