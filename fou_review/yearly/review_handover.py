"""The run's validated review handed to the kernel, used only where it provably is the snapshot's review.

`fou-review run` loads and reviews the year in its own process (a user's mistake stops there), then copies
the input files into the snapshot the kernel reads; the notebook's load cell would review them again (0.4 s
at 10^4 applications). Instead:

- the run writes its review into its private workspace (`hand_over`) when the bytes its loader parsed
  (`YearInputs.digests`) are the snapshot's (`Workspace.inputs`): the same files, each with the same SHA-256.
  A file edited between the validation and the copy: nothing is handed over;
- the kernel's `NotebookParameters.review()` calls `handed_review`, which reads the file named by
  `$FOU_REVIEW_HANDED_REVIEW` (set by the run for its kernel only), checks that the snapshot's files still
  have those digests, and moves the review's paths onto the snapshot (the files read, the score files'
  stamps), so that it is what `review_year(snapshot, year)` gives. No variable, no file, a file that does
  not unpickle, another year or a digest that differs: None, and the kernel reviews the year itself.

The pickle holds the eligibility rules by their place in `eligibility.RULES` (a rule's check is a function
registered under its name, which pickle cannot name).
"""

from __future__ import annotations

import copyreg
import dataclasses
import os
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fou_review.core.eligibility import RULES
from fou_review.core.load import YearInputs, file_stamp, score_path
from fou_review.core.model import Rule
from fou_review.core.pipeline import Review
from fou_review.yearly.manifest import sha256_file

REVIEW_ENV = "FOU_REVIEW_HANDED_REVIEW"
REVIEW_FILE = "review.pickle"  # in the run's workspace folder


@dataclasses.dataclass(frozen=True)
class HandedReview:
    """What the run hands over: its review and the root its paths are under."""

    root: Path
    review: Review


def _registered_rule(position: int) -> Rule:
    """The eligibility rule at `position` in `RULES` (how the pickle names a rule)."""
    return RULES[position]


def _rule_by_position(rule: Rule) -> tuple[Any, tuple[int]]:
    if not 0 <= rule.bit < len(RULES) or RULES[rule.bit] is not rule:
        raise pickle.PicklingError(f"not a registered eligibility rule: {rule!r}")
    return _registered_rule, (rule.bit,)


_DISPATCH = copyreg.dispatch_table | {Rule: _rule_by_position}


def hand_over(path: Path, root: Path, review: Review, inputs: Sequence[Mapping[str, str]]) -> bool:
    """Write `review` (of the files under `root`) to `path` when its loader parsed exactly the snapshot's
    bytes: `inputs` ({path, sha256} of the snapshot's input files, `Workspace.inputs`) and the review's
    `digests` name the same files with the same SHA-256. Whether it was written."""
    snapshot = {entry["path"]: entry["sha256"] for entry in inputs}
    if not snapshot or dict(review.inputs.digests) != snapshot:
        return False
    try:
        with open(path, "wb") as file:
            pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = _DISPATCH  # a C-level table: no Python call per object pickled
            pickler.dump(HandedReview(Path(root), review))
    except Exception:  # noqa: BLE001 - pickle raises many types; the kernel then reviews the year itself
        Path(path).unlink(missing_ok=True)
        return False
    return True


def handed_review(root: Path, year: int) -> Review | None:
    """The run's review of `year`, its paths moved under `root` (the kernel's snapshot), when the run handed
    one over and the files under `root` have the digests it was read from; else None (see the module)."""
    name = os.environ.get(REVIEW_ENV)
    if not name:
        return None
    try:
        with open(name, "rb") as file:
            handed = pickle.load(file)
    except Exception:  # noqa: BLE001 - missing, truncated or not a pickle of ours: reviewed anew
        return None
    if not isinstance(handed, HandedReview) or not isinstance(handed.review, Review):
        return None
    inputs = handed.review.inputs
    if inputs.params.year != year:
        return None
    rebased = _rebased(inputs, handed.root, Path(root))
    return None if rebased is None else dataclasses.replace(handed.review, inputs=rebased)


def _rebased(inputs: YearInputs, old: Path, root: Path) -> YearInputs | None:
    """`inputs` with its paths under `root` instead of `old`, when the files there have its digests (else None)."""
    try:
        relative = [file.relative_to(old) for file in inputs.files]
        if {r.as_posix() for r in relative} != set(inputs.digests) or not all(
                sha256_file(root / rel) == digest for rel, digest in inputs.digests.items()):
            return None
    except (OSError, ValueError):
        return None
    stamps = {}
    for reviewer in inputs.score_stamps:
        stamp = file_stamp(score_path(root, inputs.params.year, reviewer))
        if stamp is None:
            return None
        stamps[reviewer] = stamp
    return dataclasses.replace(inputs, files=tuple(root / rel for rel in relative), score_stamps=stamps)
