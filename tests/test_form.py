"""The scoring form, driven the way the kernel drives it: set widget values, click buttons."""

from __future__ import annotations

import csv
import errno
import io
import os
import re
from pathlib import Path

import pytest
from traitlets import TraitError

from fou_review.core.pipeline import review_year
from fou_review.errors import ParameterError
from fou_review.record.decisions_file import write_decisions_csv
from fou_review.workbook.form import NOT_SCORED, ScoringForm
from fou_review.workbook.grades import GradeGroup
from fou_review.workbook.review_rules import review_order
from fou_review.workbook.scorestore import read_log, score_path

CRITERIA = ("strategisk", "forebyggande", "klientcentrering", "uppfoljning")


def _preview_body(value: str) -> str:
    """The preview's HTML without its counter (`data-preview`, how many times it was computed)."""
    return re.sub(r" data-preview='\d+' data-change='[^']*'", "", value)


def _open(root: Path, reviewer: str, lang: str = "sv") -> ScoringForm:
    form = ScoringForm(root, 2022, lang=lang)
    form.reviewer.value = reviewer
    return form


def _go_to(form: ScoringForm, app_id: str) -> None:
    form.show(form.order.index(app_id))
    assert f">{app_id}<" in form.header.value


def _disk(root: Path, reviewer: str) -> dict[tuple[str, str], str]:
    text = score_path(root, 2022, reviewer).read_text(encoding="utf-8")
    return {(r["application_id"], r["criterion"]): r["score"] for r in csv.DictReader(io.StringIO(text))}


def _drop_rows(root: Path, reviewers: list[str], keep: object) -> None:
    """Rewrite score files without the rows `keep(row)` rejects (a year not yet fully scored)."""
    for reviewer in reviewers:
        path = score_path(root, 2022, reviewer)
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["application_id", "criterion", "score", "comment", "source"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(r for r in rows if keep(r))  # type: ignore[operator]
        path.write_text(buf.getvalue(), encoding="utf-8")


def test_nothing_to_score_before_a_reviewer_is_picked(root: Path) -> None:
    form = ScoringForm(root, 2022)
    assert form.scoring.layout.display == "none" and "Välj vem du är" in form.hint.value
    assert list(form.reviewer.options) == ["ledamot-a", "ledamot-b", "ledamot-c", "ledamot-d", "ledamot-e"]
    assert form.reviewer.ensure_option and form.navigation.layout.display == "none"
    form.reviewer.value = "ledamot"  # half typed: nothing opens
    assert form.store is None and form.scoring.layout.display == "none"


def test_status_and_navigation_share_the_sticky_header_and_grades_are_radio_groups(root: Path) -> None:
    form = ScoringForm(root, 2022)
    form.reviewer.value = "ledamot-a"
    sticky = next(c for c in form.widget.children[0].children if "fou-sticky" in c._dom_classes)
    assert form.status in sticky.children and form.navigation in sticky.children
    nav = form.navigation.children
    assert form.header in nav and form.progress_label in nav and form.next_button in nav[0].children
    assert all(isinstance(t, GradeGroup) and "fou-grades" in t._dom_classes for t in form.toggles.values())
    grades = form.toggles["strategisk"]
    assert grades.options == [NOT_SCORED, "1", "2", "3", "4", "5", "6", "7"]
    assert grades.label == "Betyg för Strategisk betydelse för staden som helhet (samverkan, erfarenhetsutbyte)"
    assert grades.option_labels[0] == "ej bedömd" and grades.option_labels[7].startswith("7 – ")
    style = form.widget.children[0].children[0].value
    assert "position: sticky" in style and ":focus-visible" in style
    assert "Förhandsvisning" in form.preview_html.value  # the preview is there from the start


def test_a_grade_group_is_one_radio_group_and_refuses_a_value_that_is_no_option() -> None:
    group = GradeGroup(options=[NOT_SCORED, "1", "2"], value="1", label="Betyg")
    # Native radios sharing one name inside role=radiogroup: one tab stop, arrow keys, checked state;
    # JupyterLab's shortcuts stop at data-lm-suppress-shortcuts; the chosen grade is more than a colour.
    esm, css = group._esm, group._css
    assert 'input.type = "radio"' in esm and "input.name = name" in esm and '"radiogroup"' in esm
    assert "data-lm-suppress-shortcuts" in esm and "save_changes" in esm
    assert "input:checked" in css and "font-weight: bold" in css and "2713" in css and ":focus-visible" in css
    assert "http" not in esm + css and "import " not in esm  # nothing is fetched
    with pytest.raises(TraitError):
        group.value = "7"
    assert group.value == "1" and repr(group) == "GradeGroup(label='Betyg', value='1')"


def test_a_change_is_saved_at_once_with_a_log_line(root: Path) -> None:
    form = _open(root, "ledamot-b")
    app = form.current
    old = _disk(root, "ledamot-b")[(app, "klientcentrering")]
    new = "1" if old != "1" else "2"
    form.toggles["klientcentrering"].value = new
    assert _disk(root, "ledamot-b")[(app, "klientcentrering")] == new
    [entry] = read_log(root, 2022, "ledamot-b")
    assert (entry["application_id"], entry["criterion"], entry["old"], entry["new"]) == (
        app, "klientcentrering", int(old), int(new))
    assert "Sparat" in form.status.value and f"{old} → {new}" in form.status.value
    descriptor = form.params.scale.descriptors_sv[int(new)]
    assert descriptor in form.descriptors["klientcentrering"].value
    form.toggles["klientcentrering"].value = NOT_SCORED
    assert _disk(root, "ledamot-b")[(app, "klientcentrering")] == ""
    assert "ej bedömd" in form.descriptors["klientcentrering"].value
    assert "21 av 22 bedömda" in form.progress_label.value
    form.comment.value = "Behöver tydligare mål"
    assert read_log(root, 2022, "ledamot-b")[-1]["criterion"] == "comment"


def test_reopening_the_form_restores_what_was_saved(root: Path) -> None:
    first = _open(root, "ledamot-d")
    _go_to(first, "MUL-07")
    first.toggles["strategisk"].value = "2"
    first.toggles["uppfoljning"].value = NOT_SCORED
    first.comment.value = "Oklar budget"
    del first  # a kernel restart: nothing survives but the files
    second = _open(root, "ledamot-d")
    _go_to(second, "MUL-07")
    assert second.toggles["strategisk"].value == "2"
    assert second.toggles["uppfoljning"].value == NOT_SCORED
    assert second.comment.value == "Oklar budget"
    assert "21 av 22 bedömda" in second.progress_label.value


def test_navigation_and_progress(root: Path) -> None:
    _drop_rows(root, ["ledamot-e"], lambda r: r["application_id"] not in ("LUM-03", "MUL-09"))
    form = _open(root, "ledamot-e")
    assert "20 av 22 bedömda" in form.progress_label.value
    assert form.prev_button.disabled and "Ansökan 1 av 23" in form.position.value
    form.next_button.click()
    assert form.index == 1 and "Ansökan 2 av 23" in form.position.value
    form.prev_button.click()
    assert form.index == 0
    form.next_open_button.click()
    first_open = form.current
    assert first_open in ("LUM-03", "MUL-09") and all(t.value == NOT_SCORED for t in form.toggles.values())
    for code in CRITERIA:
        form.toggles[code].value = "4"
    assert "21 av 22 bedömda" in form.progress_label.value
    form.next_open_button.click()
    assert form.current == ({"LUM-03", "MUL-09"} - {first_open}).pop()


def test_the_form_shows_the_application_and_its_eligibility(root: Path) -> None:
    form = _open(root, "ledamot-a")
    _go_to(form, "MUL-13")
    assert "Södermalm" in form.details.value and "50\u00a0000" in form.details.value and "MUL" in form.details.value
    assert "Ej behörig" in form.details.value
    assert "beviljas inte för ändamålet" in form.details.value and "över högsta beloppet" in form.details.value
    _go_to(form, "LUM-01")
    assert "Behörig" in form.details.value and "Ej behörig" not in form.details.value
    english = _open(root, "ledamot-a", lang="en")
    _go_to(english, "MUL-13")
    assert "Not eligible" in english.details.value and "scored" in english.progress_label.value
    assert "Preview of the allocation" in english.preview_html.value


def test_a_declared_conflict_disables_scoring_and_says_why(root: Path) -> None:
    form = _open(root, "ledamot-c")
    _go_to(form, "LUM-06")
    assert all(t.disabled for t in form.toggles.values()) and form.comment.disabled
    assert "jäv" in form.conflict.value
    assert "Granskaren leder en av de samverkande verksamheterna" in form.conflict.value
    assert "1 med jäv räknas inte" in form.progress_label.value and "21 av 21" in form.progress_label.value
    before = score_path(root, 2022, "ledamot-c").read_bytes()
    form.toggles["strategisk"].value = "7"  # bypassing the disabled widget: the form still refuses
    assert "EJ SPARAT" in form.status.value
    assert form.toggles["strategisk"].value == NOT_SCORED
    assert score_path(root, 2022, "ledamot-c").read_bytes() == before
    _go_to(form, "LUM-05")
    assert not any(t.disabled for t in form.toggles.values()) and form.conflict.value == ""


def test_other_reviewers_scores_stay_hidden_until_everything_is_scored(root: Path) -> None:
    _drop_rows(root, ["ledamot-a"], lambda r: False)  # ledamot-a has scored nothing yet
    form = _open(root, "ledamot-a")
    assert "0 av 22 bedömda" in form.progress_label.value
    assert "visas när du har bedömt alla" in form.others.value and "n=" not in form.others.value
    for i in range(len(form.order)):
        form.show(i)
        assert "n=" not in form.others.value, "others' scores leaked before the reviewer was done"
        for code in CRITERIA:
            form.toggles[code].value = "4"
    assert "22 av 22 bedömda" in form.progress_label.value
    assert "Andra granskares betyg" in form.others.value and "n=4" in form.others.value
    form.toggles["strategisk"].value = NOT_SCORED  # one gap: hidden again
    assert "n=" not in form.others.value


def test_each_reviewer_has_an_own_deterministic_order(root: Path) -> None:
    ids = [f"LUM-{i:02d}" for i in range(1, 11)] + [f"MUL-{i:02d}" for i in range(1, 14)]
    orders = {r: review_order(ids, r, 2022) for r in ("ledamot-a", "ledamot-b", "ledamot-c")}
    assert all(sorted(o) == sorted(ids) for o in orders.values())
    assert len({tuple(o) for o in orders.values()}) == 3
    assert review_order(list(reversed(ids)), "ledamot-a", 2022) == orders["ledamot-a"]
    assert review_order(ids, "ledamot-a", 2023) != orders["ledamot-a"]
    assert _open(root, "ledamot-b").order == orders["ledamot-b"]
    assert _open(root, "ledamot-b").order == orders["ledamot-b"]


def test_two_forms_never_overwrite_each_other(root: Path) -> None:
    same_a, same_b, other = _open(root, "ledamot-a"), _open(root, "ledamot-a"), _open(root, "ledamot-b")
    _go_to(same_a, "LUM-02")
    _go_to(same_b, "LUM-03")
    _go_to(other, "LUM-02")
    same_a.toggles["strategisk"].value = "1"
    same_b.toggles["strategisk"].value = "2"  # this form read the file before same_a's change
    other.toggles["strategisk"].value = "3"
    same_a.toggles["forebyggande"].value = "1"
    disk_a, disk_b = _disk(root, "ledamot-a"), _disk(root, "ledamot-b")
    assert (disk_a[("LUM-02", "strategisk")], disk_a[("LUM-03", "strategisk")],
            disk_a[("LUM-02", "forebyggande")], disk_b[("LUM-02", "strategisk")]) == ("1", "2", "1", "3")
    assert len(read_log(root, 2022, "ledamot-a")) == 3 and len(read_log(root, 2022, "ledamot-b")) == 1
    _go_to(same_b, "LUM-02")  # showing an application reads the file: same_b sees same_a's change
    assert same_b.toggles["strategisk"].value == "1"


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EACCES])
def test_a_failed_save_is_shown_and_not_pretended(root: Path, monkeypatch: pytest.MonkeyPatch,
                                                  failure: int) -> None:
    form = _open(root, "ledamot-e")
    _go_to(form, "LUM-04")
    saved = form.toggles["strategisk"].value
    before = score_path(root, 2022, "ledamot-e").read_bytes()
    preview_before = form.preview_html.value

    def refuse(src: str, dst: str) -> None:
        raise OSError(failure, "simulated")

    monkeypatch.setattr(os, "replace", refuse)
    form.toggles["strategisk"].value = "1" if saved != "1" else "2"
    assert "EJ SPARAT" in form.status.value and "simulated" in form.status.value
    assert "color:#b00020" in form.status.value
    assert form.toggles["strategisk"].value == saved  # the widget shows what is on disk
    assert score_path(root, 2022, "ledamot-e").read_bytes() == before
    assert read_log(root, 2022, "ledamot-e") == []
    assert _preview_body(form.preview_html.value) == _preview_body(preview_before)  # recomputed, the same
    monkeypatch.undo()
    form.toggles["strategisk"].value = "1" if saved != "1" else "2"  # a retry works
    assert "Sparat" in form.status.value


def test_the_preview_follows_the_saved_scores_and_compares_with_the_last_run(root: Path) -> None:
    form = ScoringForm(root, 2022)
    assert "Ingen tidigare körning" in form.preview_html.value
    # The last run: the full 2022 data. Then LUM-08's follow-up plan loses every score (not yet scored).
    write_decisions_csv(review_year(root, 2022).decisions, root / "reports" / "2022" / "decisions.csv")
    _drop_rows(root, ["ledamot-a", "ledamot-b", "ledamot-c", "ledamot-d", "ledamot-e"],
               lambda r: (r["application_id"], r["criterion"]) != ("LUM-08", "uppfoljning"))
    form = _open(root, "ledamot-a")
    assert "LUM-08 (Skarpnäck) förlorar medel: 0\u00a0kr (hade 205" in form.preview_html.value
    assert "LUM-10 (Socialförvaltningen) får medel: 500" in form.preview_html.value
    assert "kvar 295" not in form.preview_html.value
    _go_to(form, "LUM-08")
    form.toggles["uppfoljning"].value = "5"
    assert "Inga förändringar" in form.preview_html.value
    assert "LUM: 8 beviljade, 3\u00a0705\u00a0000\u00a0kr av 4\u00a0000\u00a0000\u00a0kr; kvar 295\u00a0000\u00a0kr" \
        in form.preview_html.value
    assert "Hässelby-Vällingby 2/2 (LUM)" in form.preview_html.value  # caps in use
    form.toggles["uppfoljning"].value = NOT_SCORED
    assert "LUM-08 (Skarpnäck) förlorar medel" in form.preview_html.value


def test_the_preview_sees_a_change_saved_by_another_kernel(root: Path) -> None:
    write_decisions_csv(review_year(root, 2022).decisions, root / "reports" / "2022" / "decisions.csv")
    mine, theirs = _open(root, "ledamot-a"), _open(root, "ledamot-b")
    _drop_rows(root, ["ledamot-a", "ledamot-c", "ledamot-d", "ledamot-e"],
               lambda r: (r["application_id"], r["criterion"]) != ("LUM-08", "uppfoljning"))
    _go_to(theirs, "LUM-08")
    theirs.toggles["uppfoljning"].value = NOT_SCORED  # now nobody has scored LUM-08's follow-up plan
    _go_to(mine, "LUM-01")
    mine.toggles["strategisk"].value = "5"  # any change of mine recomputes from every saved file
    assert "LUM-08 (Skarpnäck) förlorar medel" in mine.preview_html.value


def test_wrong_parameters_are_named(root: Path) -> None:
    with pytest.raises(ParameterError, match="lang"):
        ScoringForm(root, 2022, lang="de")
    with pytest.raises(ParameterError, match="year"):
        ScoringForm(root, "2022", lang="sv")  # type: ignore[arg-type]


def test_the_status_line_names_the_criterion_in_words(root: Path) -> None:
    form = _open(root, "ledamot-b")
    _go_to(form, "LUM-02")
    saved = form.toggles["forebyggande"].value
    form.toggles["forebyggande"].value = "1" if saved != "1" else "2"
    assert "LUM-02 / Förebyggande insatser och/eller tidigt stöd:" in form.status.value
    assert "forebyggande" not in form.status.value  # never the internal code
    english = _open(root, "ledamot-b", lang="en")
    _go_to(english, "LUM-02")
    english.toggles["forebyggande"].value = NOT_SCORED
    assert "Saved" in english.status.value and "LUM-02 / Preventive interventions" in english.status.value
    assert "→ not scored" in english.status.value


def test_next_unscored_says_when_none_is_left(root: Path) -> None:
    form = _open(root, "ledamot-a")  # the 2022 data: every application scored
    start = form.index
    form.next_open_button.click()
    assert form.index == start
    assert "ingen ej bedömd finns kvar" in form.status.value
    english = _open(root, "ledamot-a", lang="en")
    english.next_open_button.click()
    assert "none is left unscored" in english.status.value


def test_an_ineligible_application_needs_no_scores(root: Path) -> None:
    _drop_rows(root, ["ledamot-a"], lambda r: r["application_id"] != "MUL-13")  # MUL-13 is not eligible
    form = _open(root, "ledamot-a")
    assert "22 av 22 bedömda" in form.progress_label.value
    assert "1 utan behörighet behöver inga betyg" in form.progress_label.value
    form.next_open_button.click()  # nothing left to score: MUL-13 is not offered
    assert "ingen ej bedömd finns kvar" in form.status.value and form.current != "MUL-13"
    assert "Andra granskares betyg" in form.others.value and "n=4" in form.others.value  # done
    _go_to(form, "MUL-13")
    assert "behöver inga betyg för att du ska bli klar" in form.details.value
    assert not any(t.disabled for t in form.toggles.values())  # it may still be scored
    _drop_rows(root, ["ledamot-a"], lambda r: r["application_id"] != "LUM-01")
    form = _open(root, "ledamot-a")
    form.show(0)
    form.next_open_button.click()
    assert form.current == "LUM-01"  # an eligible application without scores is offered


def test_the_form_shows_what_opening_the_store_repaired_or_could_not(root: Path) -> None:
    form = _open(root, "ledamot-c")
    _go_to(form, "LUM-02")
    form.toggles["strategisk"].value = "1" if form.toggles["strategisk"].value != "1" else "2"
    logged = form.toggles["strategisk"].value
    path = score_path(root, 2022, "ledamot-c")
    text = path.read_text(encoding="utf-8")
    # As if the process had been killed after logging the change but before writing the file:
    [entry] = read_log(root, 2022, "ledamot-c")
    path.write_text(text.replace(f"LUM-02,strategisk,{logged},", f"LUM-02,strategisk,{entry['old']},"),
                    encoding="utf-8")
    again = _open(root, "ledamot-c")
    assert "Återställt: LUM-02 / Strategisk betydelse" in again.recovery_html.value
    assert f"= {logged}" in again.recovery_html.value and "ledamot-c" in again.recovery_html.value
    assert _disk(root, "ledamot-c")[("LUM-02", "strategisk")] == logged
    # A value the log never saw: reported, in red, nothing changed.
    path.write_text(path.read_text(encoding="utf-8").replace(f"LUM-02,strategisk,{logged},", "LUM-02,strategisk,7,"),
                    encoding="utf-8")
    english = _open(root, "ledamot-c", lang="en")
    assert "Disagreement, nothing changed: LUM-02 / Strategic importance" in english.recovery_html.value
    assert "the score file has 7" in english.recovery_html.value and "color:#b00020" in english.recovery_html.value
    assert _disk(root, "ledamot-c")[("LUM-02", "strategisk")] == "7"
    assert _open(root, "ledamot-d").recovery_html.value == ""  # another reviewer: all agreed
