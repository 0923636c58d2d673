"""The kernel a yearly run executes its notebook in: started early, stopped as soon as it is done.

Forked from this process with the notebook's imports already done (`forked_kernel`), before the
inputs are validated, so that its boot overlaps that work; stopped with a kill right after the last
cell (its outputs are in hand, a graceful shutdown only costs time), while the record is being
converted. The sockets of every client papermill opens are closed, so nothing is left for the
garbage collector to warn about.

The sockets live in `<tmp>/fou-review-kernel-<pid>-*`, named after the run's process: a run that was
killed leaves its folder behind, and the next run removes every such folder whose process is gone
(`remove_stale_kernel_folders`); it removes the fonts a killed run's PDF step copied too
(`<tmp>/fou-review-pdf-<pid>-*`, see `record.archive.prepare`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fou_review.record.archive import FONT_FOLDER_PREFIX
from fou_review.yearly.forked_kernel import ForkProvisioner, preload

KERNEL = "python3"
PREFIX = "fou-review-kernel-"
STALE_PREFIXES = (PREFIX, FONT_FOLDER_PREFIX)  # <tmp>/<prefix><pid>-*: a run's temporary folders


def _alive(pid: int) -> bool:
    """Is process `pid` running? A zombie (ended, not yet reaped: a killed run's fork whose new parent,
    PID 1, has not waited for it yet) is not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("ascii", errors="replace")
    except OSError:
        return True  # no /proc: signal 0 is all there is to go by
    return stat[stat.rfind(")") + 2:][:1] != "Z"  # the state follows the command name in parentheses


def remove_stale_kernel_folders(folder: Path | None = None) -> list[Path]:
    """Remove this user's temporary folders of killed runs (their process is gone): kernel sockets,
    workspaces, the PDF's fonts; returns them."""
    base = Path(folder or tempfile.gettempdir())
    removed = []
    for path in sorted(p for prefix in STALE_PREFIXES for p in base.glob(f"{prefix}*")):
        pid = next(path.name.removeprefix(p) for p in STALE_PREFIXES if path.name.startswith(p)).split("-", 1)[0]
        try:
            mine = path.is_dir() and not path.is_symlink() and path.stat().st_uid == os.getuid()
        except OSError:
            continue
        if not mine or not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


WAIT_POLL_S = 0.005  # how often a stopped kernel is looked at until it has gone


class Kernel:
    """A started python3 kernel and the clients opened on it."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None, notebook: Path | None = None) -> None:
        import uuid

        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        clients: list[Any] = []

        class TrackedKernelManager(AsyncKernelManager):
            """Remembers the clients papermill makes, to close their sockets when done."""

            def client(self, **kwargs: Any) -> Any:
                kc = super().client(**kwargs)
                clients.append(kc)
                return kc

            async def _async_pre_start_kernel(self, **kw: Any) -> Any:
                if self.provisioner is None:  # the fork when possible, else jupyter_client's own launch
                    self.kernel_id = self.kernel_id or str(uuid.uuid4())
                    self.provisioner = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                                       parent=self)
                return await super()._async_pre_start_kernel(**kw)

            async def _async_wait(self, pollinterval: float = 0.1) -> None:
                # after the kill, jupyter_client looks every 0.1 s whether the kernel has gone; it is gone
                # in milliseconds, and each run stopped its kernel a tenth of a second late
                await super()._async_wait(pollinterval=min(pollinterval, WAIT_POLL_S))

        preload(notebook)  # what the notebook imports, before the fork: the kernel starts with it
        self._clients = clients
        self._stopped = False
        # IPC sockets (files in a private temporary folder) rather than TCP: nothing listens on the
        # network, and ipykernel has no reason to warn about unencrypted TCP at every run.
        self._sockets = tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-")
        folder = Path(self._sockets.name)  # the connection file too: a killed run leaves one folder
        self.manager = TrackedKernelManager(kernel_name=KERNEL, transport="ipc", ip=str(folder / "kernel"),
                                            connection_file=str(folder / "connection.json"))
        run_sync(self.manager.start_kernel)(cwd=str(cwd), extra_arguments=["--HistoryManager.hist_file=:memory:"],
                                            env={**os.environ, **(env or {})})

    def stop(self) -> None:
        """Kill the kernel and close every socket; a second call does nothing."""
        if self._stopped:
            return
        from jupyter_core.utils import run_sync

        self._stopped = True
        for kc in self._clients:
            kc.stop_channels()
        run_sync(self.manager.shutdown_kernel)(now=True)
        for kc in self._clients:
            kc.context.destroy(linger=0)
        self.manager.context.destroy(linger=0)
        self._sockets.cleanup()


@contextmanager
def started_kernel(cwd: Path, env: dict[str, str] | None = None, notebook: Path | None = None) -> Iterator[Kernel]:
    """A kernel started now in `cwd` (with `env` added to this process's environment; `notebook`: the one
    it will run, whose imports it starts with), stopped on the way out at the latest."""
    kernel = Kernel(cwd, env, notebook)
    try:
        yield kernel
    finally:
        kernel.stop()
