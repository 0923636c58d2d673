"""Saving one reviewer's scores so that none is ever lost, and no change is on disk unlogged.

The reviewer's file `data/<year>/scores/<reviewer>.csv` holds the scores (columns `application_id,
criterion, score, comment, source`, exactly as `load.parse_scores` reads it); the change log
`data/<year>/scores/<reviewer>.log.jsonl` holds every change the form made to it. Every change:

1. takes an exclusive lock (`fcntl.flock` on `data/<year>/scores/.<reviewer>.lock`), so two kernels
   (two forms of the same reviewer) never overwrite each other's changes;
2. reads the file as it is on disk *now*, changes one cell (read-modify-write);
3. appends one JSON line to the change log and fsyncs it **first**:
   `{"seq", "time", "reviewer", "application_id", "criterion", "old", "new"}`, `seq` counting
   the log's lines from 1 and `criterion` set to `"comment"` for a comment. The log is not a
   `.csv`, so `load_year` never reads it as scores;
4. only then writes the whole file to a temporary file in the same folder, fsyncs it and renames
   it over the old one (`os.replace`), then fsyncs the folder: a crash leaves the old file or the
   new one. If this write fails (disk full, no permission), the log line just appended is cut off
   again, so the log holds no change that was not saved.

So a process killed at any point leaves either nothing, or a logged change the file may lack; never
a change on disk the log never saw. Opening a store (`ScoreStore(...)`) checks exactly that, under
the lock, and puts the outcome in `store.recovery` (a `Recovery`):

* the log's last line cut short by a kill while it was written is removed (its change never
  reached the file);
* the log is replayed (the last logged value of each cell); where the file still has the value
  from *before* the last logged change of a cell (a kill between the log and the file), the logged
  change is re-applied to the file: **repaired**;
* where the file has a value that is neither (an edit the log never saw), nothing is changed and
  the cell is reported as **unresolved**: reviewer, application, criterion, the file's value and
  the logged value. The form shows both kinds; nothing is repaired or skipped silently.

Cells the log never mentions (scores imported before any change by the form) are the file's own.

Rows keep their order and their `source`; a row whose score the form sets gets `source` `form`
(`FORM_SOURCE`), as does a row the form creates. The comment is one per application, stored on
every criterion row of that application (rows are created, with an empty score, when missing).

The store is the one writer of these files and reads them itself, under its lock, for its
read-modify-write (the documented exception to "only the loaders read input files"); it parses
with the loaders' own table parser and column rules.

Any failure raises `SaveError` (a message naming the file, from the workbook catalogue: `str(err)`
is Swedish, `err.message("en")` English); nothing is swallowed.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import fcntl
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fou_review.atomic import fsync_folder, write_atomic
from fou_review.core.load import SCORE_COLUMNS, SCORE_OPTIONAL, Stamp, data_dir, file_stamp
from fou_review.core.load import score_path as score_path  # noqa: PLC0414 (re-export: where a score file is)
from fou_review.core.params import Params
from fou_review.core.tables import parse_csv_from_string, require_columns
from fou_review.errors import InputError, Msg
from fou_review.errors import SaveError as SaveError  # noqa: PLC0414 (re-export; defined in errors.py)
from fou_review.texts.catalog import t

FILE_COLUMNS = ("application_id", "criterion", "score", "comment", "source")
FORM_SOURCE = "form"  # the `source` of a row whose score was set (or which was created) by the form
COMMENT = "comment"  # the log's `criterion` for a change of the application's comment
TAIL_BYTES = 4096  # how much of the log's end is read to find the last sequence number


def _error(msgid: str, /, **values: object) -> SaveError:
    """A `SaveError` whose message is `msgid` of the workbook catalogue (rendered in sv or en when shown)."""
    shown: dict[str, Value] = {k: v if v is None or isinstance(v, int | str) else str(v) for k, v in values.items()}
    return SaveError(Msg.of(msgid, domain="workbook", **shown))


@dataclass(frozen=True)
class Saved:
    """What one reviewer's file holds: scored cells and one comment per application."""

    scores: dict[tuple[str, str], int]  # (application_id, criterion) -> grade; absent = not scored
    comments: dict[str, str]  # application_id -> comment (the first non-empty one on its rows)


Value = int | str | None  # a grade (None = not scored) or a comment


@dataclass(frozen=True)
class Change:
    """One logged change, and the file's stamp just before and just after it was written (under the lock)."""

    time: str
    reviewer: str
    application_id: str
    criterion: str  # a criterion code, or COMMENT
    old: Value
    new: Value
    file_before: Stamp | None = None
    file_after: Stamp | None = None
    seq: int | None = None  # its line in the log, counted from 1

    def to_json(self) -> str:
        """The change's log line (without the newline)."""
        return json.dumps({"seq": self.seq, "time": self.time, "reviewer": self.reviewer,
                           "application_id": self.application_id, "criterion": self.criterion,
                           "old": self.old, "new": self.new}, ensure_ascii=False)


@dataclass(frozen=True)
class Disagreement:
    """One cell where the score file and the replayed change log differed when the store was opened."""

    reviewer: str
    application_id: str
    criterion: str  # a criterion code, or COMMENT
    file_value: Value  # what the file had
    logged_value: Value  # the last logged value (now the file's, if `repaired`)
    seq: int | None  # the logged change's sequence number
    repaired: bool  # True: the logged change was re-applied to the file


@dataclass(frozen=True)
class Recovery:
    """What opening the store found: repaired cells, unresolved ones, and a cut-off log line removed."""

    reviewer: str
    repaired: tuple[Disagreement, ...] = ()
    unresolved: tuple[Disagreement, ...] = ()
    torn_line_removed: bool = False

    @property
    def clean(self) -> bool:
        """True when the file and the log agreed and nothing had to be done."""
        return not (self.repaired or self.unresolved or self.torn_line_removed)

    def lines(self, lang: str, criterion_names: dict[str, str] | None = None) -> list[str]:
        """The report in `lang`: a title, then one line per finding (empty when `clean`)."""
        if self.clean:
            return []
        names = criterion_names or {}

        def shown(value: Value) -> str:
            return t(lang, "workbook", "recovery.empty") if value in (None, "") else str(value)

        out = [t(lang, "workbook", "recovery.title", reviewer=self.reviewer)]
        if self.torn_line_removed:
            out.append(t(lang, "workbook", "recovery.torn"))
        for kind, items in (("recovery.repaired", self.repaired), ("recovery.unresolved", self.unresolved)):
            for d in items:
                criterion = (t(lang, "workbook", "recovery.comment") if d.criterion == COMMENT
                             else names.get(d.criterion, d.criterion))
                out.append(t(lang, "workbook", kind, app=d.application_id, criterion=criterion,
                             file=shown(d.file_value), logged=shown(d.logged_value),
                             seq="?" if d.seq is None else d.seq))
        return out


def log_path(root: Path, year: int, reviewer: str) -> Path:
    """The reviewer's change log."""
    return data_dir(Path(root), year) / "scores" / f"{reviewer}.log.jsonl"


def lock_path(root: Path, year: int, reviewer: str) -> Path:
    """The lock file every change of the reviewer's files takes."""
    return data_dir(Path(root), year) / "scores" / f".{reviewer}.lock"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class ScoreStore:
    """One reviewer's score file: read it, and change one cell at a time, safely.

    Opening it checks the file against its change log (see the module's doc); `recovery` says what
    was found.
    """

    def __init__(self, root: Path | str, params: Params, reviewer: str) -> None:
        if reviewer not in params.reviewers:
            raise _error("store.unknown_reviewer", reviewer=repr(reviewer), reviewers=", ".join(params.reviewers))
        self.root, self.params, self.reviewer = Path(root), params, reviewer
        self.path = score_path(self.root, params.year, reviewer)
        self.log = log_path(self.root, params.year, reviewer)
        self.lock = lock_path(self.root, params.year, reviewer)
        self.rel = f"data/{params.year}/scores/{reviewer}.csv"
        self.log_rel = f"data/{params.year}/scores/{self.log.name}"
        self.recovery = self.recover()

    # -- reading -------------------------------------------------------------------------------
    def _rows(self) -> list[dict[str, str]]:
        try:
            text = self.path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise _error("store.unreadable", file=self.rel, error=exc) from exc
        try:
            table = parse_csv_from_string(text, self.rel)
        except InputError as exc:
            raise SaveError(str(exc)) from exc
        problems = require_columns(table, SCORE_COLUMNS, SCORE_OPTIONAL)
        if problems:
            raise SaveError(str(InputError(problems)))
        return [{c: v.get(c, "") for c in FILE_COLUMNS} for _row, v in table.rows]

    def _saved(self, rows: list[dict[str, str]]) -> Saved:
        scores: dict[tuple[str, str], int] = {}
        comments: dict[str, str] = {}
        for row in rows:
            key = (row["application_id"], row["criterion"])
            if row["score"] and key not in scores:
                try:
                    scores[key] = int(row["score"])
                except ValueError as exc:
                    raise _error("store.not_an_integer", file=self.rel, score=repr(row["score"]), app=key[0],
                                 criterion=key[1]) from exc
            if row["comment"] and not comments.get(row["application_id"]):
                comments[row["application_id"]] = row["comment"]
        return Saved(scores, comments)

    def read(self) -> Saved:
        """The scores and comments on disk now."""
        return self._saved(self._rows())

    # -- changing ------------------------------------------------------------------------------
    def set_score(self, application_id: str, criterion: str, score: int | None) -> Change | None:
        """Save one grade (None = not scored); return the logged change, or None if nothing changed."""
        if criterion not in self.params.criterion_codes():
            raise _error("store.unknown_criterion", criterion=repr(criterion))
        lo, hi = self.params.scale.minimum, self.params.scale.maximum
        if score is not None and not lo <= score <= hi:
            raise _error("store.out_of_scale", score=score, low=lo, high=hi)
        new_text = "" if score is None else str(score)
        with self._locked():
            rows = self._rows()
            row = self._find_or_add(rows, application_id, criterion)
            old_text = row["score"]
            if old_text == new_text:
                return None
            row["score"], row["source"] = new_text, FORM_SOURCE
            change = Change(_now(), self.reviewer, application_id, criterion,
                            int(old_text) if old_text else None, score)
            return self._commit(rows, change)

    def set_comment(self, application_id: str, comment: str) -> Change | None:
        """Save the application's comment on each of its criterion rows; None if nothing changed."""
        comment = comment.strip()
        with self._locked():
            rows = self._rows()
            mine = [self._find_or_add(rows, application_id, c) for c in self.params.criterion_codes()]
            old = next((r["comment"] for r in mine if r["comment"]), "")
            if all(r["comment"] == comment for r in mine):
                return None
            for r in mine:
                r["comment"] = comment
            change = Change(_now(), self.reviewer, application_id, COMMENT, old, comment)
            return self._commit(rows, change)

    @staticmethod
    def _find_or_add(rows: list[dict[str, str]], application_id: str, criterion: str) -> dict[str, str]:
        for row in rows:
            if row["application_id"] == application_id and row["criterion"] == criterion:
                return row
        row = {"application_id": application_id, "criterion": criterion, "score": "", "comment": "",
               "source": FORM_SOURCE}
        rows.append(row)
        return row

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _error("store.cannot_lock", file=self.rel, error=exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _write_rows(self, rows: list[dict[str, str]]) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(FILE_COLUMNS)
        writer.writerows([row[c] for c in FILE_COLUMNS] for row in rows)
        write_atomic(self.path, buf.getvalue().encode("utf-8"))

    def _commit(self, rows: list[dict[str, str]], change: Change) -> Change:
        """Log the change (fsync), then write the rows atomically; return the change with the file's stamps."""
        before = file_stamp(self.path)  # under the lock: the file the rows were read from
        size, last_seq = self._log_end()
        if size is None:  # a line cut off by a kill: check the file against the log first
            self.recovery = self._recover_locked()
            rows = self._apply_to(self._rows(), change)
            before = file_stamp(self.path)
            size, last_seq = self._log_end()
            assert size is not None
        change = dataclasses.replace(change, seq=last_seq + 1)
        new_log = size == 0 and not self.log.exists()
        try:
            with self.log.open("ab") as handle:
                handle.write((change.to_json() + "\n").encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            if new_log:
                fsync_folder(self.log.parent)
        except OSError as exc:
            self._cut_log(size)
            raise _error("store.cannot_log", log=self.log_rel, file=self.rel, error=exc) from exc
        try:
            self._write_rows(rows)
        except OSError as exc:
            try:
                self._cut_log(size)
            except OSError as undo:
                raise _error("store.log_not_undone", file=self.rel, error=exc, log=self.log_rel,
                             undo_error=undo) from exc
            raise _error("store.cannot_save", file=self.rel, error=exc) from exc
        return dataclasses.replace(change, file_before=before, file_after=file_stamp(self.path))

    def _apply_to(self, rows: list[dict[str, str]], change: Change) -> list[dict[str, str]]:
        """`rows` with `change` made (after a recovery re-read the file under the lock)."""
        if change.criterion == COMMENT:
            for code in self.params.criterion_codes():
                self._find_or_add(rows, change.application_id, code)["comment"] = str(change.new or "")
        else:
            row = self._find_or_add(rows, change.application_id, change.criterion)
            row["score"], row["source"] = "" if change.new is None else str(change.new), FORM_SOURCE
        return rows

    def _cut_log(self, size: int) -> None:
        """Cut the log back to `size` bytes (undoing a line whose change was not saved)."""
        if not self.log.exists():
            return
        with self.log.open("r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())

    def _log_end(self) -> tuple[int | None, int]:
        """(size of the log, last sequence number); size None when its last line was cut off."""
        try:
            with self.log.open("rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - TAIL_BYTES))
                tail = handle.read()
        except FileNotFoundError:
            return 0, 0
        except OSError as exc:
            raise _error("store.bad_log_line", log=self.log_rel, line="?", error=exc) from exc
        if not tail:
            return 0, 0
        if not tail.endswith(b"\n"):
            return None, 0
        lines = tail.rstrip(b"\n").split(b"\n")
        if size <= TAIL_BYTES or len(lines) > 1:
            try:
                entry = json.loads(lines[-1])
            except ValueError as exc:
                raise _error("store.bad_log_line", log=self.log_rel, line="?", error=exc) from exc
            if isinstance(entry, dict) and isinstance(entry.get("seq"), int):
                return size, int(entry["seq"])
        return size, len(self._log_entries())  # a log written before sequence numbers: count its lines

    # -- checking the file against the log ------------------------------------------------------
    def _log_entries(self) -> list[dict[str, object]]:
        return parse_log(self.log, self.log_rel)

    def recover(self) -> Recovery:
        """Check the file against the replayed log, under the lock; repair what is safe, report the rest."""
        if not self.log.exists():
            return Recovery(self.reviewer)
        with self._locked():
            return self._recover_locked()

    def _recover_locked(self) -> Recovery:
        torn = False
        size, _ = self._log_end()
        if size is None:  # the last line was cut off while written: its change never reached the file
            data = self.log.read_bytes()
            self._cut_log(data.rfind(b"\n") + 1)
            torn = True
        last: dict[tuple[str, str], dict[str, object]] = {}
        for entry in self._log_entries():
            if entry.get("reviewer", self.reviewer) == self.reviewer:
                last[(str(entry["application_id"]), str(entry["criterion"]))] = entry
        rows = self._rows()
        saved = self._saved(rows)
        repaired: list[Disagreement] = []
        unresolved: list[Disagreement] = []
        for (app, criterion), entry in last.items():
            on_file: Value = (saved.comments.get(app, "") if criterion == COMMENT
                              else saved.scores.get((app, criterion)))
            new, old = _value(entry.get("new")), _value(entry.get("old"))
            if criterion == COMMENT:
                new, old = new or "", old or ""
            if on_file == new:
                continue
            seq = entry.get("seq")
            found = Disagreement(self.reviewer, app, criterion, on_file, new, seq if isinstance(seq, int) else None,
                                 repaired=on_file == old)
            (repaired if found.repaired else unresolved).append(found)
        if repaired:
            for d in repaired:
                self._apply_to(rows, Change("", self.reviewer, d.application_id, d.criterion, d.file_value,
                                            d.logged_value))
            try:
                self._write_rows(rows)
            except OSError as exc:
                raise _error("store.cannot_save", file=self.rel, error=exc) from exc
        return Recovery(self.reviewer, tuple(repaired), tuple(unresolved), torn)


def _value(raw: object) -> Value:
    return raw if raw is None or isinstance(raw, int | str) else str(raw)


def parse_log(path: Path, rel: str) -> list[dict[str, object]]:
    """The complete lines of a change log, oldest first (a last line cut off by a kill is left out)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _error("store.bad_log_line", log=rel, line="?", error=exc) from exc
    out: list[dict[str, object]] = []
    complete = data[:data.rfind(b"\n") + 1]
    for number, line in enumerate(complete.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise _error("store.bad_log_line", log=rel, line=number, error=exc) from exc
        if not isinstance(entry, dict) or not {"application_id", "criterion"} <= set(entry):
            raise _error("store.bad_log_line", log=rel, line=number, error="application_id, criterion?")
        out.append(entry)
    return out


def read_log(root: Path | str, year: int, reviewer: str) -> list[dict[str, object]]:
    """Every logged change of a reviewer, oldest first (empty when there is no log yet)."""
    return parse_log(log_path(Path(root), year, reviewer), f"data/{year}/scores/{reviewer}.log.jsonl")
