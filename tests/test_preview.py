"""The live preview: the same allocation as a whole-year run, from the saved files, kept up to date."""

from __future__ import annotations

import ast
import random
import re
from pathlib import Path

import pandas as pd

from fou_review.core.params import load_params
from fou_review.core.pipeline import review_year
from fou_review.texts.catalog import t
from fou_review.workbook.preview import LivePreview, preview_text
from fou_review.workbook.scorestore import ScoreStore


def _same_as_a_full_run(preview: LivePreview, root: Path) -> None:
    result = preview.last
    assert result is not None and result.error is None and result.decisions is not None
    full = review_year(root, 2022)
    pd.testing.assert_frame_equal(result.decisions, full.decisions)
    assert result.summary is not None
    assert result.summary.funds == full.summary.funds
    pd.testing.assert_frame_equal(result.summary.cap_use.reset_index(drop=True),
                                  full.summary.cap_use.reset_index(drop=True))
    assert sorted(map(repr, result.summary.checks)) == sorted(map(repr, full.summary.checks))


def test_after_each_change_the_preview_equals_a_whole_year_run(root: Path) -> None:
    params = load_params(root, 2022)
    preview = LivePreview(root, 2022)
    preview.refresh()
    _same_as_a_full_run(preview, root)
    rng = random.Random(7)
    stores = {r: ScoreStore(root, params, r) for r in params.reviewers}
    ids = [f"LUM-{i:02d}" for i in range(1, 11)] + [f"MUL-{i:02d}" for i in range(1, 14)]
    changes = 0
    for _ in range(25):
        reviewer = rng.choice(params.reviewers)
        grade = rng.choice([None, 1, 2, 6, 7])
        change = stores[reviewer].set_score(rng.choice(ids), rng.choice(params.criterion_codes()), grade)
        if change is not None:
            changes += 1
            preview.refresh(change)
            _same_as_a_full_run(preview, root)
    assert changes > 15


def test_a_change_it_was_not_told_about_is_read_from_disk(root: Path) -> None:
    params = load_params(root, 2022)
    preview = LivePreview(root, 2022)
    preview.refresh()
    store = ScoreStore(root, params, "ledamot-d")
    first = store.set_score("LUM-10", "strategisk", 7)
    store.set_score("LUM-10", "forebyggande", 7)  # another kernel's change: the preview is not told
    assert first is not None
    preview.refresh(first)  # its stamp no longer matches the file: the whole file is read again
    _same_as_a_full_run(preview, root)
    scores = preview.scores
    mine = scores[(scores["reviewer"] == "ledamot-d") & (scores["application_id"] == "LUM-10")]
    assert dict(zip(mine["criterion"], mine["score"], strict=True))["forebyggande"] == 7


def test_given_the_notebook_s_inputs_it_reads_the_score_files_again(root: Path) -> None:
    params = load_params(root, 2022)
    review = review_year(root, 2022)  # the notebook's review, read before the form is built
    change = ScoreStore(root, params, "ledamot-b").set_score("LUM-02", "strategisk", None)
    assert change is not None
    preview = LivePreview(root, 2022, review.inputs)  # the score saved in between is not missed
    assert preview.inputs is review.inputs
    preview.refresh()
    _same_as_a_full_run(preview, root)
    scores = preview.scores
    assert scores[(scores["reviewer"] == "ledamot-b") & (scores["application_id"] == "LUM-02")
                  & (scores["criterion"] == "strategisk")].empty
    again = ScoreStore(root, params, "ledamot-b").set_score("LUM-02", "strategisk", 6)
    preview.refresh(again)
    _same_as_a_full_run(preview, root)


def test_without_a_previous_run_the_preview_says_so(root: Path) -> None:
    preview = LivePreview(root, 2022)
    result = preview.refresh()
    assert result.changes is None
    assert "Ingen tidigare körning (reports/2022/decisions.csv saknas)" in preview_text(result, preview)
    assert "No previous run" in preview_text(result, preview, "en")


def test_a_broken_score_file_is_shown_not_raised(root: Path) -> None:
    preview = LivePreview(root, 2022)
    path = root / "data" / "2022" / "scores" / "ledamot-b.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("LUM-01,strategisk,", "LUM-01,strategisk,9", 1),
                    encoding="utf-8")
    result = preview.refresh()
    assert result.error is not None and "ledamot-b.csv" in result.error and "rad 2" in result.error
    assert "kan inte beräknas" in preview_text(result, preview)


def test_a_broken_previous_run_is_shown_in_the_preview_language(root: Path) -> None:
    previous = root / "reports" / "2022" / "decisions.csv"
    previous.parent.mkdir(parents=True, exist_ok=True)
    previous.write_text("id,fund,granted_kr\nLUM-01,LUM,500 000\n", encoding="utf-8")
    preview = LivePreview(root, 2022)
    result = preview.refresh()
    assert result.error is not None and "reports/2022/decisions.csv" in result.error
    assert "kan inte beräknas" in preview_text(result, preview) and "rad 2" in preview_text(result, preview)
    english = preview_text(result, preview, "en")
    assert "cannot be computed" in english and "row 2" in english and "'granted_kr'" in english


def test_the_preview_and_the_form_read_no_file_themselves() -> None:
    """They read through the loaders (`core/load.py`); only the score store reads its own files."""
    calls = {"open", "read_text", "read_bytes", "read_csv", "read_excel", "read_table", "parse_scores"}
    workbook = Path(__file__).resolve().parents[1] / "fou_review" / "workbook"
    found = []
    for name in ("preview.py", "form.py", "review_rules.py"):
        for node in ast.walk(ast.parse((workbook / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if called in calls:
                    found.append((name, node.lineno, called))
    assert not found


def test_every_workbook_text_the_code_asks_for_exists_in_both_languages() -> None:
    workbook = Path(__file__).resolve().parents[1] / "fou_review" / "workbook"
    source = "\n".join(p.read_text(encoding="utf-8") for p in workbook.glob("*.py"))
    asked = set(re.findall(r"[\"']((?:form|preview|store|recovery)\.[a-z_]+)[\"']", source))
    asked |= {f"form.{key}" for key in re.findall(r"self\._t\(\s*[\"']([a-z_]+)[\"']", source)}
    assert len(asked) > 40
    for lang in ("sv", "en"):
        for msgid in sorted(asked):
            assert t(lang, "workbook", msgid), msgid  # raises KeyError when missing
    assert not re.search(r"\bif sv else\b|_T = \{|TEXTS", source)  # no texts beside the catalogue
