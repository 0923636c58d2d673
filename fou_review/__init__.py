"""fou-review: review a grant call and allocate its money openly – scored, capped, explained, recorded.

The public API is re-exported here lazily (PEP 562), so `import fou_review` costs nothing until a
name is used, and the command line stays quick to start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_params": "core.params", "parse_params_from_string": "core.params", "Params": "core.params",
    "load_year": "core.load", "YearInputs": "core.load",
    "check_eligibility": "core.eligibility", "score_applications": "core.scoring", "allocate": "core.allocation",
    "Allocation": "core.allocation", "summarise": "core.summary", "Summary": "core.summary",
    "review_year": "core.pipeline", "review_inputs": "core.pipeline", "Review": "core.pipeline",
    "render_record_sections": "record.sections", "notebook_to_record_html": "record.html_export",
    "format_kr": "texts.catalog",
    "FouReviewError": "errors", "InputError": "errors", "Problem": "errors", "TieError": "errors",
    "ParameterError": "errors", "RunError": "errors", "FrozenRecordError": "errors", "RecordError": "errors",
    "VerifyError": "errors", "ManifestError": "errors", "SaveError": "errors", "PublishError": "errors",
    "Msg": "errors",
}
__all__ = [
    "Allocation",
    "FouReviewError",
    "FrozenRecordError",
    "InputError",
    "ManifestError",
    "Msg",
    "ParameterError",
    "Params",
    "Problem",
    "PublishError",
    "RecordError",
    "Review",
    "RunError",
    "SaveError",
    "Summary",
    "TieError",
    "VerifyError",
    "YearInputs",
    "__version__",
    "allocate",
    "check_eligibility",
    "format_kr",
    "load_params",
    "load_year",
    "notebook_to_record_html",
    "parse_params_from_string",
    "render_record_sections",
    "review_inputs",
    "review_year",
    "score_applications",
    "summarise",
]

if TYPE_CHECKING:
    from fou_review.core.allocation import Allocation, allocate
    from fou_review.core.eligibility import check_eligibility
    from fou_review.core.load import YearInputs, load_year
    from fou_review.core.params import Params, load_params, parse_params_from_string
    from fou_review.core.pipeline import Review, review_inputs, review_year
    from fou_review.core.scoring import score_applications
    from fou_review.core.summary import Summary, summarise
    from fou_review.errors import (
        FouReviewError,
        FrozenRecordError,
        InputError,
        ManifestError,
        Msg,
        ParameterError,
        Problem,
        PublishError,
        RecordError,
        RunError,
        SaveError,
        TieError,
        VerifyError,
    )
    from fou_review.record.html_export import notebook_to_record_html
    from fou_review.record.sections import render_record_sections
    from fou_review.texts.catalog import format_kr


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fou_review' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
