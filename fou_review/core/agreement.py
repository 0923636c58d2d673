"""Agreement between reviewers for one review, computed once: calibration and robustness together.

`agreement(review) -> Agreement` runs `calibration.calibrate` and `robustness.robustness` on the
review's inputs the first time it is asked for a given `Review` object, and hands back the same result
after that. The yearly notebook shows them twice, in the workbook's view and in the record's section,
from one computation (the bootstrap is the costly part of a run). A new review (say, read again after
scores were saved) is a new object and is computed anew; the last one is held only while it is alive.

For a large year the two run side by side, robustness in a thread of its own (numpy lets go of the
interpreter while it computes; each number is computed as when they run one after the other).
"""

from __future__ import annotations

import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fou_review.core.calibration import Calibration, calibrate
from fou_review.core.pipeline import Review
from fou_review.core.robustness import Robustness, robustness


@dataclass(frozen=True)
class Agreement:
    """How far the reviewers agree: their calibration and the robustness of the funding line."""

    calibration: Calibration
    robustness: Robustness


_last: tuple[weakref.ref[Review], Agreement] | None = None
_SIDE_BY_SIDE_FROM = 20_000  # scores from which robustness runs in a thread beside calibration


def agreement(review: Review) -> Agreement:
    """Calibration and robustness of `review` (computed on the first call for this object)."""
    global _last
    if _last is not None and _last[0]() is review:
        return _last[1]
    inputs = review.inputs
    args = (inputs.applications, review.eligibility, inputs.scores, inputs.conflicts, inputs.params,
            inputs.overrides)
    if len(inputs.scores) < _SIDE_BY_SIDE_FROM:
        result = Agreement(calibrate(*args), robustness(*args))
    else:
        with ThreadPoolExecutor(1, thread_name_prefix="fou-review-robustness") as side:
            beside = side.submit(robustness, *args)
            result = Agreement(calibrate(*args), beside.result())
    _last = (weakref.ref(review), result)
    return result


__all__ = ["Agreement", "agreement"]
