"""The cyclic garbage collector paused while something large is built (`paused()`).

In the notebook's kernel the year's review is in memory (some 10^6 tracked objects at 10^4
applications). The record's sections and a workbook's view build thousands of rows, cells and texts at
a time; those that outlive a young collection count towards a full one, and a full collection walks the
whole process (about 0.08 s at 10^4): half the record's rendering time, and once or more in almost every
view built. What they leave behind is freed by reference counting; the collector runs again as before
afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block; the collector's state as before after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
