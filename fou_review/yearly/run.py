"""The yearly run: execute `notebooks/review.ipynb` with papermill and publish `reports/<year>/`.

1. Validate the year's inputs in this process (a user's mistake stops here, before any cell runs;
   the kernel is already booting meanwhile, and is killed).
2. Refuse when a record exists whose inputs differ from today's, unless superseding.
3. Execute the notebook in-process with papermill's API; the kernel runs in the project root.
4. Normalise the executed notebook, convert it to the static record, write the decisions as CSV
   and Excel and the manifest, all into a temporary folder beside the target.
5. Swap the folder in (see `publish`). A failure at any step leaves the previous record untouched.

Steps 2 to 5 hold the year's lock, so runs of one year take turns; leftovers of killed runs (staging
folders, kernel socket folders) are removed at step 2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fou_review.core.load import load_year
from fou_review.core.pipeline import Review, review_inputs
from fou_review.errors import FouReviewError, FrozenRecordError, InputError, Msg, Problem, RunError, Value
from fou_review.record.decisions_file import (
    decisions_export_frame,
    decisions_to_csv_string,
    decisions_to_xlsx_bytes,
)
from fou_review.texts.catalog import t
from fou_review.yearly.kernel import KERNEL, Kernel, remove_stale_kernel_folders, started_kernel
from fou_review.yearly.manifest import (
    MANIFEST_NAME,
    build_manifest,
    input_entries,
    manifest_to_json,
    output_entries,
    read_manifest,
)
from fou_review.yearly.normalise import normalise_notebook, notebook_bytes, without_review_only
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

NOTEBOOK = Path("notebooks") / "review.ipynb"


@dataclass(frozen=True)
class RunOutcome:
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


def make_record(root: Path, year: int, lang: str, supersedes: Mapping[str, str] | None = None,
                *, progress: bool = True, review: Review | None = None,
                kernel: Kernel | None = None) -> dict[str, bytes]:
    """Every file of a year's record, in memory; raises RunError naming the cell that failed.

    `kernel`: a kernel already started in `root` (see `started_kernel`); else one is started.
    """
    root = Path(root).resolve()
    notebook = notebook_path(root)
    if kernel is None:
        with started_kernel(root) as km:
            return make_record(root, year, lang, supersedes, progress=progress, review=review, kernel=km)
    if review is None:
        review = review_inputs(load_year(root, year))
    manifest = build_manifest(root, year, notebook, {"lang": lang, "year": year}, supersedes,
                              files=review.inputs.files)
    from fou_review.record import archive
    from fou_review.record.open_data import open_data_files

    warm = ThreadPoolExecutor(max_workers=1)  # WeasyPrint's import and fonts while the kernel works
    warming = warm.submit(archive.prepare)
    warm.shutdown(wait=False)
    table = decisions_export_frame(review.decisions, lang)
    files = {
        "decisions.csv": decisions_to_csv_string(table).encode("utf-8"),
        "decisions.xlsx": decisions_to_xlsx_bytes(table, sheet_title=t(lang, "cli", "decisions.sheet")),
        **open_data_files(review, lang),
    }
    parameters: dict[str, object] = {"year": year, "lang": lang}
    if supersedes is not None:
        parameters |= {"superseded_record": supersedes["path"], "superseded_sha256": supersedes["sha256"]}
    executed = execute(notebook, root, parameters, progress=progress, kernel=kernel.manager)
    from fou_review.record.html_export import notebook_to_record_html
    from fou_review.record.sections import record_title

    title = record_title(review, lang)
    nb = normalise_notebook(executed, title)
    with ThreadPoolExecutor(max_workers=1) as pool:  # convert while the kernel is being stopped
        html = pool.submit(notebook_to_record_html, without_review_only(nb), lang=lang, title=title,
                           dnr=review.inputs.params.decision.dnr)
        kernel.stop()
        files["allocation.html"] = html.result().encode("utf-8")
    files["review.ipynb"] = notebook_bytes(nb)
    warming.result()
    files["allocation.pdf"] = archive.record_pdf(files["allocation.html"].decode("utf-8"),
                                                 decided=review.inputs.params.decision.date)
    manifest["files"] = output_entries(files)
    files["manifest.json"] = manifest_to_json(manifest).encode("utf-8")
    return {name: files[name] for name in sorted(files)}


def execute(notebook: Path, root: Path, parameters: Mapping[str, object], *, progress: bool,
            kernel: Any = None) -> Any:
    """Run the notebook with papermill in the project root; a failing cell becomes a RunError."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    extra: dict[str, Any] = {"km": kernel} if kernel is not None else {"shutdown_kernel": "immediate"}
    try:
        return papermill.execute_notebook(str(notebook), None, parameters=dict(parameters), cwd=str(root),
                                          kernel_name=KERNEL, progress_bar=progress, store_widget_state=False,
                                          request_save_on_cell_execute=False, log_output=False, **extra)
    except PapermillExecutionError as exc:
        line = (str(exc.source).strip().splitlines() or [""])[-1][:60]
        evalue = (str(exc.evalue).strip().splitlines() or [""])[0]
        raise RunError(_cli("run.cell_failed", index=exc.cell_index, count=str(exc.exec_count), line=line,
                            ename=exc.ename, evalue=evalue),
                       cell_index=exc.cell_index, ename=exc.ename, evalue=str(exc.evalue)) from None


def check_frozen(target: Path, root: Path, files: tuple[Path, ...], supersede: bool) -> None:
    """Refuse to overwrite a record made from other inputs unless superseding."""
    manifest_file = target / MANIFEST_NAME
    if supersede or not manifest_file.is_file():
        return
    before = read_manifest(manifest_file).get("inputs")
    if before != input_entries(root, files):
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
    with started_kernel(root) as kernel:  # boots while the inputs are validated
        fault("kernel")
        review = review_inputs(load_year(root, year))  # a mistake in the inputs stops here
        notebook_path(root)
        target = record_dir(root, year, lang)
        with year_lock(root, year, on_wait):
            fault("locked")
            removed, kept = remove_leftovers(root, year)
            seen = fingerprint(target)
            check_frozen(target, root, review.inputs.files, supersede)
            number = next_superseded(target) if supersede and (target / "allocation.html").is_file() else None
            supersedes = superseded_entry(root, target, number) if number is not None else None
            if supersedes is None and not supersede and (target / MANIFEST_NAME).is_file():
                supersedes = read_manifest(target / MANIFEST_NAME).get("supersedes")  # same inputs: same record
            files = make_record(root, year, lang, supersedes, progress=progress, review=review, kernel=kernel)
            kept += publish(root, target, files, number, seen)
            fault("published")
    manifest = read_manifest(target / MANIFEST_NAME)
    superseded = target / "superseded" / str(number) if number is not None else None
    return RunOutcome(target, manifest, superseded, tuple(removed), tuple(kept))


__all__ = ["FouReviewError", "FrozenRecordError", "RunOutcome", "make_record", "run_year"]
