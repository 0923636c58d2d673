"""Publishing is all or nothing and says so truthfully: runs stopped at every step, odd folders, rights.

Each test runs `fou-review` as a real process in a scratch project. The test hook
`FOU_REVIEW_FAULT=<step>` (see `fou_review.yearly.publish.fault`) ends the process at a named step as
a kill would (no clean-up runs), raises an OSError there, or pauses it until a file appears, so
every case is deterministic, never timed. After each fault the folder must hold the old record or
the new one, whole; the next `verify` lists and ignores what was left, the next `run` removes it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from fou_review.yearly.publish import FAULT_ENV, FAULT_EXIT

YEAR = "2022"
STEPS_BEFORE_SWAP = ["locked", "staging", "staged-file", "staged"]
STEPS_AFTER_SWAP = ["swapped", "published"]
NO_OVERRIDE = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def short_tmp(root: Path) -> None:
    """`root/tmp`: a link to a new short folder in /tmp (a kernel's socket path must stay < 108 bytes)."""
    (root / "tmp").symlink_to(tempfile.mkdtemp(prefix="fr-", dir="/tmp"))


def make_project(repo_root: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for part in ("params", "data", "notebooks"):
        shutil.copytree(repo_root / part, dest / part)
    short_tmp(dest)
    return dest


def copy_project(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("tmp"))
    short_tmp(dest)
    return dest


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def env_for(root: Path, fault: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env["TMPDIR"] = str((root / "tmp").resolve())  # the kernel's socket folder lands where the test can see it
    if fault is not None:
        env[FAULT_ENV] = fault
    return env


def command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "fou_review", "--root", str(root), *args]


def cli(root: Path, *args: str, fault: str | None = None, prefix: list[str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), *command(root, *args)], capture_output=True, text=True, check=False,
                          timeout=300, env=env_for(root, fault), cwd=root)


def hidden(reports: Path) -> list[str]:
    """Every entry under reports/ whose name starts with a dot (leftovers, locks)."""
    return sorted(p.relative_to(reports).as_posix() for p in reports.rglob(".*"))


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    """Until `path` exists; fails if the process ends first (it never reached the step)."""
    deadline = time.monotonic() + 240
    while not path.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the run ended (exit {process.returncode}) before reaching the step: {out}{err}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def base(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a published Swedish 2022 record."""
    root = make_project(repo_root, tmp_path_factory.mktemp("base") / "project")
    done = cli(root, "run", YEAR, "--quiet")
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture(scope="module")
def superseded(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The record `run --supersede` makes from `base`: the new record of the fault tests."""
    root = copy_project(base, tmp_path_factory.mktemp("superseded") / "project")
    done = cli(root, "run", YEAR, "--supersede", "--quiet")
    assert done.returncode == 0, done.stderr
    return snapshot(root / "reports" / YEAR)


@pytest.fixture
def project(base: Path, tmp_path: Path) -> Path:
    return copy_project(base, tmp_path / "project")


@pytest.mark.parametrize("step", STEPS_BEFORE_SWAP + STEPS_AFTER_SWAP)
def test_a_run_killed_at_any_step_leaves_a_whole_record_and_the_next_run_cleans_up(
        project: Path, superseded: dict[str, bytes], step: str) -> None:
    reports = project / "reports"
    old = snapshot(reports / YEAR)
    killed = cli(project, "run", YEAR, "--supersede", "--quiet", fault=step)
    assert killed.returncode == FAULT_EXIT, killed.stderr
    expected = old if step in STEPS_BEFORE_SWAP else superseded
    assert snapshot(reports / YEAR) == expected  # never half: the old record or the new, whole
    leftovers = [h for h in hidden(reports) if ".tmp-" in h]
    if step in ("staging", "staged-file", "staged", "swapped"):
        assert leftovers, hidden(reports)
    checked = cli(project, "verify", YEAR, "--quiet")
    assert checked.returncode == 0, checked.stderr
    for leftover in leftovers:
        assert "Ignoreras (lämnat av en avbruten körning" in checked.stderr
        assert f"reports/{leftover}" in checked.stderr
    again = cli(project, "run", YEAR, "--quiet")
    assert again.returncode == 0, again.stderr
    for leftover in leftovers:
        assert f"Tog bort det en avbruten körning lämnat: reports/{leftover}" in again.stderr
    assert hidden(reports) == []  # the leftovers and the lock are gone
    assert snapshot(reports / YEAR) == expected  # same inputs: the same record, nothing of a leftover in it


def test_an_english_run_killed_while_staging_is_never_carried_into_the_swedish_record(
        project: Path) -> None:
    reports = project / "reports"
    swedish = snapshot(reports / YEAR)
    killed = cli(project, "run", YEAR, "--lang", "en", "--quiet", fault="staged")
    assert killed.returncode == FAULT_EXIT, killed.stderr
    (leftover,) = [h for h in hidden(reports) if ".tmp-" in h and "/" not in h.split(".tmp-")[1]]
    assert leftover.startswith(f"{YEAR}/.en.tmp-"), leftover
    inside = leftover.removeprefix(f"{YEAR}/")
    assert {k: v for k, v in snapshot(reports / YEAR).items() if not k.startswith(inside)} == swedish
    again = cli(project, "--lang", "en", "run", YEAR, "--quiet")
    assert again.returncode == 0, again.stderr
    assert f"Removed what an interrupted run left: reports/{leftover}" in again.stderr
    assert hidden(reports) == [] and snapshot(reports / YEAR) == swedish


@pytest.mark.parametrize("step", ["kernel", "snapshot"])
def test_a_killed_run_leaves_its_kernel_folder_and_the_next_run_removes_it(project: Path, step: str) -> None:
    killed = cli(project, "run", YEAR, "--quiet", fault=step)
    assert killed.returncode == FAULT_EXIT, killed.stderr
    left = sorted((project / "tmp").iterdir())
    assert all(p.name.startswith("fou-review-kernel-") for p in left), left
    (workspace,) = [p for p in left if "-run-" in p.name]  # the run's workspace: snapshot/ and out/
    (sockets,) = [p for p in left if p != workspace]  # the kernel's socket folder
    assert (sockets / "connection.json").is_file()  # the connection file lives in it too
    names = {p.name for p in workspace.iterdir()}
    assert names - {"review.pickle"} == {"snapshot", "out"}
    copied = (workspace / "snapshot" / "params" / f"{YEAR}.yaml").is_file()
    assert copied == (step == "snapshot")  # killed after the inputs were copied, or before
    assert ("review.pickle" in names) == copied  # the review handed to the kernel, written with the copy
    again = cli(project, "run", YEAR, "--quiet")
    assert again.returncode == 0, again.stderr
    assert list((project / "tmp").iterdir()) == []


def test_a_run_killed_after_its_pdf_leaves_named_folders_only_and_the_next_run_removes_them(project: Path) -> None:
    killed = cli(project, "run", YEAR, "--supersede", "--quiet", fault="staging")
    assert killed.returncode == FAULT_EXIT, killed.stderr
    left = sorted(p.name for p in (project / "tmp").iterdir())
    assert not [n for n in left if n.startswith("weasyprint-")], left  # WeasyPrint's nameless font folder
    # the PDF was set by the run's fork (yearly/record_ahead.py), which removed its fonts before handing it over
    assert not [n for n in left if n.startswith("fou-review-pdf-")], left
    (workspace,) = [n for n in left if n.startswith("fou-review-kernel-")]  # the run's workspace (kernel stopped)
    assert workspace.split("-")[3].isdigit()  # named after the run's process
    again = cli(project, "run", YEAR, "--quiet")
    assert again.returncode == 0, again.stderr
    assert list((project / "tmp").iterdir()) == []


def test_a_run_killed_while_its_fork_sets_the_pdf_leaves_only_what_the_next_run_removes(project: Path) -> None:
    killed = cli(project, "run", YEAR, "--supersede", "--quiet", fault="executed")  # the fork is in WeasyPrint
    assert killed.returncode == FAULT_EXIT, killed.stderr
    left = sorted(p.name for p in (project / "tmp").iterdir())
    assert not [n for n in left if n.startswith("weasyprint-")], left
    # the run's workspace, and the fonts of its fork (killed with it), each named after its process
    assert [n for n in left if n.startswith("fou-review-kernel-")] and all(
        n.startswith(("fou-review-kernel-", "fou-review-pdf-")) for n in left), left
    again = cli(project, "run", YEAR, "--quiet")
    assert again.returncode == 0, again.stderr
    assert list((project / "tmp").iterdir()) == []


def test_a_read_only_record_folder_is_refused_and_left_as_it_was(project: Path) -> None:
    reports = project / "reports"
    target = reports / YEAR
    old = snapshot(target)
    target.chmod(0o555)
    try:
        probe = subprocess.run([*NO_OVERRIDE, "sh", "-c", f"touch '{target}/probe'"], capture_output=True,
                               check=False)
        assert probe.returncode != 0, "setpriv did not drop the override rights"
        done = cli(project, "run", YEAR, "--supersede", "--quiet", prefix=NO_OVERRIDE)
        assert done.returncode == 1, done.stderr
        line = done.stderr.strip().splitlines()[-1]
        assert line.startswith(
            f"fou-review: kunde inte publicera reports/{YEAR}: du saknar rätt att ändra mappen"), line
        assert f"reports/{YEAR} är som före körningen" in line and ".tmp-" not in line
        assert snapshot(target) == old and hidden(reports) == []
        english = cli(project, "--lang", "en", "run", YEAR, "--supersede", "--quiet", prefix=NO_OVERRIDE)
        assert english.returncode == 1
        assert f"could not publish reports/{YEAR}: you lack the right to change the folder" in english.stderr
    finally:
        target.chmod(0o755)
    assert snapshot(target) == old and hidden(reports) == []


def test_a_file_where_the_record_folder_should_be_is_left_alone(fresh: Path) -> None:
    reports = fresh / "reports"
    reports.mkdir()
    (reports / YEAR).write_bytes(b"not a folder\n")
    done = cli(fresh, "run", YEAR, "--quiet")
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (f"fou-review: kunde inte publicera reports/{YEAR}: reports/{YEAR} är inte en mapp; "
                                   f"reports/{YEAR} är som före körningen")
    assert (reports / YEAR).read_bytes() == b"not a folder\n"
    assert sorted(p.name for p in reports.iterdir()) == [YEAR]
    english = cli(fresh, "--lang", "en", "run", YEAR, "--quiet")
    assert f"could not publish reports/{YEAR}: reports/{YEAR} is not a folder" in english.stderr


@pytest.fixture
def fresh(repo_root: Path, tmp_path: Path) -> Path:
    return make_project(repo_root, tmp_path / "fresh")


def test_a_full_disk_while_staging_leaves_the_old_record(project: Path) -> None:
    reports = project / "reports"
    old = snapshot(reports / YEAR)
    done = cli(project, "run", YEAR, "--supersede", "--quiet", fault="staged-file:errno=ENOSPC")
    assert done.returncode == 1, done.stderr
    assert f"fou-review: kunde inte publicera reports/{YEAR}: disken är full" in done.stderr
    assert snapshot(reports / YEAR) == old and hidden(reports) == []


def test_two_runs_take_turns(project: Path, tmp_path: Path, superseded: dict[str, bytes]) -> None:
    gate = tmp_path / "gate"
    first = subprocess.Popen(command(project, "run", YEAR, "--supersede", "--quiet"), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env_for(project, f"staged:wait={gate}"))
    wait_for(Path(f"{gate}.waiting"), first)  # the first run is staged, holding the lock
    second = subprocess.Popen(command(project, "run", YEAR, "--quiet"), text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env_for(project))
    assert second.stderr is not None
    line = second.stderr.readline()  # blocks until the second run says it waits (or ends)
    assert line.startswith(f"Väntar: en annan körning av {YEAR} pågår"), line + second.stderr.read()
    gate.touch()
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert f"publicerat i reports/{YEAR}" in out1 and f"publicerat i reports/{YEAR}" in out2
    assert snapshot(project / "reports" / YEAR) == superseded  # the second re-made the first one's record
    assert hidden(project / "reports") == []


def test_a_record_changed_by_someone_else_meanwhile_is_not_overwritten(project: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    target = project / "reports" / YEAR
    run = subprocess.Popen(command(project, "run", YEAR, "--supersede", "--quiet"), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(project, f"staged:wait={gate}"))
    wait_for(Path(f"{gate}.waiting"), run)
    (target / "note.txt").write_text("published by someone else\n", encoding="utf-8")  # a writer without the lock
    theirs = snapshot(target)
    gate.touch()
    _, err = run.communicate(timeout=300)
    assert run.returncode == 1, err
    assert err.strip() == (f"fou-review: kunde inte publicera reports/{YEAR}: en annan körning publicerade "
                           f"reports/{YEAR} under tiden; kör igen; reports/{YEAR} är som före körningen")
    assert snapshot(target) == theirs and hidden(project / "reports") == []


def test_a_terminated_run_cleans_up_and_leaves_the_old_record(project: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    reports = project / "reports"
    old = snapshot(reports / YEAR)
    run = subprocess.Popen(command(project, "run", YEAR, "--supersede", "--quiet"), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(project, f"staged:wait={gate}"))
    wait_for(Path(f"{gate}.waiting"), run)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=300)
    assert run.returncode == 130, err
    assert "avbruten: inget är publicerat till hälften" in err and "Traceback" not in err
    assert snapshot(reports / YEAR) == old and hidden(reports) == []
    assert list((project / "tmp").iterdir()) == []


def test_a_publish_error_reads_in_both_languages_and_survives_pickling() -> None:
    import pickle

    from fou_review.errors import RunError
    from fou_review.yearly.publish import PublishError

    err = PublishError.of("reports/2022", "disk_full", "No space left on device")
    assert isinstance(err, RunError) and err.reason == "disk_full" and err.target == "reports/2022"
    assert str(err) == ("kunde inte publicera reports/2022: disken är full (No space left on device); "
                        "reports/2022 är som före körningen")
    assert err.message("en") == ("could not publish reports/2022: the disk is full (No space left on device); "
                                 "reports/2022 is as it was before the run")
    assert pickle.loads(pickle.dumps(err)) == err
