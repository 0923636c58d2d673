"""The scoring form: an ipywidgets form for JupyterLab that writes every change to disk at once.

`open_form(root, year, lang="sv")` displays it. The analyst picks who they are, then scores one
application at a time, in their own shuffled order (`review_rules.review_order`). Every change of a
grade or a comment is saved by `scorestore.ScoreStore` (atomic, locked, logged) *before* the form
says "Sparat"; a failure is shown in red at once and the widgets go back to what is on disk. The
live preview beside the form is recomputed from the saved files after each change.

The widgets never hold the truth: whenever an application is shown, its values are read from the
reviewer's file, so a re-opened form (or a restarted kernel) shows exactly what was saved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import ipywidgets as w
from IPython.display import display

from fou_review.collector import paused
from fou_review.core.load import YearInputs
from fou_review.core.model import ROW_FACTS
from fou_review.core.pipeline import Review
from fou_review.errors import FouReviewError, ParameterError
from fou_review.texts.catalog import format_int, format_kr, format_number, t
from fou_review.texts.reasons import rule_text
from fou_review.workbook.grades import GradeGroup
from fou_review.workbook.preview import LivePreview, render_preview
from fou_review.workbook.review_rules import (
    Progress,
    conflicts_of,
    is_fully_scored,
    others_scores,
    progress,
    review_order,
)
from fou_review.workbook.scorestore import COMMENT, Change, Recovery, Saved, SaveError, ScoreStore
from fou_review.workbook.templating import render, render_part

NOT_SCORED = "–"  # the toggle value meaning "not scored" (an en dash, never a grade)
PARTS = "form_parts.html.j2"  # the HTML of each widget: one macro per piece
_V = TypeVar("_V")


class ScoringForm:
    """The form's widgets and behaviour; `widget` is what gets displayed."""

    def __init__(self, root: Path | str, year: int, lang: str = "sv", inputs: YearInputs | None = None,
                 review: Review | None = None) -> None:
        """`inputs` or `review`: the year as already loaded or reviewed (see `LivePreview`)."""
        if isinstance(year, bool) or not isinstance(year, int):
            raise ParameterError(t("sv", "workbook", "form.bad_year", value=repr(year)))
        if lang not in ("sv", "en"):
            raise ParameterError(t("sv", "workbook", "form.bad_lang", value=repr(lang)))
        self.root, self.year, self.lang = Path(root), year, lang
        self.preview = LivePreview(self.root, year, inputs, review)
        self.params = self.preview.inputs.params
        apps = self.preview.inputs.applications
        self.app_ids = [str(a) for a in apps["id"].tolist()]
        self._app_pos = {a: i for i, a in enumerate(self.app_ids)}
        self.ineligible = dict(zip(apps["id"].tolist(), self.preview.eligibility["ineligible"].tolist(), strict=True))
        self.ineligible_ids = {str(a) for a, rules in self.ineligible.items() if rules}
        self.criterion_names = {c.code: _pick(lang, c.name_sv, c.name_en) for c in self.params.criteria}
        self.store: ScoreStore | None = None
        self.order: list[str] = []
        self.index = 0
        self.saved = Saved({}, {})
        self.conflicts: dict[str, str] = {}
        self._quiet = False
        self.previews = 0  # how many times the preview was computed (after each save, and once at the start)
        self._build()
        self._render_preview()

    # -- building ------------------------------------------------------------------------------
    def _t(self, key: str, **values: object) -> str:
        """The form's text `form.<key>` in the form's language, from the workbook catalogue."""
        return t(self.lang, "workbook", f"form.{key}", **values)

    def _html(self, macro: str, **arguments: object) -> str:
        """One piece of the form's HTML (a macro of `templates/form_parts.html.j2`) in the form's language."""
        return render_part(PARTS, macro, self.lang, **arguments)

    def _row(self, app_id: str) -> dict[str, Any]:
        """The application's row as a dict of plain values."""
        apps = self.preview.inputs.applications
        row: dict[str, Any] = apps.iloc[[self._app_pos[app_id]]].to_dict("records")[0]
        return row

    def _build(self) -> None:
        p = self.params
        self.title = w.HTML(self._html("heading", text=self._t("heading", year=self.year)))
        # A text field with the reviewers as suggestions: typed or picked with ↓ and Enter; JupyterLab's
        # own arrow-key shortcuts do not reach it (a drop-down list loses ↓ to the notebook).
        self.reviewers = list(p.reviewers)
        self.reviewer = w.Combobox(options=self.reviewers, value="", ensure_option=True, placeholder=self._t("pick"),
                                   description=self._t("who"))
        self.reviewer.add_class("fou-reviewer")
        self.hint = w.HTML(self._t("pick_first"))
        self.header = w.HTML()
        self.header.add_class("fou-app-header")
        self.details = w.HTML()
        self.conflict = w.HTML()
        self.conflict.add_class("fou-conflict")
        grades = [str(g) for g in range(p.scale.minimum, p.scale.maximum + 1)]
        words = _pick(self.lang, p.scale.descriptors_sv, p.scale.descriptors_en)
        spoken = [self._t("grade", grade=g, descriptor=words[int(g)]) for g in grades]  # read aloud per grade
        self.toggles: dict[str, GradeGroup] = {}
        self.descriptors: dict[str, w.HTML] = {}
        rows: list[w.Widget] = []
        for c in p.criteria:
            # A radio group (grades.GradeGroup): one tab stop, ←/→ move and select the grade, checked for
            # assistive technology, the chosen one framed, bold, underlined and ticked, not by colour alone.
            toggle = GradeGroup(options=[NOT_SCORED, *grades], value=NOT_SCORED,
                                option_labels=[self._t("not_scored"), *spoken],
                                label=self._t("grades_label", criterion=self.criterion_names[c.code]))
            toggle.add_class(f"fou-crit-{c.code}")
            toggle.add_class("fou-grades")
            toggle.observe(self._score_handler(c.code), names="value")
            self.toggles[c.code] = toggle
            self.descriptors[c.code] = w.HTML()
            weight = self._t("criterion_weight", weight=format_int(c.weight, self.lang))
            rows += [w.HTML(self._html("criterion_label", name=self.criterion_names[c.code], weight=weight)), toggle,
                     self.descriptors[c.code]]
        self.comment = w.Textarea(placeholder=self._t("comment"), continuous_update=False,
                                  layout=w.Layout(width="95%", height="5em"))
        self.comment.add_class("fou-comment")
        self.comment.observe(self._on_comment, names="value")
        auto = {"width": "auto"}
        self.prev_button = w.Button(description=self._t("previous"), layout=auto)
        self.next_button = w.Button(description=self._t("next"), layout=auto)
        self.next_open_button = w.Button(description=self._t("next_open"), layout=auto)
        self.prev_button.on_click(lambda _b: self.show(self.index - 1))
        self.next_button.on_click(lambda _b: self.show(self.index + 1))
        self.next_open_button.on_click(lambda _b: self.show_next_unscored())
        self.position = w.HTML()
        self.progress_label = w.HTML()
        self.progress_label.add_class("fou-progress")
        self.status = w.HTML()
        self.status.add_class("fou-status")
        self.recovery_html = w.HTML()
        self.recovery_html.add_class("fou-recovery")
        self.others = w.HTML()
        self.others.add_class("fou-others")
        self.preview_html = w.HTML()
        self.preview_html.add_class("fou-preview")
        nav = w.HBox([self.prev_button, self.next_button, self.next_open_button, self.position])
        nav.add_class("fou-nav")
        self.navigation = w.VBox([nav, self.progress_label, self.header])
        self.navigation.layout.display = "none"
        sticky = w.VBox([self.status, self.navigation])  # stays at the top while any criterion is scored
        sticky.add_class("fou-sticky")
        self.scoring = w.VBox([self.details, self.conflict, *rows,
                               w.HTML(self._html("label", text=self._t("comment"))), self.comment, self.others])
        self.scoring.layout.display = "none"
        self.reviewer.observe(self._on_reviewer, names="value")
        left = w.VBox([w.HTML(render("form_style.html.j2", self.lang)), self.title, self.reviewer, self.hint,
                       self.recovery_html, sticky, self.scoring])
        left.add_class("fou-left")
        right = w.VBox([self.preview_html])
        right.add_class("fou-right")
        self.widget = w.HBox([left, right])
        self.widget.add_class("fou-form")

    # -- state ---------------------------------------------------------------------------------
    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Set widget values without treating them as the analyst's changes."""
        self._quiet, before = True, self._quiet
        try:
            yield
        finally:
            self._quiet = before

    @property
    def current(self) -> str:
        """The id of the application the form shows."""
        return self.order[self.index]

    def _read_saved(self) -> bool:
        assert self.store is not None
        try:
            self.saved = self.store.read()
        except SaveError as exc:
            self._error(self._t("read_failed", error=exc.message(self.lang)))
            return False
        return True

    def _progress(self) -> Progress:
        return progress(self.saved.scores, self.order, self.conflicts, self.params, self.ineligible_ids)

    def _on_reviewer(self, change: dict[str, Any]) -> None:
        reviewer = str(change["new"])
        if reviewer and reviewer not in self.reviewers:  # still being typed
            return
        self.status.value = ""
        self.recovery_html.value = ""
        if not reviewer:
            self.store = None
            self.scoring.layout.display = "none"
            self.navigation.layout.display = "none"
            self.hint.layout.display = None
            return
        try:  # opening the store checks the file against its change log (and repairs what is safe)
            self.store = ScoreStore(self.root, self.params, reviewer)
        except SaveError as exc:
            self.store = None
            self.scoring.layout.display = "none"
            self.navigation.layout.display = "none"
            self._error(self._t("read_failed", error=exc.message(self.lang)))
            return
        self._show_recovery(self.store.recovery)
        self.order = review_order(self.app_ids, reviewer, self.year)
        self.conflicts = conflicts_of(self.preview.inputs.conflicts, reviewer)
        self.hint.layout.display = "none"
        self.scoring.layout.display = None
        self.navigation.layout.display = None
        self.show(0)

    def show(self, index: int) -> None:
        """Show the application at `index` of the reviewer's order, with its values as saved."""
        if self.store is None or not self.order:
            return
        self.index = max(0, min(index, len(self.order) - 1))
        self._read_saved()
        self._sync_widgets()
        self._render_application()
        self._render_progress()

    def show_next_unscored(self) -> None:
        """Go to the next application (after the current one, wrapping) that still needs scores, or say none does."""
        if self.store is None or not self.order:
            return
        self._read_saved()
        criteria = self.params.criterion_codes()
        n = len(self.order)
        for step in range(1, n + 1):
            i = (self.index + step) % n
            app = self.order[i]
            if (app not in self.conflicts and app not in self.ineligible_ids
                    and not is_fully_scored(self.saved.scores, app, criteria)):
                self.status.value = ""
                self.show(i)
                return
        self.status.value = self._html("none_open", text=self._t("none_open"))

    def _sync_widgets(self) -> None:
        app = self.current
        blocked = app in self.conflicts
        descriptors = _pick(self.lang, self.params.scale.descriptors_sv, self.params.scale.descriptors_en)
        with self._quietly():
            for code, toggle in self.toggles.items():
                grade = self.saved.scores.get((app, code))
                toggle.value = NOT_SCORED if grade is None else str(grade)
                toggle.disabled = blocked
                self.descriptors[code].value = self._html("descriptor", text=(
                    self._t("not_scored") if grade is None
                    else self._t("grade", grade=grade, descriptor=descriptors[grade])))
            self.comment.value = self.saved.comments.get(app, "")
            self.comment.disabled = blocked
        self.prev_button.disabled = self.index == 0
        self.next_button.disabled = self.index == len(self.order) - 1

    # -- rendering -----------------------------------------------------------------------------
    def _render_application(self) -> None:
        app_id = self.current
        row = self._row(app_id)
        fund = self.params.funds[str(row["fund"])]
        self.position.value = self._html("text", value=self._t("position", i=format_int(self.index + 1, self.lang),
                                                               n=format_int(len(self.order), self.lang)))
        label = _pick(self.lang, fund.title_label_sv, fund.title_label_en)
        self.header.value = self._html("header", id=app_id, title=str(row["title"]))
        facts = [(self._t("applicants"), " & ".join(row["applicants"])),
                 (label, str(row["title"])),
                 (self._t("fund"), self._t("fund_value", code=fund.code,
                                           name=_pick(self.lang, fund.name_sv, fund.name_en))),
                 (self._t("amount"), format_kr(int(row["requested_kr"])))]
        owed = {k: str(row[k]) for k in ROW_FACTS if k in row}  # the grants owed (core.cycle)
        reasons = [rule_text(r, fund, self.lang, int(row["requested_kr"]), str(row["purpose"]), owed)
                   for r in self.ineligible[app_id]]
        self.details.value = self._html("details", facts=facts, reasons=reasons)
        if app_id in self.conflicts:
            reason = self.conflicts[app_id] or self._t("conflict_no_reason")
            self.conflict.value = self._html("alert", text=self._t("conflict", reason=reason))
        else:
            self.conflict.value = ""

    def _render_progress(self) -> None:
        prog = self._progress()
        lang = self.lang
        notes = ([self._t("progress_conflicts", n=format_int(prog.conflicted, lang))] if prog.conflicted else []) + (
            [self._t("progress_ineligible", n=format_int(prog.ineligible, lang))] if prog.ineligible else [])
        done = self._t("progress", done=format_int(prog.scored, lang), total=format_int(prog.to_score, lang))
        self.progress_label.value = self._html("progress", done=done, notes=notes)
        if self.current in self.conflicts:  # a conflicted reviewer does not see the others' scores either
            self.others.value = ""
            return
        if not prog.complete:
            hidden = self._t("others_hidden", done=format_int(prog.scored, lang), total=format_int(prog.to_score, lang))
            self.others.value = self._html("descriptor", text=hidden)
            return
        assert self.store is not None
        names = self.criterion_names
        rows = []
        for o in others_scores(self.preview.scores, self.preview.inputs.conflicts, self.store.reviewer,
                               self.current, self.params):
            value = (self._t("others_none") if o.mean is None or o.low is None or o.high is None
                     else self._t("others_value", mean=format_number(o.mean, lang, 1), low=format_int(o.low, lang),
                                  high=format_int(o.high, lang), n=format_int(o.n, lang)))
            rows.append((names[o.criterion], value))
        self.others.value = self._html("others", title=self._t("others_title"), rows=rows)

    def _render_preview(self, change: Change | None = None) -> None:
        result = self.preview.refresh(change)
        self.previews += 1  # counted in the page too, with the save it follows: a browser sees it arrive
        last = "" if change is None else f"{change.application_id} {change.criterion} {change.new}"
        self.preview_html.value = self._html("preview", n=self.previews, change=last,
                                             body=render_preview(result, self.preview, self.lang))

    def _show_recovery(self, recovery: Recovery) -> None:
        """Show what opening the store found (repaired and unresolved cells); nothing when all agreed."""
        lines = recovery.lines(self.lang, self.criterion_names)
        if not lines:
            return
        head, *items = lines
        self.recovery_html.value = self._html("recovery", head=head, items=items, unresolved=bool(recovery.unresolved))

    def _error(self, message: str) -> None:
        self.status.value = self._html("error", text=message)

    # -- changes -------------------------------------------------------------------------------
    def _score_handler(self, criterion: str) -> Any:
        def handler(change: dict[str, Any]) -> None:
            if self._quiet or self.store is None:
                return
            value = str(change["new"])
            grade = None if value == NOT_SCORED else int(value)
            self._save(lambda store: store.set_score(self.current, criterion, grade))
        return handler

    def _on_comment(self, change: dict[str, Any]) -> None:
        if self._quiet or self.store is None:
            return
        comment = str(change["new"])
        self._save(lambda store: store.set_comment(self.current, comment))

    def _save(self, action: Any) -> None:
        """Run one save; report it (or its failure) and show what is now on disk."""
        assert self.store is not None
        done: Change | None = None
        try:
            if self.current in self.conflicts:  # the widgets are disabled too; this guards the file
                raise SaveError(self._t("conflict", reason=self.conflicts[self.current]))
            before = self.store.recovery
            done = action(self.store)
            if self.store.recovery is not before:  # a save found a log line cut off by another process
                self._show_recovery(self.store.recovery)
        except SaveError as exc:
            self._error(self._t("save_failed", error=exc.message(self.lang)))
        else:
            self._report(done)
        # Whatever happened, the widgets now show the file, never a value that was not saved.
        if self._read_saved():
            self._sync_widgets()
        self._render_progress()
        self._render_preview(done)

    def _report(self, change: Change | None) -> None:
        if change is None:
            self.status.value = self._html("text", value=self._t("unchanged"))
            return
        when = dt.datetime.now().strftime("%H:%M:%S")
        if change.criterion == COMMENT:
            what = self._t("comment_what", app=change.application_id)
        else:
            none = self._t("not_scored")
            what = self._t("score_what", app=change.application_id,
                           criterion=self.criterion_names.get(change.criterion, change.criterion),
                           old=none if change.old is None else change.old,
                           new=none if change.new is None else change.new)
        self.status.value = self._html("saved", text=self._t("saved", time=when, what=what))


def _pick(lang: str, sv: _V, en: _V) -> _V:
    """The Swedish or the English variant of a parameter (names, labels, descriptors in params/<year>.yaml)."""
    return sv if lang == "sv" else en


def open_form(root: Path | str, year: int, lang: str = "sv", review: Review | None = None) -> ScoringForm | None:
    """Build and display the form; an input problem is displayed (in red) instead of a traceback.

    `review`: the year as the notebook already reviewed it, whose inputs the form reuses (the score
    files are read again)."""
    with paused():
        try:
            form = ScoringForm(root, year, lang=lang, review=review)
        except FouReviewError as exc:
            shown = exc.message(lang if lang in ("sv", "en") else "sv")
            display(w.HTML(render_part(PARTS, "alert", lang if lang in ("sv", "en") else "sv", text=shown)))  # type: ignore[no-untyped-call]
            return None
        from fou_review.workbook.whatif_view import widget_bundle

        display(widget_bundle(form.widget, form._t("static")), raw=True)  # type: ignore[no-untyped-call]
    return form
