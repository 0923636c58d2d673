"""The package's exceptions: one root, small documented subclasses, texts in Swedish and English.

An input error names the file, the row (or the YAML line and key) and the column, says what was
expected and how to fix it. An ineligible application is *not* an exception: it is a result with
reasons (see eligibility).

Language-independent errors
---------------------------
A text a user meets is kept as a `Msg`: a message id in a catalogue domain (by default ``errors``,
see `fou_review.texts.catalog`) and the values of its ``{fields}``. `Msg.text(lang)` renders it in
``"sv"`` or ``"en"``; a value that is itself a `Msg` is rendered in the same language.

* `Problem` is one thing wrong at one place. Build it with `Problem.of(file, msgid, row=..,
  column=.., key=.., **values)`; `problem.text(lang)` renders place and message, `str(problem)` is
  the Swedish text, `problem.message` the Swedish message without the place. A `Problem` built
  from a plain Swedish string (``Problem(file, "text")``) still works; it renders the same text in
  both languages.
* Every `FouReviewError` takes its message parts positionally: each a `Msg` or a plain (Swedish)
  string, joined with ``"; "``. `err.message(lang)` renders it in ``"sv"`` or ``"en"``; `str(err)`
  is the Swedish text. Raise e.g. ``ManifestError(Msg("manifest.not_json", path=p, line=3))``.
* `InputError(problems)` renders its first problem and how many more there are; `.problems` has
  all of them (``fou-review validate`` lists each with `Problem.text`).
* Errors survive `pickle` (papermill and multiprocessing pickle them): the constructor's positional
  arguments are kept in ``args`` and keyword attributes in ``__dict__``, so
  ``pickle.loads(pickle.dumps(err)) == err``. Two errors are equal when type, arguments and
  attributes are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

Value: TypeAlias = "str | int | float | None | Msg"


def _render(value: Value, lang: str) -> object:
    return value.text(lang) if isinstance(value, Msg) else value


@dataclass(frozen=True)
class Msg:
    """A message id in a catalogue domain and the values of its fields: a text in no language yet."""

    id: str
    values: tuple[tuple[str, Value], ...] = ()
    domain: str = "errors"

    @classmethod
    def of(cls, msgid: str, /, *, domain: str = "errors", **values: Value) -> Msg:
        """`Msg.of("yaml.unknown_key", allowed="a, b")`."""
        return cls.with_values(msgid, values, domain)

    @classmethod
    def with_values(cls, msgid: str, values: Mapping[str, Value], domain: str = "errors") -> Msg:
        """`Msg.of` for values already in a mapping."""
        return cls(msgid, tuple(sorted(values.items())), domain)

    def text(self, lang: str = "sv") -> str:
        """The message in `lang` ("sv" or "en"; anything else is a ParameterError)."""
        from fou_review.texts.catalog import t  # the text layer imports this module; import late

        return t(lang, self.domain, self.id, **{k: _render(v, lang) for k, v in self.values})

    def __str__(self) -> str:
        return self.text("sv")


def _check_lang(lang: str) -> None:
    from fou_review.texts.catalog import check_lang

    check_lang(lang)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place in the inputs.

    `row` is the row number a spreadsheet program shows (header is row 1) or, with `key`, the line
    of a YAML file; `key` is the key path in a YAML file (``funds.LUM.budget_kr``, ``criteria[0]``).
    `msg` is the language-independent message; `message` its Swedish text (filled from `msg`).
    """

    file: str
    message: str = ""
    row: int | None = None
    column: str | None = None
    key: str | None = None
    msg: Msg | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.msg is not None and not self.message:
            object.__setattr__(self, "message", self.msg.text("sv"))
        if not self.message:
            raise ValueError("a Problem needs a message or a msg")

    @classmethod
    def of(cls, file: str, msgid: str, /, *, row: int | None = None, column: str | None = None,
           key: str | None = None, **values: Value) -> Problem:
        """A problem whose message is `msgid` in the ``errors`` catalogue, with `values`."""
        return cls(file, row=row, column=column, key=key, msg=Msg.with_values(msgid, values))

    def where(self, lang: str = "sv") -> str:
        """The place: ``params/2022.yaml, rad 14, nyckel funds.LUM.budget_kr`` or ``data/…, rad 3, kolumn 'id'``."""
        parts = [self.file]
        if self.row is not None:
            parts.append(Msg.of("where.line" if self.key is not None else "where.row", row=self.row).text(lang))
        if self.key is not None:
            parts.append(Msg.of("where.key", key=self.key).text(lang))
        if self.column is not None:
            parts.append(Msg.of("where.column", column=repr(self.column)).text(lang))
        return ", ".join(parts)

    def text(self, lang: str = "sv") -> str:
        """Place and message in `lang`."""
        if self.msg is not None:
            return f"{self.where(lang)}: {self.msg.text(lang)}"
        _check_lang(lang)
        return f"{self.where(lang)}: {self.message}"

    def __str__(self) -> str:
        return self.text("sv")


class FouReviewError(Exception):
    """Root of every error this package raises on purpose.

    Positional arguments are the message's parts, each a `Msg` or a plain Swedish string.
    """

    def __init__(self, *parts: Msg | str) -> None:
        super().__init__(*parts)

    def message(self, lang: str = "sv") -> str:
        """The message in `lang` ("sv" or "en"); a plain-string part reads the same in both."""
        _check_lang(lang)
        return "; ".join(p.text(lang) if isinstance(p, Msg) else str(p) for p in self.args)

    def __str__(self) -> str:
        return self.message("sv")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, FouReviewError)
        return self.args == other.args and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), str(self)))


class InputError(FouReviewError):
    """The year's inputs have one or more problems; each names file, row and column."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("InputError needs at least one problem")
        Exception.__init__(self, list(problems))  # args: what the constructor takes, for pickle
        self.problems = list(problems)

    def message(self, lang: str = "sv") -> str:
        """The first problem, and how many more there are."""
        first = self.problems[0].text(lang)
        if len(self.problems) == 1:
            return first
        return first + Msg.of("input.more", count=len(self.problems) - 1).text(lang)


class TieError(FouReviewError):
    """Two applications stay tied after every declared tie-break key: no silent choice."""


class ParameterError(FouReviewError):
    """A notebook or run parameter is unknown or has the wrong type (one part per problem)."""


class RunError(FouReviewError):
    """A yearly run failed; the previous report is left untouched."""

    def __init__(self, *parts: Msg | str, cell_index: int | None = None, ename: str | None = None,
                 evalue: str | None = None) -> None:
        super().__init__(*parts)
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue


class FrozenRecordError(RunError):
    """The year's record was made from other inputs; `--supersede` keeps it and makes a new one."""


class PublishError(RunError):
    """The record could not be published; the folder is as it was before the run.

    `reason` is one of "permission", "not_a_folder", "published_meanwhile", "disk_full", "other";
    `target` the record folder relative to the project root; `detail` the system's own words.
    Build it with `PublishError.of(target, reason, detail)` (raised by `fou_review.yearly.publish`).
    """

    def __init__(self, *parts: Msg | str, target: str = "", reason: str = "other", detail: str = "") -> None:
        super().__init__(*parts)
        self.target = target
        self.reason = reason
        self.detail = detail

    @classmethod
    def of(cls, target: str, reason: str, detail: str = "") -> PublishError:
        """The error for `target` failing for `reason`, its text in the `cli` catalogue."""
        why = Msg.of(f"publish.{reason}", domain="cli", path=target, detail=detail)
        return cls(Msg.of("publish.failed", domain="cli", path=target, why=why),
                   target=target, reason=reason, detail=detail)


class RecordError(FouReviewError):
    """The record would not be static: it names what would load or run."""


class VerifyError(FouReviewError):
    """A re-made record differs from the committed one."""


class ManifestError(FouReviewError):
    """A record's manifest cannot be read or written: not JSON, not an object, a path outside the root."""


class SaveError(FouReviewError):
    """A change to a reviewer's scores could not be saved (or read back); the message names the file."""

