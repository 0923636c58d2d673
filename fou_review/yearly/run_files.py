"""The record's other files, made inside the one execution of the review notebook.

`fou-review run` executes `notebooks/review.ipynb` once, in a kernel started in a private snapshot of
the year's inputs (see `yearly.run`), with `FOU_REVIEW_RECORD_OUT` naming a folder of that run. The
notebook's last cell calls `write_run_files(review, manifest, lang)`: from the very `review` whose
sections are the notebook's outputs, it writes

- `decisions.csv`, `decisions.xlsx` and `data/…` (the open data package; with `followup.csv` in a year
  whose follow-up ledger exists: `review.followup`),
- `manifest.json`: the manifest the notebook built (inputs hashed from the snapshot; the run adds
  the list of the record's files),
- `run.json`: what the run needs to finish the record (the page title, the Dnr, the decision date).

So every file of a record comes from one reading of one snapshot. Anywhere else (JupyterLab, plain
papermill, nbval), the variable is unset and the call does nothing.

The notebook starts the writing as soon as the review is loaded (`start_run_files`): a fork of the
kernel writes the files while the kernel goes on with the other cells (the files take seconds at
10^4 applications), and the notebook's last cell waits for it (`RunFilesJob.wait`). The fork writes
files and nothing else: its standard streams are /dev/null (the kernel's own streams belong to the
kernel's threads, which a fork does not have), and it ends with `os._exit`. A failure is written to
`RUN_FILES_ERROR` and raised by `wait`, naming the error. Where a fork is not available the files
are written at once.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fou_review.core.pipeline import Review
from fou_review.errors import Msg, RunError

RECORD_OUT_ENV = "FOU_REVIEW_RECORD_OUT"
RUN_INFO = "run.json"
RUN_FILES_ERROR = "run-files-error.txt"  # what made the background writing fail (never part of a record)
# Imported by a run before it forks the kernel (yearly/forked_kernel.preload), so the fork writing the files
# does not import them each time (openpyxl: a tenth of a second). Not jsonschema: its import needs the guard
# below, which only a process of its own may set.
FORK_PRELOAD = ("openpyxl.writer.excel", "fou_review.record.decisions_file", "fou_review.record.open_data",
                "fou_review.yearly.manifest")


def run_files(review: Review, manifest: Mapping[str, Any], lang: str) -> dict[str, bytes]:
    """The record's files made from `review` (not the notebook, the page or the PDF), plus `run.json`."""
    if "jsonschema" not in sys.modules:  # as `cli.skip_unused_imports`: the kernel needs no "iri" checker
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # (~4 s of CPU at import)
    from fou_review.record.decisions_file import (
        decisions_export_frame,
        decisions_to_csv_string,
        decisions_to_xlsx_bytes,
    )
    from fou_review.record.open_data import followup_table, open_data_files
    from fou_review.record.sections import record_title
    from fou_review.texts.catalog import t
    from fou_review.yearly.manifest import manifest_to_json

    decision = review.inputs.params.decision
    table = decisions_export_frame(review.decisions, lang)
    info = {"title": record_title(review, lang), "dnr": decision.dnr, "decided": decision.date.isoformat()}
    return {
        "decisions.csv": decisions_to_csv_string(table).encode("utf-8"),
        "decisions.xlsx": decisions_to_xlsx_bytes(table, sheet_title=t(lang, "cli", "decisions.sheet")),
        **open_data_files(review, lang, None if review.followup is None else followup_table(review.followup)),
        "manifest.json": manifest_to_json(manifest).encode("utf-8"),
        RUN_INFO: (json.dumps(info, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"),
    }


def write_run_files(review: Review, manifest: Mapping[str, Any], lang: str) -> list[str]:
    """Write `run_files` into `$FOU_REVIEW_RECORD_OUT` (only inside `fou-review run`); the names written."""
    out = os.environ.get(RECORD_OUT_ENV)
    if not out:
        return []
    files = run_files(review, manifest, lang)
    for name, data in files.items():
        path = Path(out) / name
        for folder in reversed(path.relative_to(out).parents[:-1]):  # never the run's folder itself: if the
            (Path(out) / folder).mkdir(exist_ok=True)  # run is gone (killed), this fails rather than recreate it
        path.write_bytes(data)  # a private folder of this run: no one reads it before the kernel is done
    return sorted(files)


class RunFilesJob:
    """The record's other files being written by a fork of the kernel (`start_run_files`)."""

    def __init__(self, pid: int | None, out: Path | None, names: list[str]) -> None:
        self._pid, self._out, self._names = pid, out, names

    def wait(self) -> list[str]:
        """Wait for the writing to end; the names written. RunError if it failed."""
        if self._pid is None or self._out is None:
            return self._names
        pid, self._pid = self._pid, None
        _, status = os.waitpid(pid, 0)
        error = self._out / RUN_FILES_ERROR
        if os.waitstatus_to_exitcode(status) != 0 or error.exists():
            detail = error.read_text("utf-8").strip().splitlines()[-1:] if error.exists() else []
            raise RunError(Msg.of("run.files_failed", domain="cli", error=(detail or [f"status {status}"])[0]))
        self._names = sorted(p.relative_to(self._out).as_posix() for p in self._out.rglob("*") if p.is_file())
        return self._names


def start_run_files(review: Review, manifest: Mapping[str, Any], lang: str) -> RunFilesJob:
    """Begin writing `run_files` into `$FOU_REVIEW_RECORD_OUT` in a fork of this process (see the module's
    docstring); outside `fou-review run` nothing is written and `wait` gives []."""
    out = os.environ.get(RECORD_OUT_ENV)
    if not out:
        return RunFilesJob(None, None, [])
    if not hasattr(os, "fork"):
        return RunFilesJob(None, None, write_run_files(review, manifest, lang))
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid == 0:
        _write_in_fork(review, manifest, lang, Path(out))
    return RunFilesJob(pid, Path(out), [])


def _write_in_fork(review: Review, manifest: Mapping[str, Any], lang: str, out: Path) -> None:
    """In the forked child: write the files, or the error; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - until os._exit
        write_run_files(review, manifest, lang)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - reported by `wait` in the kernel
        try:
            (out / RUN_FILES_ERROR).write_text(f"{type(exc).__name__}: {exc}\n", "utf-8")
        except OSError:
            pass
    finally:
        os._exit(code)


def read_run_files(folder: Path) -> dict[str, bytes]:
    """Every file the execution wrote into `folder`, by its path relative to it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}
