"""The run's kernel forked from this process (yearly/forked_kernel.py): what it starts with, what it
does not inherit, the fallback when a fork is not safe, and the same record either way."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client import BlockingKernelClient

from fou_review.yearly import forked_kernel
from fou_review.yearly.forked_kernel import DEFAULT_FILTERS, ForkedProcess, notebook_imports
from fou_review.yearly.kernel import started_kernel
from fou_review.yearly.run import make_record

REPO = Path(__file__).resolve().parent.parent
PROBE = """
import json, os, signal, sys, warnings
def target(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the listing's own descriptor, closed by now
        return ""
print(json.dumps({
    "pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0), "cwd": os.getcwd(),
    "env": os.environ.get("FOU_TEST_MARK"), "fds": [target(f) for f in os.listdir("/proc/self/fd") if int(f) > 2],
    "filters": [(a, c.__name__, getattr(m, "pattern", m) or "") for a, _, c, m, _ in warnings.filters[-5:]],
    "pytest_loaded": "pytest" in sys.modules, "pandas_loaded": "pandas" in sys.modules,
    "sigterm_default": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
}))
"""


def probe(kernel: Any) -> dict[str, Any]:
    """Run PROBE in the kernel; its one line of JSON."""
    kc = BlockingKernelClient(connection_file=kernel.manager.connection_file)
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        out: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        kc.execute_interactive(PROBE, output_hook=hook, timeout=60)
        return json.loads("".join(out))  # type: ignore[no-any-return]
    finally:
        kc.stop_channels()


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    """A notebook importing pandas (and a module that does not exist: the preload skips it)."""
    path = tmp_path / "nb.ipynb"
    cells = [{"cell_type": "code", "source": ["import pandas\n", "from no_such_module_x import y\n"],
              "metadata": {}, "outputs": [], "execution_count": None}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), "utf-8")
    return path


@pytest.fixture
def open_file(tmp_path: Path) -> Iterator[str]:
    """A file open in this process while the kernel starts (the kernel must not have it open)."""
    fd = os.open(tmp_path / "held", os.O_CREAT | os.O_RDWR)
    try:
        yield os.readlink(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def test_notebook_imports_are_read_from_the_code_cells(notebook: Path, tmp_path: Path) -> None:
    assert notebook_imports(notebook) == ["pandas", "no_such_module_x"]
    assert notebook_imports(tmp_path / "missing.ipynb") == []
    assert "fou_review.yearly.run_files" in notebook_imports(REPO / "notebooks" / "review.ipynb")


def test_preload_imports_what_an_imported_module_names_for_later(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fou_probe_first.py").write_text('FORK_PRELOAD = ("fou_probe_later", "no_such_module_y")\n')
    (tmp_path / "fou_probe_later.py").write_text("")
    page = {"cells": [{"cell_type": "code", "source": "import fou_probe_first", "metadata": {}}]}
    (tmp_path / "probe.ipynb").write_text(json.dumps(page))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("fou_probe_first", "fou_probe_later"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    forked_kernel.preload(tmp_path / "probe.ipynb")
    assert "fou_probe_later" in sys.modules  # a module it cannot import is left to whoever needs it
    from fou_review.yearly import run_files

    assert "openpyxl.writer.excel" in run_files.FORK_PRELOAD


def test_the_kernel_is_a_fork_that_starts_like_a_new_interpreter(tmp_path: Path, notebook: Path,
                                                                  open_file: str) -> None:
    folder = tmp_path / "cwd"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as pytest has it: the kernel must have Python's defaults instead
        with started_kernel(folder, env={"FOU_TEST_MARK": "marked"}, notebook=notebook) as kernel:
            assert isinstance(kernel.manager.provisioner.process, ForkedProcess)
            seen = probe(kernel)
    assert seen["pytest_loaded"] and seen["pandas_loaded"]  # a fork: this process's modules, the preload's
    assert seen["ppid"] == os.getpid() and seen["sid"] == seen["pid"]  # its own session, as Popen's
    assert seen["cwd"] == str(folder) and seen["env"] == "marked"
    assert open_file not in seen["fds"] and not any(fd.startswith(str(REPO)) for fd in seen["fds"])
    assert seen["filters"] == [[a, c.__name__, m] for a, c, m in DEFAULT_FILTERS]
    assert seen["sigterm_default"]


def test_another_thread_means_a_new_process_instead(tmp_path: Path) -> None:
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, daemon=True)
    worker.start()
    try:
        assert not forked_kernel.fork_possible()
        with started_kernel(tmp_path, env={"FOU_TEST_MARK": "new"}) as kernel:
            assert not isinstance(kernel.manager.provisioner.process, ForkedProcess)
            seen = probe(kernel)
    finally:
        stop.set()
        worker.join()
    assert not seen["pytest_loaded"] and seen["env"] == "new" and seen["ppid"] == os.getpid()


def test_the_same_record_from_a_forked_and_a_new_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    for part in ("params", "data", "notebooks"):
        shutil.copytree(REPO / part, root / part)
    kernels: list[str] = []
    real_init = ForkedProcess.__init__

    def counted(self: ForkedProcess, pid: int) -> None:
        kernels.append("forked")
        real_init(self, pid)

    monkeypatch.setattr(ForkedProcess, "__init__", counted)
    forked = make_record(root, 2022, "sv", progress=False)
    assert kernels == ["forked"]  # the first record's kernel was a fork
    monkeypatch.setattr(forked_kernel, "fork_possible", lambda: False)
    spawned = make_record(root, 2022, "sv", progress=False)
    assert kernels == ["forked"]  # the second's a new process
    assert forked.keys() == spawned.keys()
    assert [name for name in forked if forked[name] != spawned[name]] == []


def test_a_stopped_kernel_is_looked_at_often_until_it_has_gone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # jupyter_client polls every 0.1 s after the kill; the run's kernel is gone in milliseconds
    import asyncio

    from fou_review.yearly import kernel as kernel_module

    naps: list[float] = []
    real_sleep = asyncio.sleep

    async def noted(delay: float, *args: Any) -> Any:
        naps.append(delay)
        return await real_sleep(delay, *args)

    with started_kernel(tmp_path) as kernel:
        monkeypatch.setattr(asyncio, "sleep", noted)
        kernel.stop()
    assert naps and kernel_module.WAIT_POLL_S in naps and max(naps) < 0.1  # (jupyter_client's own: 0.1 s)
