"""Forking this process safely: when it may be done, and a child that ends with its parent."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading

PR_SET_PDEATHSIG = 1  # Linux's prctl option: a signal for this process when its parent ends


def fork_possible() -> bool:
    """Whether this process may fork now: POSIX, and no other Python thread running (a lock another thread
    holds would stay locked in the child)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def die_with_parent(parent: int) -> None:
    """In a forked child: ask Linux to kill this process when `parent` ends; end now if it has already gone."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


__all__ = ["die_with_parent", "fork_possible"]
