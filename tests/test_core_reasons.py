"""The reason texts: rendered from the typed decisions only, the batched way equal to one at a time.

`reason_texts` (used for speed: one %-format per row) must say exactly what `reason_text` says for
each `DecisionDetail`, for every code, every combination of failed rules, both languages.
"""

from __future__ import annotations

from collections.abc import Callable
from string import Formatter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fou_review.core.eligibility import RULES
from fou_review.core.model import REASON_CODES, ROW_FACTS, DecisionTable, Override, ReasonCode
from fou_review.core.params import Params
from fou_review.texts.catalog import t
from fou_review.texts.reasons import INELIGIBLE, reason_text, reason_texts, rule_text

ROW = st.fixed_dictionaries({
    "code": st.sampled_from(REASON_CODES), "fund": st.sampled_from(["A", "B"]),
    "failed": st.lists(st.sampled_from(RULES), min_size=1, max_size=3, unique=True)
    .map(lambda rules: tuple(sorted(rules, key=lambda r: r.bit))),
    "rank": st.integers(1, 50), "ranked": st.integers(1, 50), "before": st.integers(0, 5_000_000),
    "requested": st.integers(1, 900_000), "granted": st.integers(0, 900_000),
    "partner": st.sampled_from(["Farsta", "Spånga-Tensta"]), "count": st.integers(1, 4),
    "purpose": st.sampled_from(["", "kurs", "konferens", "50 % {x}"]),
    "override": st.sampled_from(["Nämnden beslutade så.", "100 % {enigt}"])})


def _table(rows: list[dict[str, object]]) -> DecisionTable:
    ids = [f"X-{i}" for i in range(len(rows))]
    code = [r["code"] for r in rows]
    ranked = [c in (ReasonCode.GRANTED, ReasonCode.GRANTED_REDUCED, ReasonCode.GRANTED_PARTIAL,
                    ReasonCode.REJECTED_CAP, ReasonCode.REJECTED_BUDGET) for c in code]
    failed = np.empty(len(rows), dtype=object)
    failed[:] = [r["failed"] if c is ReasonCode.INELIGIBLE else () for r, c in zip(rows, code, strict=True)]
    cap = [c is ReasonCode.REJECTED_CAP for c in code]

    def column(key: str, where: list[bool], missing: object) -> np.ndarray:
        values = [r[key] if w else missing for r, w in zip(rows, where, strict=True)]
        return np.array(values, dtype=object if isinstance(missing, str) else np.int64)

    granted = np.array([r["granted"] for r in rows], dtype=np.int64)
    before = column("before", ranked, -1)
    return DecisionTable(
        ids=np.array(ids, dtype=object), funds=np.array([r["fund"] for r in rows], dtype=object),
        applicants=np.array([("Farsta",)] * len(rows) + [()], dtype=object)[:-1],
        requested_kr=np.array([r["requested"] for r in rows], dtype=np.int64), granted_kr=granted,
        code=np.array([REASON_CODES.index(c) for c in code], dtype=np.int8),
        failed=failed, rank=column("rank", ranked, 0), ranked=column("ranked", ranked, 0),
        budget_before_kr=before, budget_after_kr=np.where(before >= 0, before - granted, -1),
        cap_applicant=column("partner", cap, ""), cap_count=column("count", cap, 0),
        purpose=np.array([r["purpose"] for r in rows], dtype=object),
        overrides={i: Override(i, 0, str(r["override"])) for i, r, c in zip(ids, rows, code, strict=True)
                   if c is ReasonCode.OVERRIDE})


def test_batched_texts_equal_one_at_a_time(make_params: Callable[..., Params]) -> None:
    params = make_params({"A": {"joint_counts_for": "each_partner", "max_project_years": 3},
                          "B": {"joint_counts_for": "lead_only", "excluded_purposes": ["kurs"]}})

    @settings(max_examples=150, deadline=None)
    @given(st.lists(ROW, min_size=1, max_size=30))
    def check(rows: list[dict[str, object]]) -> None:
        table = _table(rows)
        texts = reason_texts(table, params)
        for lang in ("sv", "en"):
            assert texts[lang] == [reason_text(d, params.funds[d.fund], lang) for d in table.details]

    check()


def test_every_rule_has_its_text_in_both_languages(make_params: Callable[..., Params]) -> None:
    """Each registered rule's text exists in sv and en and uses only the facts the rule provides."""
    fund = make_params({"A": {"max_project_years": 3, "excluded_purposes": ["kurs"]}}).funds["A"]
    for rule in RULES:
        for lang in ("sv", "en"):
            template = t(lang, "core", rule.msgid)  # KeyError when missing
            fields = {name for _, name, _, _ in Formatter().parse(template) if name}
            assert fields <= {"fund", "requested_kr", "purpose", *ROW_FACTS, *rule.facts(fund)}, (rule, lang)
            assert "{" not in rule_text(rule, fund, lang, requested_kr=600_000, purpose="kurs")
            assert INELIGIBLE[rule][0 if lang == "sv" else 1] == template


def test_the_published_wording_is_kept(make_params: Callable[..., Params]) -> None:
    """Three texts exactly as the 2022 record prints them (the record itself is verified byte for byte)."""
    params = make_params({"A": {"joint_counts_for": "each_partner"}})
    rows = [{"code": ReasonCode.REJECTED_CAP, "fund": "A", "failed": (), "rank": 3, "ranked": 9, "before": 10,
             "requested": 5, "granted": 0, "partner": "Farsta", "count": 2, "purpose": "", "override": ""},
            {"code": ReasonCode.INELIGIBLE, "fund": "A", "failed": (RULES[2], RULES[4]), "rank": 0, "ranked": 0,
             "before": 0, "requested": 600_000, "granted": 0, "partner": "", "count": 0, "purpose": "",
             "override": ""}]
    table = _table(rows)
    fund = params.funds["A"]
    maximum = f"{fund.max_amount_kr:,}".replace(",", "\u00a0")
    assert reason_texts(table, params)["sv"] == [
        (f"Avslås: Farsta har redan beviljats 2 ansökningar i A (högst {fund.max_granted_per_applicant} per "
        "förvaltning, gemensam ansökan räknas för varje part)."),
        (f"Avslås, ej behörig: ansökan kom in utanför ansökningsperioden {fund.window.opens}–{fund.window.closes}; "
        f"sökt belopp 600\u00a0000\u00a0kr är över högsta beloppet {maximum}\u00a0kr.")]
