"""The record's section on reviewer calibration and robustness (record/analysis.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fou_review.core.pipeline import review_year
from fou_review.record.analysis import render_analysis
from fou_review.record.sections import render_record_sections


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_section_names_the_method_and_marks_illustrative_values(repo_root: Path, lang: str) -> None:
    review = review_year(repo_root, 2022)
    html = render_analysis(review, lang)
    assert "<script" not in html
    assert "revNorm" in html and "2011" in html
    captions = re.findall(r"<caption>(.*?)</caption>", html, flags=re.DOTALL)
    assert len(captions) == 5  # biases, totals per fund, robustness per fund
    scored = int(review.scoring["total_score"].notna().sum())
    ranked = len(review.allocation.ranked)
    assert html.count('<th scope="row"') == 5 + scored + ranked  # reviewers, scored and ranked applications
    assert 'class="badge"' in html  # the scores are illustrative in 2022
    assert ("500\u00a0000\u00a0kr" in html) and ("ledamot-a" in html)
    word = {"sv": "Ingen ansökan ligger så nära", "en": "No application is so close"}[lang]
    assert word in html
    ids = [sid for sid, _ in render_record_sections(review, {}, lang)]
    assert ids.index("kalibrering") == ids.index("rangordning") + 1
