"""The run's kernel as a fork of this process: the same interpreter, its modules already imported.

A kernel started the usual way is a new interpreter: about half a second of start-up and imports
(IPython, ipykernel, zmq) before it answers, then the notebook's own imports (pandas, pydantic,
ipywidgets, the package) in its first cells: together more than the rest of the run. The native
`python3` kernel *is* this interpreter (jupyter_client replaces the kernel spec's `python` with
`sys.executable`), so a fork of this process is that kernel without the start-up: `preload` imports
what the notebook imports here, once per process, and every kernel forked afterwards has it.

What a fresh interpreter would not inherit is put back in the child before ipykernel starts: a new
session (as `Popen(start_new_session=True)`), stdin from /dev/null, no file descriptor above 2 (as
`close_fds`), the kernel's folder and environment, Python's default warning filters and signal
handlers, no running event loop, and the parent's objects frozen out of the garbage collector (they
belong to the parent: the child never touches them and leaves with `os._exit`, running no clean-up of
theirs). ipykernel reads its parent's pid from the environment when it is imported, so it is passed
on the command line.

The fork is used only for the `python -m ipykernel_launcher` command of this interpreter, on POSIX,
when this process runs no other Python thread (a lock held by another thread at the fork would stay
held in the child); otherwise the kernel is started as a new process, as jupyter_client does.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import importlib
import json
import os
import signal
import sys
import warnings
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from fou_review.forking import fork_possible

LAUNCHER = ["-m", "ipykernel_launcher"]

# Python's own warning filters when no -W option or PYTHONWARNINGS is given (a release build), in the
# order `warnings.filters` lists them; the parent's may be anything (pytest turns warnings into errors).
DEFAULT_FILTERS: list[tuple[str, type[Warning], str]] = [
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
]


def notebook_imports(notebook: Path) -> list[str]:
    """The modules a notebook's code cells import at their top level, in order (none if unreadable)."""
    try:
        cells = json.loads(Path(notebook).read_text("utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    names: list[str] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        try:
            tree = ast.parse("".join(source) if isinstance(source, list) else str(source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
    return list(dict.fromkeys(names))


@cache
def _import_once(name: str) -> bool:
    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 - the kernel will import it itself and report the error in its cell
        return False
    return True


def preload(notebook: Path | None) -> None:
    """Import ipykernel and what `notebook` imports into this process, for the kernels forked from it; and what
    an imported module names in its `FORK_PRELOAD` (what it imports only when used, e.g. in a process of its
    own that the kernel forks: a process running many years then imports it once)."""
    if not fork_possible():
        return
    for name in ["ipykernel.kernelapp", *(notebook_imports(notebook) if notebook else [])]:
        if _import_once(name):
            for later in getattr(sys.modules[name], "FORK_PRELOAD", ()):
                _import_once(later)


class ForkedProcess:
    """The forked kernel, with the part of `subprocess.Popen` that jupyter_client uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        """The exit code if the kernel has ended, else None."""
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the kernel to end; its exit code."""
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Send a signal to the kernel unless it has ended."""
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)


def _become_kernel(argv: list[str], cwd: str, env: dict[str, str]) -> NoReturn:
    """In the forked child: reset what a new interpreter would not have, then run ipykernel; never returns."""
    code = 1
    try:
        gc.freeze()  # the parent's objects: never collected (and never cleaned up) here
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.closerange(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM, signal.SIGCHLD, signal.SIGUSR1):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        warnings.resetwarnings()
        for action, category, module in reversed(DEFAULT_FILTERS):
            warnings.filterwarnings(action, category=category, module=module)  # type: ignore[arg-type]
        asyncio.events._set_running_loop(None)  # the parent's loop is running in this very call
        asyncio.set_event_loop(asyncio.new_event_loop())
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - shown on the kernel's stderr, as a kernel that fails to start
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class ForkProvisioner(LocalProvisioner):
    """Launches the native kernel as a fork of this process when it can (see the module's docstring)."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        """Fork the kernel, or start it as jupyter_client does when a fork is not possible."""
        if cmd[:3] != [sys.executable, *LAUNCHER] or not fork_possible():
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ) | {"JPY_PARENT_PID": str(os.getpid())}
        cwd = str(kwargs.get("cwd") or os.getcwd())
        argv = [*cmd[3:], f"--IPKernelApp.parent_handle={os.getpid()}"]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _become_kernel(argv, cwd, env)
        self.process = ForkedProcess(pid)  # type: ignore[assignment] # what jupyter_client uses of a Popen
        self.pid = pid
        self.pgid = pid  # the child's own session and process group
        self.cwd = cwd
        return self.connection_info
