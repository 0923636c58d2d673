"""Saving one reviewer's scores so that none is ever lost.

The reviewer's file `data/<year>/scores/<reviewer>.csv` is the truth (columns `application_id,
criterion, score, comment, source`, exactly as `load.parse_scores` reads it). Every change:

1. takes an exclusive lock (`fcntl.flock` on `data/<year>/scores/.<reviewer>.lock`), so two kernels
   (two forms of the same reviewer) never overwrite each other's changes;
2. reads the file as it is on disk *now*, changes one cell (read-modify-write);
3. writes the whole file to a temporary file in the same folder, fsyncs it and renames it over the
   old one (`os.replace`), then fsyncs the folder: a crash leaves the old file or the new one;
4. appends one JSON line to the change log `data/<year>/scores/<reviewer>.log.jsonl` (flush + fsync):
   `{"time", "reviewer", "application_id", "criterion", "old", "new"}` with `criterion` set to
   `"comment"` for a comment. The log is not a `.csv`, so `load_year` never reads it as scores.

Rows keep their order and their `source`; a row whose score the form sets gets `source` `form`
(`FORM_SOURCE`), as does a row the form creates. The comment is one per application, stored on
every criterion row of that application (rows are created, with an empty score, when missing).

Any failure raises `SaveError` (Swedish message naming the file); nothing is swallowed.
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

from fou_review.atomic import write_atomic
from fou_review.core.load import SCORE_COLUMNS, SCORE_OPTIONAL, data_dir
from fou_review.core.params import Params
from fou_review.core.tables import parse_csv_from_string, require_columns
from fou_review.errors import FouReviewError, InputError

FILE_COLUMNS = ("application_id", "criterion", "score", "comment", "source")
FORM_SOURCE = "form"  # the `source` of a row whose score was set (or which was created) by the form
COMMENT = "comment"  # the log's `criterion` for a change of the application's comment


class SaveError(FouReviewError):
    """A change could not be saved (or read back); the message is for the analyst, in Swedish."""


@dataclass(frozen=True)
class Saved:
    """What one reviewer's file holds: scored cells and one comment per application."""

    scores: dict[tuple[str, str], int]  # (application_id, criterion) -> grade; absent = not scored
    comments: dict[str, str]  # application_id -> comment (the first non-empty one on its rows)


Stamp = tuple[int, int, int]  # (inode, mtime in ns, size): every save replaces the file, so a new inode


def file_stamp(path: Path) -> Stamp | None:
    """The file's identity on disk now, or None when it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class Change:
    """One logged change, and the file's stamp just before and just after it was written (under the lock)."""

    time: str
    reviewer: str
    application_id: str
    criterion: str  # a criterion code, or COMMENT
    old: int | str | None
    new: int | str | None
    file_before: Stamp | None = None
    file_after: Stamp | None = None

    def to_json(self) -> str:
        return json.dumps({"time": self.time, "reviewer": self.reviewer, "application_id": self.application_id,
                           "criterion": self.criterion, "old": self.old, "new": self.new}, ensure_ascii=False)


def score_path(root: Path, year: int, reviewer: str) -> Path:
    return data_dir(Path(root), year) / "scores" / f"{reviewer}.csv"


def log_path(root: Path, year: int, reviewer: str) -> Path:
    return data_dir(Path(root), year) / "scores" / f"{reviewer}.log.jsonl"


def lock_path(root: Path, year: int, reviewer: str) -> Path:
    return data_dir(Path(root), year) / "scores" / f".{reviewer}.lock"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class ScoreStore:
    """One reviewer's score file: read it, and change one cell at a time, safely."""

    def __init__(self, root: Path | str, params: Params, reviewer: str) -> None:
        if reviewer not in params.reviewers:
            raise SaveError(f"granskaren {reviewer!r} finns inte bland årets granskare "
                            f"({', '.join(params.reviewers)})")
        self.root, self.params, self.reviewer = Path(root), params, reviewer
        self.path = score_path(self.root, params.year, reviewer)
        self.log = log_path(self.root, params.year, reviewer)
        self.lock = lock_path(self.root, params.year, reviewer)
        self.rel = f"data/{params.year}/scores/{reviewer}.csv"

    # -- reading -------------------------------------------------------------------------------
    def _rows(self) -> list[dict[str, str]]:
        try:
            text = self.path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise SaveError(f"{self.rel} kunde inte läsas: {exc}") from exc
        try:
            table = parse_csv_from_string(text, self.rel)
        except InputError as exc:
            raise SaveError(str(exc)) from exc
        problems = require_columns(table, SCORE_COLUMNS, SCORE_OPTIONAL)
        if problems:
            raise SaveError(str(InputError(problems)))
        return [{c: v.get(c, "") for c in FILE_COLUMNS} for _row, v in table.rows]

    def read(self) -> Saved:
        """The scores and comments on disk now."""
        scores: dict[tuple[str, str], int] = {}
        comments: dict[str, str] = {}
        for row in self._rows():
            key = (row["application_id"], row["criterion"])
            if row["score"] and key not in scores:
                try:
                    scores[key] = int(row["score"])
                except ValueError as exc:
                    raise SaveError(f"{self.rel}: betyget {row['score']!r} för {key[0]} / {key[1]} är inget "
                                    "heltal") from exc
            if row["comment"] and not comments.get(row["application_id"]):
                comments[row["application_id"]] = row["comment"]
        return Saved(scores, comments)

    # -- changing ------------------------------------------------------------------------------
    def set_score(self, application_id: str, criterion: str, score: int | None) -> Change | None:
        """Save one grade (None = not scored); return the logged change, or None if nothing changed."""
        if criterion not in self.params.criterion_codes():
            raise SaveError(f"okänt kriterium {criterion!r}")
        lo, hi = self.params.scale.minimum, self.params.scale.maximum
        if score is not None and not lo <= score <= hi:
            raise SaveError(f"betyget {score} ligger utanför skalan {lo}–{hi}")
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
            raise SaveError(f"{self.rel} kunde inte låsas för skrivning: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _commit(self, rows: list[dict[str, str]], change: Change) -> Change:
        """Write the rows atomically and log the change; return it with the file's stamps."""
        before = file_stamp(self.path)  # under the lock: the file the rows were read from
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(FILE_COLUMNS)
        writer.writerows([row[c] for c in FILE_COLUMNS] for row in rows)
        try:
            write_atomic(self.path, buf.getvalue().encode("utf-8"))
        except OSError as exc:
            raise SaveError(f"{self.rel} kunde inte sparas: {exc}") from exc
        change = dataclasses.replace(change, file_before=before, file_after=file_stamp(self.path))
        try:
            with self.log.open("a", encoding="utf-8", newline="\n") as handle:
                handle.write(change.to_json() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise SaveError(f"betyget sparades i {self.rel}, men ändringsloggen "
                            f"data/{self.params.year}/scores/{self.log.name} kunde inte skrivas: {exc}") from exc
        return change


def read_log(root: Path | str, year: int, reviewer: str) -> list[dict[str, object]]:
    """Every logged change of a reviewer, oldest first (empty when there is no log yet)."""
    path = log_path(Path(root), year, reviewer)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
