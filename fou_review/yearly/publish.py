"""Publishing a record folder: all of it or nothing, never a half-written record, always a true report.

A run holds the year's lock (`reports/.<year>.lock`, `flock`) from the frozen check to the end of
publishing, so two runs of the same year (either language) take turns. Under the lock:

1. Leftovers of killed runs are removed: every `.<name>.tmp-*` or `.<name>.old-*` folder beside a
   record folder (`reports/.2022.tmp-…`, `reports/2022/.en.tmp-…`). Only a run holding the lock makes
   such folders, so any found under it belong to a run that died. They are never copied into a
   record (a new record carries over only the old folder's entries that do not start with a dot),
   `verify` lists and ignores them, and git ignores them.
2. Before anything is written the target is checked: it must be a folder (or absent), and this user
   must be able to replace it (write rights on it and every folder in it, and on its parent).
3. The new files are written into `.<name>.tmp-<pid>-*` beside the target, with everything else the
   old folder holds carried over (the English record `en/`, earlier records under `superseded/`).
4. The folder is swapped in with one atomic `renameat2(RENAME_EXCHANGE)` (a new target: one
   `rename(RENAME_NOREPLACE)`), after checking that nobody changed the target since the run read it.
   The old folder, now in the temporary folder's place, is then removed.

A failure before the swap removes the temporary folder, leaves the old record byte for byte and
raises `PublishError` naming the target and why. A kill at any moment leaves the old record or the
new one in place, whole, plus at most a leftover that the next run removes.

`FOU_REVIEW_FAULT` is a test hook (see `fault`): it stops or pauses a run at a named step.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fou_review.atomic import fsync_folder
from fou_review.errors import PublishError  # defined in errors; still importable from here
from fou_review.yearly.manifest import MANIFEST_NAME, sha256_file

RECORD_FILES = ("allocation.html", "allocation.pdf", "data/README.md", "data/administrations.csv",
                "data/datapackage.json", "data/decisions.csv", "data/funds.csv", "data/grants-360giving.json",
                "decisions.csv", "decisions.xlsx", "manifest.json", "review.ipynb")
# (`data/followup.csv` joins the record's files in a year with a follow-up: see record.open_data.)
SUPERSEDED = "superseded"
ENGLISH = "en"
FAULT_ENV = "FOU_REVIEW_FAULT"
FAULT_EXIT = 75  # the exit status of a run stopped by the test hook
STEPS = ("locked", "staging", "staged-file", "staged", "swapped", "published")

_PERMISSION = {errno.EACCES, errno.EPERM, errno.EROFS}
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_NOT_A_FOLDER = {errno.ENOTDIR, errno.EISDIR}
_MEANWHILE = {errno.EEXIST, errno.ENOTEMPTY}

def record_dir(root: Path, year: int, lang: str) -> Path:
    """`reports/<year>/` for the Swedish record, `reports/<year>/en/` for the English one."""
    base = Path(root) / "reports" / str(year)
    return base / ENGLISH if lang == "en" else base


def next_superseded(target: Path) -> int:
    """The number the current record gets when superseded: one more than the highest so far."""
    folder = target / SUPERSEDED
    taken = [int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] if folder.is_dir() else []
    return max(taken, default=0) + 1


def superseded_entry(root: Path, target: Path, number: int) -> dict[str, str]:
    """What the new manifest says it supersedes: the old allocation.html at its versioned place."""
    moved = target / SUPERSEDED / str(number) / "allocation.html"
    return {"path": moved.relative_to(root).as_posix(), "sha256": sha256_file(target / "allocation.html")}


# --- the test hook ------------------------------------------------------------------------------------

def fault(step: str) -> None:
    """Stop or pause here when `FOU_REVIEW_FAULT` names this step (a test hook; no-op otherwise).

    `FOU_REVIEW_FAULT` is a comma-separated list of `<step>` (the process ends at once with exit
    status 75, as if killed: no clean-up runs), `<step>:errno=<NAME>` (an `OSError` with that errno
    is raised, e.g. `staging:errno=ENOSPC`) or `<step>:wait=<file>` (the run creates `<file>.waiting`,
    then waits until `<file>` exists). Steps, in order: locked, staging, staged-file, staged, swapped,
    published; `kernel` (kernel started, in run.py).
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    for item in spec.split(","):
        name, _, action = item.strip().partition(":")
        if name != step:
            continue
        if action.startswith("errno="):
            code = getattr(errno, action.removeprefix("errno="))
            raise OSError(code, os.strerror(code))
        if action.startswith("wait="):
            gate = Path(action.removeprefix("wait="))
            Path(f"{gate}.waiting").touch()
            while not gate.exists():
                time.sleep(0.02)
            continue
        os._exit(FAULT_EXIT)


# --- the lock -----------------------------------------------------------------------------------------

def lock_path(root: Path, year: int) -> Path:
    """`reports/.<year>.lock`: one lock for both languages of a year."""
    return Path(root) / "reports" / f".{year}.lock"


@contextmanager
def year_lock(root: Path, year: int, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the year's lock; when another run holds it, call `on_wait` once and wait for it.

    The lock file is removed on the way out (while still locked), so a finished run leaves nothing;
    a lock file left by a killed run is harmless (the kernel released its lock) and re-used.
    """
    path = lock_path(root, year)
    target = path.with_name(str(year)).relative_to(root).as_posix()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _publish_error(target, exc) from None
    waited = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise _publish_error(target, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file after we opened it: lock the new one
    try:
        yield
    finally:
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)


# --- leftovers of killed runs --------------------------------------------------------------------------

def _leftover_folders(target: Path) -> list[Path]:
    parent = target.parent
    if not parent.is_dir():
        return []
    prefixes = (f".{target.name}.tmp-", f".{target.name}.old-")
    return sorted(p for p in parent.iterdir() if p.name.startswith(prefixes))


def leftovers(root: Path, year: int) -> list[Path]:
    """Folders a killed run left beside the year's records (both languages); never part of a record."""
    return [*_leftover_folders(record_dir(root, year, "sv")), *_leftover_folders(record_dir(root, year, "en"))]


def remove_leftovers(root: Path, year: int) -> tuple[list[Path], list[Path]]:
    """Remove the leftovers of killed runs (call it holding the year's lock): (removed, kept)."""
    removed, kept = [], []
    for path in leftovers(root, year):
        try:
            _remove(path)
            removed.append(path)
        except OSError:
            kept.append(path)
    return removed, kept


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for folder in [path, *(p for p in path.rglob("*") if p.is_dir() and not p.is_symlink())]:
            folder.chmod(0o755)  # a copied read-only folder must not block its own removal
        shutil.rmtree(path)
    else:
        path.unlink()


# --- checks ---------------------------------------------------------------------------------------------

def fingerprint(target: Path) -> str:
    """What the run saw of the target: every path in it with its size, and the manifest's hash."""
    digest = hashlib.sha256()
    if target.is_symlink() or target.exists() and not target.is_dir():
        digest.update(b"not a folder")
    elif target.is_dir():
        for path in sorted(target.rglob("*")):
            rel = path.relative_to(target).as_posix()
            size = path.lstat().st_size if not path.is_dir() else -1
            digest.update(f"{rel}\0{size}\n".encode())
        if (target / MANIFEST_NAME).is_file():
            digest.update(sha256_file(target / MANIFEST_NAME).encode())
    return digest.hexdigest()


def check_target(root: Path, target: Path) -> None:
    """Raise `PublishError` unless `target` is absent or a folder this user can replace."""
    rel = _relative(root, target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise PublishError.of(rel, "not_a_folder")
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise PublishError.of(rel, "not_a_folder")
    folders = [parent] if parent.exists() else []
    if target.is_dir():
        folders += [target, *(p for p in target.rglob("*") if p.is_dir() and not p.is_symlink())]
    for folder in folders:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PublishError.of(rel, "permission", f"{_relative(root, folder)}: {os.strerror(errno.EACCES)}")


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _publish_error(target: str, exc: OSError) -> PublishError:
    code = exc.errno or 0
    reason = ("permission" if code in _PERMISSION else "disk_full" if code in _DISK_FULL
              else "not_a_folder" if code in _NOT_A_FOLDER else "other")
    return PublishError.of(target, reason, exc.strerror or str(exc))


# --- staging and swapping -------------------------------------------------------------------------------

@contextmanager
def staging(target: Path) -> Iterator[Path]:
    """A temporary folder beside `target` (`.<name>.tmp-<pid>-*`), removed on the way out."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-{os.getpid()}-"))
    try:
        yield tmp
    finally:
        if tmp.exists():
            try:
                _remove(tmp)
            except OSError:
                pass  # a leftover: the next run removes it, verify lists it


def stage_record(tmp: Path, files: Mapping[str, bytes], target: Path, supersede_as: int | None) -> None:
    """Fill `tmp` with the new files plus what of the old folder must survive."""
    for i, (name, data) in enumerate(files.items()):
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)  # data/…
        (tmp / name).write_bytes(data)
        if i == 0:
            fault("staged-file")
    made = {name.split("/", 1)[0] for name in files}  # a folder of the record (data/) is made anew
    if target.is_dir():
        _carry_over(tmp, target, made)
        if supersede_as is not None:
            _keep_superseded(tmp, target, supersede_as)
    for path in [tmp, *tmp.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)  # mkdtemp makes 0700; a published record is readable by everyone
    _fsync_tree(tmp)


def _carry_over(tmp: Path, target: Path, made: set[str]) -> None:
    """Copy into `tmp` what of the old folder survives: folders not made anew and files not of the record."""
    for entry in sorted(target.iterdir()):
        if entry.name.startswith(".") or entry.name in made:
            continue  # hidden entries (leftovers of killed runs among them) are never carried over
        if entry.is_dir():
            shutil.copytree(entry, tmp / entry.name, symlinks=True)
        elif entry.name not in RECORD_FILES:
            shutil.copy2(entry, tmp / entry.name)


def _keep_superseded(tmp: Path, target: Path, supersede_as: int) -> None:
    """Keep the old record's files under `superseded/<n>/` of the new folder."""
    keep = tmp / SUPERSEDED / str(supersede_as)
    keep.mkdir(parents=True)
    for name in RECORD_FILES:
        if (target / name).is_file():
            (keep / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target / name, keep / name)


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder of `folder` to disk before it is swapped in."""
    for path in [*(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()), folder,
                 *(p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink())]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def swap_in(tmp: Path, target: Path) -> None:
    """Make `tmp` the new `target` in one step; the old folder ends up at `tmp`'s path.

    Raises `FileExistsError` when `target` appeared since the run looked (a new target is never
    moved over anything).
    """
    if not (target.exists() or target.is_symlink()):
        if _rename2(tmp, target, _RENAME_NOREPLACE) is False:
            if target.exists():
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
            os.rename(tmp, target)
        fsync_folder(target.parent)
        return
    if _rename2(tmp, target, _RENAME_EXCHANGE) is False:
        aside = target.with_name(f".{target.name}.old-{os.getpid()}")  # no renameat2: two renames
        os.rename(target, aside)
        try:
            os.rename(tmp, target)
        except BaseException:
            os.rename(aside, target)
            raise
        os.rename(aside, tmp)
    fsync_folder(target.parent)




_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2


def _rename2(a: Path, b: Path, flags: int) -> bool:
    """renameat2(a, b, flags): True when done, False when the call is unavailable; OSError on failure."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        renameat2 = ctypes.CDLL(name, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL):  # no renameat2, or a file system without the flag
        return False
    raise OSError(code, os.strerror(code), str(b))


def publish(root: Path, target: Path, files: Mapping[str, bytes], supersede_as: int | None,
            seen: str) -> list[Path]:
    """Publish `files` as `target`, all or nothing; call it holding the year's lock.

    `seen` is the `fingerprint` of the target when the run read it: if it changed meanwhile, nothing
    is published (`PublishError` "published_meanwhile"). Returns what could not be removed of the old
    folder after a successful swap (normally nothing: `check_target` makes sure it can be).
    """
    rel = _relative(root, target)
    check_target(root, target)
    if fingerprint(target) != seen:
        raise PublishError.of(rel, "published_meanwhile")
    try:
        with staging(target) as tmp:
            fault("staging")
            stage_record(tmp, files, target, supersede_as)
            fault("staged")
            if fingerprint(target) != seen:
                raise PublishError.of(rel, "published_meanwhile")
            try:
                swap_in(tmp, target)
            except OSError as exc:
                if exc.errno in _MEANWHILE:
                    raise PublishError.of(rel, "published_meanwhile") from None
                raise
            fault("swapped")
            try:
                if tmp.exists():
                    _remove(tmp)
            except OSError:
                return [tmp]
            return []
    except OSError as exc:
        raise _publish_error(rel, exc) from None
