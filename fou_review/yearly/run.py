"""The yearly run: execute `notebooks/review.ipynb` once with papermill and publish `reports/<year>/`.

1. Validate the year's inputs in this process (a user's mistake stops here, before any cell runs;
   the kernel is already booting meanwhile, in the run's private workspace, and is killed).
2. Take the snapshot: read each input file (and the notebook) once, copy those bytes into the
   workspace and hash them. Refuse when a record exists whose inputs differ, unless superseding.
3. Execute the notebook once, in-process with papermill's API, in a kernel whose folder is the
   snapshot: it reads nothing else. That one execution makes every file: its outputs are
   `allocation.html` (and `allocation.pdf`), it is `review.ipynb`, and its last cell writes
   `decisions.csv`, `decisions.xlsx`, `data/` and the manifest from the same review (`run_files`).
   An input changed meanwhile is not seen: the record is the snapshot's, as its manifest says.
4. Normalise the executed notebook, convert it to the static record, list every file in the
   manifest, all in memory; then publish into a temporary folder beside the target.
5. Swap the folder in (see `publish`). A failure at any step leaves the previous record untouched.

Steps 2 to 5 hold the year's lock, so runs of one year take turns; leftovers of killed runs (staging
folders, kernel socket folders, workspaces) are removed at step 2. Test hooks (`publish.fault`):
`snapshot` (inputs copied, nothing executed) and `executed` (the notebook ran, nothing published).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from fou_review.core.load import load_year
from fou_review.core.pipeline import Review, review_inputs
from fou_review.errors import FouReviewError, FrozenRecordError, InputError, Msg, Problem, RunError, Value
from fou_review.yearly import record_ahead
from fou_review.yearly.kernel import KERNEL, Kernel, remove_stale_kernel_folders, started_kernel
from fou_review.yearly.kernel import PREFIX as KERNEL_PREFIX
from fou_review.yearly.manifest import (
    MANIFEST_NAME,
    manifest_to_json,
    output_entries,
    read_manifest,
    relative_posix,
)
from fou_review.yearly.normalise import normalise_notebook, notebook_bytes
from fou_review.yearly.publish import (
    fault,
    fingerprint,
    next_superseded,
    publish,
    record_dir,
    remove_leftovers,
    superseded_entry,
    year_lock,
)
from fou_review.yearly.review_handover import REVIEW_ENV, REVIEW_FILE, hand_over
from fou_review.yearly.run_files import RECORD_OUT_ENV, RUN_INFO, read_run_files

NOTEBOOK = Path("notebooks") / "review.ipynb"


@dataclass(frozen=True)
class RunOutcome:
    """A finished run: the record folder, its manifest, where a superseded record was kept, leftovers handled."""

    target: Path
    manifest: dict[str, Any]
    superseded: Path | None  # where the earlier record was kept, when superseded
    removed: tuple[Path, ...] = ()  # leftovers of killed runs removed by this run
    kept: tuple[Path, ...] = ()  # leftovers this run could not remove (never part of the record)


def _cli(msgid: str, /, **values: Value) -> Msg:
    return Msg.of(msgid, domain="cli", **values)


def notebook_path(root: Path) -> Path:
    path = Path(root) / NOTEBOOK
    if not path.is_file():
        raise InputError([Problem(NOTEBOOK.as_posix(), msg=_cli("run.notebook_missing"))])
    return path


class Workspace:
    """A run's private folder: `snapshot/` (a copy of the notebook and the year's input files, at their
    paths relative to the project root: the kernel's folder, the only place the execution reads) and
    `out/` (where the execution writes the record's other files, see `run_files`).

    It lives in the kernel's socket folder pattern (`<tmp>/fou-review-kernel-<pid>-*`), so the next run
    removes what a killed run left (`kernel.remove_stale_kernel_folders`).
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=f"{KERNEL_PREFIX}{os.getpid()}-run-"))
        self.snapshot = self.folder / "snapshot"
        self.out = self.folder / "out"
        self.snapshot.mkdir()
        self.out.mkdir()
        self.inputs: list[dict[str, str]] | None = None  # {path, sha256} of the copied inputs, once copied
        self.review = self.folder / REVIEW_FILE  # the run's review, for the kernel (`review_handover`)

    def copy_inputs(self, root: Path, files: Sequence[Path]) -> list[dict[str, str]]:
        """Read each input file once, write those bytes into the snapshot and hash them (once per run)."""
        if self.inputs is None:
            notebook = notebook_path(root)
            entries = {}
            for path in [notebook, *files]:
                rel = relative_posix(path, root)
                data = Path(path).read_bytes()
                copy = self.snapshot / rel
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_bytes(data)
                if path != notebook:
                    entries[rel] = hashlib.sha256(data).hexdigest()
            self.inputs = [{"path": p, "sha256": entries[p]} for p in sorted(entries)]
        return self.inputs

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def started_run(root: Path | None = None) -> Iterator[tuple[Workspace, Kernel]]:
    """A run's workspace and a kernel started in its snapshot folder (with the imports of `root`'s review
    notebook done), both gone on the way out."""
    workspace = Workspace()
    try:
        env = {RECORD_OUT_ENV: str(workspace.out), REVIEW_ENV: str(workspace.review)}
        with started_kernel(workspace.snapshot, env=env,
                            notebook=Path(root) / NOTEBOOK if root is not None else None) as kernel:
            yield workspace, kernel
    finally:
        workspace.remove()


def make_record(root: Path, year: int, lang: str, supersedes: Mapping[str, str] | None = None,
                *, progress: bool = True, review: Review | None = None,
                started: tuple[Workspace, Kernel] | None = None) -> dict[str, bytes]:
    """Every file of a year's record, in memory, from one execution of the review notebook on one
    snapshot of the inputs; raises RunError naming the cell that failed.

    `review`: the year as validated by the caller (its list of input files is copied; the kernel is handed it
    only where the snapshot is provably what it was read from: `review_handover`). `started`: a workspace and
    a kernel already started (see `started_run`); else they are started here.
    """
    root = Path(root).resolve()
    if started is None:
        notebook_path(root)
        with started_run(root) as fresh:
            return make_record(root, year, lang, supersedes, progress=progress, review=review, started=fresh)
    workspace, kernel = started
    if review is None:
        review = review_inputs(load_year(root, year))
    inputs = workspace.copy_inputs(root, review.inputs.files)
    hand_over(workspace.review, root, review, inputs)  # the kernel's review, if the snapshot is what it read
    fault("snapshot")
    parameters: dict[str, object] = {"year": year, "lang": lang}
    if supersedes is not None:
        parameters |= {"superseded_record": supersedes["path"], "superseded_sha256": supersedes["sha256"]}
    ahead = record_ahead.start(ahead_job(workspace, parameters, review, lang),  # the pages and PDF, meanwhile
                               applications=len(review.inputs.applications))
    try:
        executed = execute(workspace.snapshot / NOTEBOOK, workspace.snapshot, parameters, progress=progress,
                           kernel=kernel.manager, hooks=ahead.papermill_hooks())
        fault("executed")
        files = read_run_files(workspace.out)
        if RUN_INFO not in files or MANIFEST_NAME not in files:
            raise RunError(_cli("run.no_run_files", path=NOTEBOOK.as_posix()))
        info = json.loads(files.pop(RUN_INFO))
        manifest = json.loads(files.pop(MANIFEST_NAME))
        if manifest.get("inputs") != workspace.inputs:  # the execution read nothing but the snapshot
            raise RunError(_cli("run.no_run_files", path=NOTEBOOK.as_posix()))
        from fou_review.record.html_export import record_content

        nb = normalise_notebook(executed, str(info["title"]))
        kernel.stop()
        files["review.ipynb"] = notebook_bytes(nb)  # while the fork (or thread) makes the pages
        # allocation.html, and for a large year its separate pages (record/pages.py); the PDF is the main page's
        pages = ahead.pages_for(record_content(nb), title=str(info["title"]), dnr=str(info["dnr"]))
        files |= {name: page.encode("utf-8") for name, page in pages.items()}
        files["allocation.pdf"] = ahead.pdf_for(pages["allocation.html"], dt.date.fromisoformat(str(info["decided"])))
    finally:
        ahead.close()  # no process of this run outlives it
    manifest["files"] = output_entries(files)
    files["manifest.json"] = manifest_to_json(manifest).encode("utf-8")
    return {name: files[name] for name in sorted(files)}


def ahead_job(workspace: Workspace, parameters: Mapping[str, object], review: Review, lang: str) -> record_ahead.Job:
    """What the fork making the record ahead makes (yearly/record_ahead.py): the snapshot's notebook with the
    run's parameters, with the title, Dnr and date of the validated year."""
    from fou_review.record.sections import record_title

    decision = review.inputs.params.decision
    return record_ahead.Job(workspace.snapshot / NOTEBOOK, workspace.snapshot, dict(parameters), lang=lang,
                            title=record_title(review, lang), dnr=decision.dnr, decided=decision.date,
                            out=workspace.folder / "ahead", review=workspace.review)


def execute(notebook: Path, root: Path, parameters: Mapping[str, object], *, progress: bool,
            kernel: Any = None, hooks: Mapping[str, Callable[..., None]] | None = None) -> Any:
    """Run the notebook with papermill in the project root; a failing cell becomes a RunError. `hooks`:
    nbclient's (`on_cell_executed`, ...), passed on by papermill."""
    import papermill
    import papermill.execute
    from papermill.exceptions import PapermillExecutionError

    extra: dict[str, Any] = {"km": kernel} if kernel is not None else {"shutdown_kernel": "immediate"}
    extra |= hooks or {}
    # papermill serialises the executed notebook to write it even with no output path, and then writes it
    # nowhere (papermill issue #444): at 10^4 applications 28 MB of JSON, half a second. Not here.
    write_ipynb = papermill.execute.write_ipynb
    try:
        with mock.patch.object(papermill.execute, "write_ipynb",
                               lambda nb, path: None if path is None else write_ipynb(nb, path)):
            return papermill.execute_notebook(str(notebook), None, parameters=dict(parameters), cwd=str(root),
                                              kernel_name=KERNEL, progress_bar=progress, store_widget_state=True,
                                              request_save_on_cell_execute=False, log_output=False, **extra)
    except PapermillExecutionError as exc:
        line = (str(exc.source).strip().splitlines() or [""])[-1][:60]
        evalue = (str(exc.evalue).strip().splitlines() or [""])[0]
        raise RunError(_cli("run.cell_failed", index=exc.cell_index, count=str(exc.exec_count), line=line,
                            ename=exc.ename, evalue=evalue),
                       cell_index=exc.cell_index, ename=exc.ename, evalue=str(exc.evalue)) from None


def check_frozen(target: Path, root: Path, inputs: list[dict[str, str]], supersede: bool) -> None:
    """Refuse to overwrite a record made from other inputs (`inputs`: the snapshot's) unless superseding."""
    manifest_file = target / MANIFEST_NAME
    if supersede or not manifest_file.is_file():
        return
    if read_manifest(manifest_file).get("inputs") != inputs:
        raise FrozenRecordError(_cli("run.frozen", path=target.relative_to(root).as_posix()))


def run_year(root: Path, year: int, lang: str = "sv", *, supersede: bool = False,
             progress: bool = True, on_wait: Callable[[], None] | None = None) -> RunOutcome:
    """Make and publish `reports/<year>/` (or `reports/<year>/en/`); all or nothing.

    Either the new record is in place and this returns, or the old one is in place byte for byte and
    this raises (a `PublishError` when publishing itself failed). `on_wait` is called once when
    another run of the year holds the lock (this run then waits for it).
    """
    root = Path(root).resolve()
    remove_stale_kernel_folders()
    with started_run(root) as (workspace, kernel):  # the kernel boots while the inputs are validated
        fault("kernel")
        review = review_inputs(load_year(root, year))  # a mistake in the inputs stops here
        notebook_path(root)
        target = record_dir(root, year, lang)
        with year_lock(root, year, on_wait):
            fault("locked")
            removed, kept = remove_leftovers(root, year)
            seen = fingerprint(target)
            inputs = workspace.copy_inputs(root, review.inputs.files)  # the one reading the record is made of
            check_frozen(target, root, inputs, supersede)
            number = next_superseded(target) if supersede and (target / "allocation.html").is_file() else None
            supersedes = superseded_entry(root, target, number) if number is not None else None
            if supersedes is None and not supersede and (target / MANIFEST_NAME).is_file():
                supersedes = read_manifest(target / MANIFEST_NAME).get("supersedes")  # same inputs: same record
            files = make_record(root, year, lang, supersedes, progress=progress, review=review,
                                started=(workspace, kernel))
            kept += publish(root, target, files, number, seen)
            fault("published")
    manifest = read_manifest(target / MANIFEST_NAME)
    superseded = target / "superseded" / str(number) if number is not None else None
    return RunOutcome(target, manifest, superseded, tuple(removed), tuple(kept))


__all__ = ["FouReviewError", "FrozenRecordError", "RunOutcome", "make_record", "run_year"]
