"""The batched reason texts (`explain_many`, used for speed) say exactly what `explain` says per row."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fou_review.core.eligibility import RULES
from fou_review.texts.reasons import TEXTS, explain, explain_many

CODES = st.one_of(st.sampled_from(sorted(TEXTS)),
                  st.lists(st.sampled_from(RULES), min_size=1, max_size=3, unique=True)
                  .map(lambda rules: "ineligible:" + ",".join(rules)))
FUNDS = {"LUM": {"fund": "LUM", "max_kr": 500_000, "cap": 2, "opens": "2021-05-05", "closes": "2021-09-10",
                 "max_years": 3, "joint_sv": ", gemensam ansökan räknas för varje part",
                 "joint_en": ", a joint application counting for each partner"},
         "MUL": {"fund": "MUL", "max_kr": 25_000, "cap": 3, "opens": "2021-05-05", "closes": "2021-09-17",
                 "max_years": None, "joint_sv": "", "joint_en": ""}}
ROW = st.fixed_dictionaries({
    "rank": st.integers(0, 50), "ranked": st.integers(0, 50), "remaining_kr": st.integers(-1, 5_000_000),
    "requested_kr": st.integers(1, 900_000), "partner": st.sampled_from(["", "Farsta", "Spånga-Tensta"]),
    "purpose": st.sampled_from(["", "kurs", "konferens", "50 % {x}"]),
    "override_reason": st.sampled_from(["", "Nämnden beslutade så, 100 % {enigt}."])})


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(CODES, st.sampled_from(sorted(FUNDS)), ROW), min_size=1, max_size=30))
def test_explain_many_equals_explain(rows: list[tuple[str, str, dict[str, object]]]) -> None:
    codes = [code for code, _, _ in rows]
    groups = [fund for _, fund, _ in rows]
    facts = {k: [row[k] for _, _, row in rows] for k in rows[0][2]}
    sv, en = explain_many(codes, facts, groups, FUNDS)
    assert sv == [explain(code, {**FUNDS[fund], **row}, "sv") for code, fund, row in rows]
    assert en == [explain(code, {**FUNDS[fund], **row}, "en") for code, fund, row in rows]
