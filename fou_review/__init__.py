"""fou-review: review a grant call and allocate its money openly – scored, capped, explained, recorded.

The public API is re-exported here lazily (PEP 562), so `import fou_review` costs nothing until a
name is used, and the command line stays quick to start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_params": "params", "parse_params_from_string": "params", "Params": "params",
    "load_year": "load", "YearInputs": "load",
    "check_eligibility": "eligibility", "score_applications": "scoring", "allocate": "allocation",
    "Allocation": "allocation", "summarise": "summary", "Summary": "summary",
    "review_year": "pipeline", "review_inputs": "pipeline", "Review": "pipeline",
    "render_record_sections": "record", "notebook_to_record_html": "html_export",
    "format_kr": "money",
    "FouReviewError": "errors", "InputError": "errors", "Problem": "errors", "TieError": "errors",
    "ParameterError": "errors", "RunError": "errors", "FrozenRecordError": "errors", "RecordError": "errors",
    "VerifyError": "errors",
}
__all__ = [
    "Allocation",
    "FouReviewError",
    "FrozenRecordError",
    "InputError",
    "ParameterError",
    "Params",
    "Problem",
    "RecordError",
    "Review",
    "RunError",
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
    from .allocation import Allocation, allocate
    from .eligibility import check_eligibility
    from .errors import (
        FouReviewError,
        FrozenRecordError,
        InputError,
        ParameterError,
        Problem,
        RecordError,
        RunError,
        TieError,
        VerifyError,
    )
    from .html_export import notebook_to_record_html
    from .load import YearInputs, load_year
    from .money import format_kr
    from .params import Params, load_params, parse_params_from_string
    from .pipeline import Review, review_inputs, review_year
    from .record import render_record_sections
    from .scoring import score_applications
    from .summary import Summary, summarise


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fou_review' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
