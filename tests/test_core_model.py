"""The typed model between the stages: enums and typed details, no texts on the core path, natural id order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fou_review.core.allocation import natural_key, rank_candidates
from fou_review.core.eligibility import RULES, outside_window, over_maximum
from fou_review.core.model import DECISIONS, REASON_CODES, Decision, DecisionDetail, DecisionTable, ReasonCode, Rule
from fou_review.core.params import Params
from fou_review.core.pipeline import review_year
from fou_review.errors import TieError
from fou_review.texts.reasons import reason_text

ROOT = Path(__file__).resolve().parent.parent


def test_ids_in_natural_order() -> None:
    ids = ["LUM-10", "LUM-9", "LUM-1", "MUL-2", "LUM-09", "A", "A1", "LUM-100", "lum-3"]
    assert sorted(ids, key=natural_key) == ["A", "A1", "LUM-1", "LUM-09", "LUM-9", "LUM-10", "LUM-100", "MUL-2",
                                            "lum-3"]


def test_the_core_path_writes_no_text() -> None:
    review = review_year(ROOT, 2022)  # eligibility, scoring, allocation and summary
    assert "decisions" not in review.allocation.__dict__  # the texts are not rendered yet
    assert review.summary.all_met
    assert len(review.decisions) == 23 and "decisions" in review.allocation.__dict__


def test_typed_details_of_2022() -> None:
    review = review_year(ROOT, 2022)
    details = {d.id: d for d in review.allocation.table.details}
    assert all(isinstance(d.decision, Decision) and isinstance(d.code, ReasonCode) for d in details.values())
    cap = details["LUM-09"]
    assert (cap.code, cap.cap_applicant, cap.cap_count, cap.decision) == (
        ReasonCode.REJECTED_CAP, "Spånga-Tensta", 2, Decision.REJECTED)
    assert cap.rank is not None and cap.ranked == 10 and cap.budget_before_kr == cap.budget_after_kr
    mul13 = details["MUL-13"]
    assert mul13.code is ReasonCode.INELIGIBLE and all(isinstance(r, Rule) for r in mul13.failed)
    assert mul13.reason_code == mul13.failed[0].code and mul13.rank is None and mul13.budget_before_kr is None
    joint = next(d for d in details.values() if len(d.applicants) > 1)
    assert all(" & " not in name for name in joint.applicants)
    frame = review.decisions.set_index("id")
    for d in details.values():
        fund = review.inputs.params.funds[d.fund]
        assert frame.loc[d.id, "reason"] == reason_text(d, fund, "sv")
        assert frame.loc[d.id, "reason_en"] == reason_text(d, fund, "en")
        assert frame.loc[d.id, "reason_code"] == d.reason_code


def test_rules_are_registered_once_in_order() -> None:
    assert [r.bit for r in RULES] == list(range(len(RULES)))
    assert len(set(RULES)) == len(RULES)
    assert RULES.index(outside_window) < RULES.index(over_maximum)
    assert outside_window == "outside_window" and outside_window.msgid == "reason.ineligible.outside_window"


def test_decision_follows_the_amounts() -> None:
    for d in review_year(ROOT, 2022).allocation.table.details:
        expected = (Decision.REJECTED if d.granted_kr == 0 else
                    Decision.PARTLY if d.granted_kr < d.requested_kr else Decision.GRANTED)
        assert d.decision is expected, d.id


def _ranked(make_params: Callable[..., Params], ids: list[str], tie_break: list[str]) -> list[str]:
    params = make_params(tie_break=tie_break)
    keys = {"total_score": np.array([5.0, 7.0, 5.0, 5.0, 5.0][:len(ids)]), "id": np.array(ids, dtype=object)}
    return [ids[p] for p in rank_candidates(keys, np.arange(len(ids)), params)]


def test_ties_are_broken_by_id_in_natural_order_both_ways(make_params: Callable[..., Params]) -> None:
    ids = ["X-10", "X-1", "X-9", "X-100", "X-11"]
    assert _ranked(make_params, ids, ["total_score desc", "id asc"]) == ["X-1", "X-9", "X-10", "X-11", "X-100"]
    assert _ranked(make_params, ids, ["total_score desc", "id desc"]) == ["X-1", "X-100", "X-11", "X-10", "X-9"]
    assert _ranked(make_params, ids, ["total_score asc", "id asc"]) == ["X-9", "X-10", "X-11", "X-100", "X-1"]


def test_a_tie_left_after_every_key_is_an_error(make_params: Callable[..., Params]) -> None:
    with pytest.raises(TieError, match="X-9"):
        _ranked(make_params, ["X-10", "X-1", "X-9", "X-9"], ["total_score desc", "id asc"])
    with pytest.raises(TieError, match="X-10"):
        _ranked(make_params, ["X-10", "X-1", "X-9"], ["total_score desc"])


def _detail_plain(table: DecisionTable, i: int) -> DecisionDetail:
    """Row `i` as a typed record, read element by element (as `detail` first did)."""
    code = REASON_CODES[int(table.code[i])]
    rank, ranked = int(table.rank[i]), int(table.ranked[i])
    before, after = int(table.budget_before_kr[i]), int(table.budget_after_kr[i])
    who = str(table.cap_applicant[i])
    app_id = str(table.ids[i])
    return DecisionDetail(
        id=app_id, fund=str(table.funds[i]), applicants=tuple(table.applicants[i]),
        requested_kr=int(table.requested_kr[i]), granted_kr=int(table.granted_kr[i]),
        decision=DECISIONS[int(table.decision[i])], code=code, failed=tuple(table.failed[i]),
        rank=rank if rank > 0 else None, ranked=ranked if rank > 0 else None,
        budget_before_kr=before if rank > 0 and before >= 0 else None,
        budget_after_kr=after if rank > 0 and before >= 0 and after >= 0 else None,
        cap_applicant=who or None, cap_count=int(table.cap_count[i]) if who else None,
        purpose=str(table.purpose[i]),
        override_reason=table.overrides[app_id].reason if code is ReasonCode.OVERRIDE else None,
        row_facts={k: str(v[i]) for k, v in table.row_facts.items()})


def test_details_of_rows_are_each_rows_detail() -> None:
    table = review_year(ROOT, 2022).allocation.table
    plain = [_detail_plain(table, i) for i in range(len(table))]
    assert list(table.details) == plain
    assert any(d.cap_applicant for d in plain) and any(d.rank is None for d in plain)
    rows = np.array([5, 0, 22, 5, 11])
    assert table.details_of(rows) == [plain[i] for i in rows.tolist()]
    assert [table.detail(int(i)) for i in rows] == [plain[i] for i in rows.tolist()]
    assert table.details_of(np.zeros(0, dtype=np.int64)) == []
