"""The live allocation preview beside the scoring form, computed from the saved files only.

The year is loaded once (`load_year`); eligibility does not depend on scores, so it is computed
once. Given the notebook's review, and while the score files are the ones it read (their stamps), the
review's allocation is the preview's first one: nothing is decided again until a score changes. After
a change the form has saved, the in-memory scores take in exactly that change (checked
against the file's stamp, see `LivePreview.apply_saved`); a score file changed by anyone else is
read again through the loader (`load.load_reviewer_scores`, validated as `load_year` does it).
Then the funds whose scores changed are decided again by the core's one wiring (`pipeline.decide`:
scoring, allocation, summary): with raw totals funds are independent, each decided alone as the
whole-year run decides it; calibrated totals take the reviewers' biases from every score of the year, so
there the whole year is decided again. The preview reads no file
itself. It is compared with the last yearly run's record `reports/<year>/decisions.csv` (columns
`id`, `granted_kr`, ..., read by `load.load_previous_grants`): who gains funding, who loses it,
whose amount changes.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fou_review.core.eligibility import check_eligibility
from fou_review.core.load import Stamp, YearInputs, file_stamp, load_previous_grants, load_reviewer_scores, load_year
from fou_review.core.pipeline import Review, decide
from fou_review.core.summary import Check, FundSummary, Summary
from fou_review.errors import FouReviewError
from fou_review.texts.catalog import format_int, format_kr, t
from fou_review.workbook.scorestore import COMMENT, Change
from fou_review.workbook.templating import render

PREVIOUS_RUN = "reports/{year}/decisions.csv"


@dataclass(frozen=True)
class FundingChange:
    """One application whose grant differs from the previous run's: before and after, in kronor."""

    id: str
    fund: str
    applicants: str
    before_kr: int
    after_kr: int

    @property
    def kind(self) -> str:
        """"gains" (had nothing), "loses" (gets nothing) or "changes" (another amount)."""
        if self.before_kr == 0:
            return "gains"
        if self.after_kr == 0:
            return "loses"
        return "changes"


@dataclass(frozen=True)
class PreviewResult:
    """The live preview after a change: decisions, summary, changes against the previous run, or why none."""

    decisions: pd.DataFrame | None
    summary: Summary | None
    changes: tuple[FundingChange, ...] | None  # None: no previous run to compare with
    error: str | None  # why no allocation could be computed (shown instead), in Swedish
    seconds: float
    failure: FouReviewError | None = None  # the error itself, to show it in the preview's language


@dataclass(frozen=True)
class _FundResult:
    decisions: pd.DataFrame  # indexed like the applications table
    fund: FundSummary
    cap_use: pd.DataFrame
    checks: tuple[Check, ...]


class LivePreview:
    """Keeps a year in memory and recomputes the allocation from the saved score files.

    The saved scores are held as a dense array `grade[reviewer, application, criterion]` (-1 = not
    scored). `apply_saved(change)` updates it from a change `ScoreStore` has just written, when the
    file's stamp before that write is the one last read (so memory + change == the file); otherwise,
    and for any file changed by someone else (another kernel), the file is read again.
    """

    def __init__(self, root: Path | str, year: int, inputs: YearInputs | None = None,
                 review: Review | None = None) -> None:
        """`inputs`: the year as already loaded (the notebook's review), to save reading it again; a score
        file whose stamp now is not the one it had when `inputs` read it is read again, so a score saved
        since is not missed. `review`: the notebook's review of those inputs (`inputs` defaults to its
        own), whose eligibility and, while no score file was read again, allocation the preview takes."""
        self.root, self.year = Path(root), year
        self._stamps = self._file_stamps()  # taken before reading: a change in between is seen later
        if inputs is None and review is not None:
            inputs = review.inputs
        if review is not None and review.inputs is not inputs:
            review = None  # another year's or another reading's review: nothing of it is used
        self.inputs: YearInputs = load_year(self.root, year) if inputs is None else inputs
        apps, params = self.inputs.applications, self.inputs.params
        self.eligibility = check_eligibility(apps, params) if review is None else review.eligibility
        self.eligible_ids = set(apps.loc[self.eligibility["eligible"], "id"].tolist())
        self._app_ids = pd.Index(apps["id"])
        self._app_id_set = set(self._app_ids.tolist())
        self._criteria = pd.Index(params.criterion_codes())
        self._reviewers = pd.Index(params.reviewers)
        self._grade = np.full((len(self._reviewers), len(self._app_ids), len(self._criteria)), -1, dtype=np.int16)
        scores = self.inputs.scores
        self._set_grades(self._reviewers.get_indexer(scores["reviewer"]), scores)
        reread = inputs is None
        if inputs is not None:  # read again the files saved since `inputs` read them
            for reviewer in self._reviewers:
                if reviewer not in self._stamps or self._stamps[reviewer] != inputs.score_stamps.get(reviewer):
                    self.reload_reviewer(reviewer)
                    reread = True
        # With raw totals funds are allocated independently (own budget, caps, ranking), so a change
        # recomputes one fund. Calibrated totals take the reviewers' biases from every score of the year:
        # there a change recomputes the whole year (`_allocate_year`).
        fund = apps["fund"].to_numpy()
        self._fund_of = dict(zip(apps["id"].tolist(), fund.tolist(), strict=True))
        self._fund_pos = {f: np.flatnonzero(fund == f) for f in params.funds}
        self._cache: dict[str, _FundResult] = {}
        self._dirty: set[str] = set(params.funds)
        if review is not None and not reread:  # the scores in memory are the review's own: its allocation
            for fund in params.funds:
                self._cache[fund] = self._fund_part(review.decisions, review.summary, fund)
            self._dirty.clear()
        self.previous_path = self.root / PREVIOUS_RUN.format(year=year)
        self._previous: tuple[float, dict[str, int] | None] | None = None
        self.last: PreviewResult | None = None

    def _set_grades(self, reviewer_codes: np.ndarray, scores: pd.DataFrame) -> None:
        a = self._app_ids.get_indexer(scores["application_id"])
        c = self._criteria.get_indexer(scores["criterion"])
        self._grade[reviewer_codes, a, c] = scores["score"].to_numpy(dtype=np.int16)

    @property
    def scores(self) -> pd.DataFrame:
        """Every reviewer's saved scores, as last read: reviewer, application_id, criterion, score."""
        return self._scores_of(np.arange(len(self._app_ids)))

    def _scores_of(self, positions: np.ndarray) -> pd.DataFrame:
        grade = self._grade[:, positions, :]
        r, a, c = np.nonzero(grade >= 0)
        return pd.DataFrame({
            "reviewer": pd.Categorical.from_codes(r, categories=self._reviewers),
            "application_id": pd.Categorical.from_codes(a, categories=self._app_ids[positions]),
            "criterion": pd.Categorical.from_codes(c, categories=self._criteria),
            "score": grade[r, a, c].astype(np.int64)})

    def _file_stamps(self) -> dict[str, Stamp]:
        stamps = {}
        for path in (self.root / "data" / str(self.year) / "scores").glob("*.csv"):
            stamp = file_stamp(path)
            if stamp is not None:
                stamps[path.stem] = stamp
        return stamps

    def reload_changed(self) -> list[str]:
        """Re-read every reviewer's file that changed on disk since it was read (e.g. by another kernel)."""
        now = self._file_stamps()
        changed = sorted(r for r in set(now) | set(self._stamps) if now.get(r) != self._stamps.get(r))
        for reviewer in changed:
            self.reload_reviewer(reviewer)
            self._dirty.update(self._fund_pos)
            self._stamps[reviewer] = now[reviewer] if reviewer in now else self._stamps.pop(reviewer)
        return changed

    def reload_reviewer(self, reviewer: str) -> None:
        """Read one reviewer's saved file again (through the loader, validated as `load_year` validates it)."""
        scores = load_reviewer_scores(self.root, self.year, reviewer, self.inputs.params, self._app_id_set)
        if reviewer not in self._reviewers:  # only a file that is gone can get here (the loader refuses the rest)
            return
        i = self._reviewers.get_loc(reviewer)
        self._grade[i] = -1
        if scores is not None:
            self._set_grades(np.full(len(scores), i), scores)

    def apply_saved(self, change: Change) -> None:
        """Take in a change `ScoreStore` has just saved, without reading the whole file again if possible."""
        reviewer = change.reviewer
        if change.criterion == COMMENT:  # comments do not change the allocation
            fresh = False
        else:
            fresh = (change.file_before == self._stamps.get(reviewer) and change.file_after is not None
                     and change.application_id in self._app_ids and change.criterion in self._criteria)
        if fresh and change.file_after is not None:
            grade = -1 if change.new is None else int(change.new)
            self._grade[self._reviewers.get_loc(reviewer), self._app_ids.get_loc(change.application_id),
                        self._criteria.get_loc(change.criterion)] = grade
            self._stamps[reviewer] = change.file_after
            self._dirty.add(self._fund_of[change.application_id])
        # otherwise the next refresh sees a changed stamp and reads the file again

    def _previous_run(self) -> dict[str, int] | None:
        try:
            stamp = self.previous_path.stat().st_mtime
        except FileNotFoundError:
            return None
        if self._previous is None or self._previous[0] != stamp:
            self._previous = (stamp, load_previous_grants(self.root, PREVIOUS_RUN.format(year=self.year)))
        return self._previous[1]

    def _allocate_fund(self, fund: str) -> _FundResult:
        """Score, allocate and summarise one fund's applications (with raw totals exactly what the whole-year
        run does)."""
        pos = self._fund_pos[fund]
        inputs, params = self.inputs, self.inputs.params
        apps = inputs.applications.iloc[pos]
        eligibility = self.eligibility.iloc[pos]
        decided = decide(apps, eligibility, self._scores_of(pos), inputs.conflicts, params, inputs.overrides)
        return _fund_result(decided.allocation.decisions.set_axis(apps.index), decided.summary, fund)

    def _allocate_year(self) -> None:
        """Score, allocate and summarise the whole year at once (calibrated totals: the biases are the year's)."""
        inputs = self.inputs
        decided = decide(inputs.applications, self.eligibility, self.scores, inputs.conflicts, inputs.params,
                         inputs.overrides)
        for fund in inputs.params.funds:
            self._cache[fund] = self._fund_part(decided.allocation.decisions, decided.summary, fund)

    def _fund_part(self, year_decisions: pd.DataFrame, summary: Summary, fund: str) -> _FundResult:
        """One fund's part of a whole-year allocation (with raw totals, what `_allocate_fund` gives for the
        same scores)."""
        pos = self._fund_pos[fund]
        return _fund_result(year_decisions.iloc[pos].set_axis(self.inputs.applications.index[pos]), summary, fund)

    def _combined(self) -> tuple[pd.DataFrame, Summary]:
        parts = [self._cache[f] for f in self.inputs.params.funds]
        decisions = pd.concat([p.decisions for p in parts]).sort_index().reset_index(drop=True)
        cap_use = pd.concat([p.cap_use for p in parts], ignore_index=True)
        return decisions, Summary(tuple(p.fund for p in parts), cap_use, tuple(c for p in parts for c in p.checks))

    def refresh(self, change: Change | None = None) -> PreviewResult:
        """Recompute from the saved files (taking in `change`, just saved; re-reading files changed on disk)."""
        start = time.perf_counter()
        try:
            if change is not None:
                self.apply_saved(change)
            self.reload_changed()
            if self._dirty and self.inputs.params.allocation_scores == "calibrated":
                self._allocate_year()
                self._dirty.clear()
            for fund in sorted(self._dirty):
                self._cache[fund] = self._allocate_fund(fund)
                self._dirty.discard(fund)
            decisions, summary = self._combined()
            previous = self._previous_run()
        except FouReviewError as exc:
            self.last = PreviewResult(None, None, None, str(exc), time.perf_counter() - start, exc)
            return self.last
        changes = None if previous is None else compare(decisions, previous)
        self.last = PreviewResult(decisions, summary, changes, None, time.perf_counter() - start)
        return self.last


def _fund_result(decisions: pd.DataFrame, summary: Summary, fund: str) -> _FundResult:
    """A fund's decisions with its part of `summary`."""
    return _FundResult(decisions, next(f for f in summary.funds if f.fund == fund),
                       summary.cap_use[summary.cap_use["fund"] == fund],
                       tuple(c for c in summary.checks if c.fund == fund))


def compare(decisions: pd.DataFrame, previous: dict[str, int]) -> tuple[FundingChange, ...]:
    """Applications whose granted amount differs from the previous run (absent there = 0 kr)."""
    ids, funds, applicants, granted = (decisions[c].tolist() for c in ("id", "fund", "applicants", "granted_kr"))
    out = []
    for i, (app_id, after) in enumerate(zip(ids, granted, strict=True)):
        before = previous.get(str(app_id), 0)
        if int(after) != before:
            out.append(FundingChange(str(app_id), str(funds[i]), str(applicants[i]), before, int(after)))
    return tuple(out)


LIST_AT_MOST = 40  # ids listed per fund and decision; a large year shows the first ones and a count


def _listed(items: list[str], total: int, lang: str, at_most: int = LIST_AT_MOST) -> str:
    """"A, B, C" or, for a long list, its first items and how many more (`items`: at least the first `at_most`
    of `total`)."""
    if not total:
        return t(lang, "workbook", "preview.none")
    if total <= at_most:
        return ", ".join(items[:total])
    more = t(lang, "workbook", "preview.more", n=format_int(total - at_most, lang))
    return ", ".join(items[:at_most]) + " " + more


def _failure(result: PreviewResult, lang: str) -> str:
    return result.failure.message(lang) if result.failure is not None else str(result.error)


def render_preview(result: PreviewResult, preview: LivePreview, lang: str = "sv") -> str:
    """The preview as a small HTML fragment (template `preview.html.j2`: every text from the workbook
    catalogue, every value escaped)."""
    path = PREVIOUS_RUN.format(year=preview.year)
    if result.error is not None or result.decisions is None or result.summary is None:
        return render("preview.html.j2", lang, error=_failure(result, lang), path=path)
    decisions = result.decisions
    params = preview.inputs.params
    ids = decisions["id"].to_numpy()
    fund_of = decisions["fund"].to_numpy()
    granted = decisions["granted_kr"].to_numpy()
    funds = []
    for fs in result.summary.funds:
        fund = params.funds[fs.fund]
        mine = fund_of == fs.fund
        got = np.flatnonzero(mine & (granted > 0))  # in the decisions' order
        not_got = np.flatnonzero(mine & (granted == 0))
        funded = [f"{ids[k]} ({format_kr(int(granted[k]))})" for k in got[:LIST_AT_MOST].tolist()]
        funds.append({"code": fs.fund, "n": format_int(fs.granted_n, lang), "granted": format_kr(fs.granted_kr),
                      "budget": format_kr(fund.budget_kr), "left": format_kr(fs.remaining_kr),
                      "funded": _listed(funded, len(got), lang),
                      "not_funded": _listed([ids[k] for k in not_got[:LIST_AT_MOST].tolist()], len(not_got), lang)})
    cap_use = result.summary.cap_use
    caps = cap_use[cap_use["granted_n"] > 0]
    counts = {int(n): format_int(int(n), lang) for n in set(caps["granted_n"]) | set(caps["cap"])}
    # (full, applicant, count, cap, fund): a tuple the template unpacks, for each applicant granted something
    cap_items = [(n >= c, str(a), counts[int(n)], counts[int(c)], str(f))
                 for f, a, n, c in zip(*(caps[k].tolist() for k in ("fund", "applicant", "granted_n", "cap")),
                                       strict=True)]
    changes = None
    if result.changes is not None:
        changes = [_change_line(c, lang) for c in result.changes[:LIST_AT_MOST + 1]]
        if len(result.changes) > LIST_AT_MOST:
            more = format_int(len(result.changes) - LIST_AT_MOST, lang)
            changes = changes[:LIST_AT_MOST] + [t(lang, "workbook", "preview.more", n=more)]
    return render("preview.html.j2", lang, error=None, funds=funds, caps=cap_items, changes=changes, path=path)


_CHANGE_IDS = {"gains": "preview.gains", "loses": "preview.loses", "changes": "preview.changes"}


def _change_line(change: FundingChange, lang: str) -> str:
    """"LUM-08 (Skarpnäck) förlorar medel: 0 kr (hade 205 000 kr)"."""
    return t(lang, "workbook", _CHANGE_IDS[change.kind], id=change.id, applicants=change.applicants,
             before=format_kr(change.before_kr), after=format_kr(change.after_kr))


def preview_text(result: PreviewResult, preview: LivePreview, lang: str = "sv") -> str:
    """The preview as plain text (for tests and logs): the HTML with its tags removed."""
    return html.unescape(re.sub(r"<[^>]+>", " ", render_preview(result, preview, lang)))

