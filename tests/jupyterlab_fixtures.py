"""Fixtures for tests that drive a real JupyterLab with headless Chromium.

Adapted from /work/shared/examples/jupyterlab/ (see its README for the pitfalls they avoid): each
test gets its own server on 127.0.0.1 with a random token, `--allow-root`, private config, data,
settings and workspaces folders (with the news toast off), and is stopped by PID, kernels included.
Import the fixtures into a test module: `from jupyterlab_fixtures import ...`.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import psutil
import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")  # Debian's package, no `playwright install`
CHROMIUM_ARGS = [
    "--no-sandbox",  # needed when running as root
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]
KERNEL = "Python 3 (ipykernel)"  # display name of the kernelspec named in the notebook's metadata


class JupyterLab(NamedTuple):
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the server's root_dir: copy notebooks here
    pid: int  # the server's process (its kernels are its children)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], url: str, token: str, timeout: float) -> bool:
    """Poll the REST API until it answers; False if the server exited first (e.g. port taken)."""
    request = urllib.request.Request(f"{url}/api/status", headers={"Authorization": f"token {token}"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server (it shuts its kernels down), then kill any kernel that survived."""
    try:  # kernels run in their own session, so the server's process group does not include them
        kernels = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kernels = []
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    survivors = psutil.wait_procs(kernels, timeout=10)[1]
    for kernel in survivors:
        kernel.kill()  # psutil checks the PID still belongs to the process we listed
    psutil.wait_procs(survivors, timeout=5)


@contextmanager
def running_jupyterlab() -> Iterator[JupyterLab]:
    """A private JupyterLab on a free port with a random token (also for bench/bench_form_click.py)."""
    with tempfile.TemporaryDirectory(prefix="jupyterlab-test-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "root"
        root.mkdir()
        # Seed a private settings dir. fetchNews=false stops the "get notified about official
        # Jupyter news?" toast, which otherwise sits over the bottom right of the notebook.
        notification = tmp / "settings" / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True)
        (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        env = {
            **os.environ,
            # Only the per-user dirs move: the venv's share/jupyter (python3 kernelspec, the
            # ipywidgets lab extension) and etc/jupyter are still searched.
            "JUPYTER_CONFIG_DIR": str(tmp / "config"),
            "JUPYTER_DATA_DIR": str(tmp / "data"),  # also moves the runtime dir (connection files)
            "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),  # empty: no layout restored
            "IPYTHONDIR": str(tmp / "ipython"),  # no user startup files in the kernel
        }
        token = secrets.token_hex(16)
        log_path = tmp / "server.log"
        for _attempt in range(3):  # another process may take the free port before the server binds it
            port = _free_port()
            with log_path.open("ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                     f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                     f"--ServerApp.root_dir={root}"],
                    env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,  # own process group: stopped as one, never hit by our Ctrl-C
                )
            url = f"http://127.0.0.1:{port}"
            if _wait_ready(proc, url, token, timeout=60):
                break
            _stop(proc)
        else:
            raise RuntimeError(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}")
        try:
            yield JupyterLab(url, token, root, proc.pid)
        finally:
            _stop(proc)
            print(log_path.read_text()[-3000:])  # pytest shows this only when the test failed


@pytest.fixture
def jupyterlab_server() -> Iterator[JupyterLab]:
    """A private JupyterLab on a free port with a random token; yields (url, token, root)."""
    with running_jupyterlab() as lab:
        yield lab


@pytest.fixture
def console_errors() -> list[str]:
    """Console messages of type "error" and uncaught exceptions from the page."""
    return []


@pytest.fixture
def chromium_page(console_errors: list[str]) -> Iterator[Page]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)")
    with chromium(console_errors) as page:
        yield page


@contextmanager
def chromium(console_errors: list[str]) -> Iterator[Page]:
    """Headless Chromium (Debian's) with one 1280x900 page; console errors are appended to `console_errors`."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
        try:
            yield page
        finally:
            browser.close()
