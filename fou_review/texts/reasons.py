"""The words of every decision, rendered from the typed decisions (`core.model`) where they are shown.

The texts live in the ``core`` catalogue (``decision.<decision>``, ``reason.<code>``,
``reason.ineligible.<rule>``); the core itself writes no text. `reason_text` renders one
`DecisionDetail`; `decisions_frame` renders a whole `DecisionTable` at once (the same texts, written
per fund and code with one %-format per row, for speed) as the decisions DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from string import Formatter

import numpy as np
import pandas as pd

from fou_review.core.model import (
    DECISIONS,
    REASON_CODES,
    ROW_FACTS,
    Decision,
    DecisionDetail,
    DecisionTable,
    ReasonCode,
    Rule,
)
from fou_review.core.params import Fund, Params
from fou_review.texts.catalog import LANGS, format_kr, message

DECISION_COLUMNS = ["id", "fund", "applicants", "title", "requested_kr", "granted_kr", "decision", "reason",
                    "reason_code", "reason_en", "decision_en", "rank", "total_score", "budget_before_kr",
                    "budget_after_kr", "source"]


def decision_word(decision: Decision, lang: str = "sv") -> str:
    """"beviljas" / "granted", ..."""
    return message(lang, "core", f"decision.{decision.value}")


@cache
def template(code: ReasonCode, rules: tuple[str, ...] = (), lang: str = "sv") -> str:
    """The format string of a reason code; for INELIGIBLE, of its failed rules (codes) in order."""
    if code is ReasonCode.INELIGIBLE:
        separator = message(lang, "core", "reason.ineligible.separator")
        parts = separator.join(message(lang, "core", f"reason.ineligible.{r}") for r in rules)
        return message(lang, "core", "reason.ineligible").replace("{rules}", parts)
    return message(lang, "core", f"reason.{code.value}")


class _RuleTemplates(Mapping[str, tuple[str, str]]):
    """Rule code -> (Swedish, English) format string of its text alone (as the form lists them)."""

    def __getitem__(self, code: str) -> tuple[str, str]:
        msgid = f"reason.ineligible.{code}"
        return message("sv", "core", msgid), message("en", "core", msgid)

    def __iter__(self) -> Iterator[str]:
        return iter(())  # the rules are registered in core.eligibility; look them up by code

    def __len__(self) -> int:
        return 0


INELIGIBLE: Mapping[str, tuple[str, str]] = _RuleTemplates()


def _shown(key: str, value: object) -> object:
    return format_kr(value) if key.endswith("_kr") and isinstance(value, int) else value


def fund_facts(fund: Fund, lang: str, rules: Sequence[Rule] = ()) -> dict[str, object]:
    """The facts of a fund that reason texts show (with those of the given rules)."""
    facts: dict[str, object] = {
        "fund": fund.code, "max_kr": fund.max_amount_kr, "cap": fund.max_granted_per_applicant,
        "joint": message(lang, "core", "reason.joint_each_partner") if fund.joint_counts_for == "each_partner"
        else ""}
    for r in rules:
        facts.update(r.facts(fund))
    return facts


def rule_text(rule: Rule, fund: Fund, lang: str, requested_kr: int, purpose: str,
              row_facts: Mapping[str, object] | None = None) -> str:
    """The text of one failed eligibility rule alone ("received outside the application window ...").

    `row_facts`: the application's values of `ROW_FACTS` (the grants it still owes on, ...).
    """
    facts = {**dict.fromkeys(ROW_FACTS, ""), **(row_facts or {}), **fund_facts(fund, lang, (rule,)),
             "requested_kr": requested_kr, "purpose": purpose}
    return message(lang, "core", rule.msgid).format(**{k: _shown(k, v) for k, v in facts.items()})


def reason_text(detail: DecisionDetail, fund: Fund, lang: str = "sv") -> str:
    """The reason for one decision, written out from its typed detail."""
    facts = {**dict.fromkeys(ROW_FACTS, ""), **detail.row_facts,
             **fund_facts(fund, lang, detail.failed), "rank": detail.rank, "ranked": detail.ranked,
             "remaining_kr": detail.budget_before_kr, "requested_kr": detail.requested_kr,
             "partner": detail.cap_applicant, "count": detail.cap_count, "purpose": detail.purpose,
             "override_reason": detail.override_reason}
    text = template(detail.code, tuple(r.code for r in detail.failed), lang)
    return text.format(**{k: _shown(k, v) for k, v in facts.items()})


def _used_fields(text: str) -> tuple[str, ...]:
    return tuple(sorted({name for _, name, _, _ in Formatter().parse(text) if name}))


def _convert(value: object, conversion: str | None) -> object:
    return repr(value) if conversion == "r" else ascii(value) if conversion == "a" else value


def _bind(text: str, shared: Mapping[str, object], by_row: tuple[str, ...]) -> tuple[str, tuple[int, ...]] | None:
    """The template with the shared facts filled in now, as a %-template for the per-row facts.

    Returns the %-template and, for each of its %s/%r, the index in `by_row` of the fact it shows
    (%-formatting a tuple is the cheapest way to write many texts); None when a per-row field has a
    format spec, which %-formatting cannot express.
    """
    out: list[str] = []
    order: list[int] = []
    for literal, name, spec, conversion in Formatter().parse(text):
        out.append(literal.replace("%", "%%"))
        if name is None:
            continue
        if name in shared:
            out.append(format(_convert(shared[name], conversion), spec or "").replace("%", "%%"))
        elif spec:
            return None
        else:
            out.append("%r" if conversion == "r" else "%a" if conversion == "a" else "%s")
            order.append(by_row.index(name))
    return "".join(out), tuple(order)


def _row_facts(table: DecisionTable) -> dict[str, np.ndarray]:
    overrides = table.overrides
    reasons = np.array([overrides[i].reason if i in overrides else "" for i in table.ids.tolist()]
                       if overrides else [""] * len(table), dtype=object)
    facts = {"rank": table.rank, "ranked": table.ranked, "remaining_kr": table.budget_before_kr,
             "requested_kr": table.requested_kr, "partner": table.cap_applicant, "count": table.cap_count,
             "purpose": table.purpose, "override_reason": reasons}
    empty = np.full(len(table), "", dtype=object)
    facts.update({k: table.row_facts.get(k, empty) for k in ROW_FACTS})  # the cycle's per-row facts
    return facts


def reason_texts(table: DecisionTable, params: Params) -> dict[str, list[str]]:
    """`reason_text` for every row of the table at once, per language.

    Rows are handled per (code, failed rules, fund): the fund's facts are filled into the template
    once, each distinct amount is written out once, then each row's text is one %-format.
    """
    n = len(table)
    out = {lang: np.empty(n, dtype=object) for lang in LANGS}
    if n == 0:
        return {lang: [] for lang in LANGS}
    columns = _row_facts(table)
    failed = table.failed
    key = np.asarray([f"{c}|{f}" for c, f in zip(table.code.tolist(), table.funds.tolist(), strict=True)],
                     dtype=object)
    ineligible = table.code == REASON_CODES.index(ReasonCode.INELIGIBLE)
    if ineligible.any():  # the failed rules are part of the key: tuples shared by equal rows
        rules_id = pd.factorize(failed[ineligible])[0]
        key[ineligible] = [f"{k}|{r}" for k, r in zip(key[ineligible].tolist(), rules_id.tolist(), strict=True)]
    key_ids, _ = pd.factorize(key)
    order = np.argsort(key_ids, kind="stable")
    cuts = np.flatnonzero(np.diff(key_ids[order])) + 1
    for rows in np.split(order, cuts):  # the rows of one (code, rules, fund)
        first = int(rows[0])
        code = REASON_CODES[int(table.code[first])]
        rules: tuple[Rule, ...] = tuple(failed[first]) if code is ReasonCode.INELIGIBLE else ()
        fund = params.funds[str(table.funds[first])]
        for lang in LANGS:
            text = template(code, tuple(r.code for r in rules), lang)
            used = _used_fields(text)
            by_row = tuple(k for k in used if k in columns)
            facts = fund_facts(fund, lang, rules)
            shared = {k: _shown(k, facts[k]) for k in used if k not in columns}
            shown_columns = []
            for k in by_row:
                raw = columns[k][rows].tolist()
                if k.endswith("_kr"):  # amounts are written out once per distinct value
                    look = {v: _shown(k, v) for v in set(raw)}
                    raw = [look[v] for v in raw]
                shown_columns.append(raw)
            bound = _bind(text, shared, by_row)
            if bound is None:  # a format spec on a per-row fact: the general (slower) way
                out[lang][rows] = [text.format_map({**shared, **dict(zip(by_row, values, strict=True))})
                                   for values in zip(*shown_columns, strict=True)]
            elif bound[1]:
                out[lang][rows] = [bound[0] % values
                                   for values in zip(*(shown_columns[i] for i in bound[1]), strict=True)]
            else:
                out[lang][rows] = bound[0] % ()
    return {lang: texts.tolist() for lang, texts in out.items()}


def reason_codes(table: DecisionTable) -> np.ndarray:
    """The short code shown in tables: the reason code, or an ineligible application's first failed rule."""
    names: np.ndarray = np.array([c.value for c in REASON_CODES], dtype=object)[table.code]
    ineligible = np.flatnonzero(table.code == REASON_CODES.index(ReasonCode.INELIGIBLE))
    first = {rules: rules[0].code if rules else "" for rules in set(table.failed[ineligible].tolist())}
    names[ineligible] = [first[rules] for rules in table.failed[ineligible].tolist()]
    return names


def decisions_frame(table: DecisionTable, params: Params, titles: np.ndarray, total_score: np.ndarray,
                    sources: np.ndarray) -> pd.DataFrame:
    """The decisions DataFrame (columns `DECISION_COLUMNS`) with every text in Swedish and English."""
    texts = reason_texts(table, params)
    groups = table.applicants.tolist()
    joined = {g: " & ".join(g) for g in set(groups)}  # "Rinkeby-Kista & Spånga-Tensta", once per group
    words = {lang: np.array([decision_word(d, lang) for d in DECISIONS], dtype=object)[table.decision]
             for lang in LANGS}
    rank, before, after = table.rank, table.budget_before_kr, table.budget_after_kr
    unranked = rank <= 0
    no_budget = unranked | (before < 0)

    def optional(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)

    return pd.DataFrame({
        "id": table.ids, "fund": table.funds, "applicants": [joined[g] for g in groups], "title": titles,
        "requested_kr": table.requested_kr.astype(np.int64), "granted_kr": table.granted_kr.astype(np.int64),
        "decision": words["sv"], "reason": texts["sv"], "reason_code": reason_codes(table),
        "reason_en": texts["en"], "decision_en": words["en"],
        "rank": optional(rank, unranked), "total_score": total_score,
        "budget_before_kr": optional(before, no_budget), "budget_after_kr": optional(after, no_budget | (after < 0)),
        "source": sources,
    }, columns=DECISION_COLUMNS)
