"""The review notebook's parameters: declared once here, checked strictly.

papermill injects `-p name value` as a new cell after the one tagged `parameters` and only *warns*
about a name the notebook does not declare; a wrong type surfaces, if at all, as a TypeError deep in a
later cell. The notebook's second cell therefore hands its namespace to `check_parameters`, which
fails with a `ParameterError` for any unknown name or wrong type: one message part per problem,
from the ``errors`` catalogue (``err.message("en")`` in English, ``str(err)`` in Swedish).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fou_review.core.params import params_path
from fou_review.core.yamlinput import kind as _kind
from fou_review.errors import Msg, ParameterError
from fou_review.texts.catalog import LANGS, check_lang

if TYPE_CHECKING:
    from fou_review.core.pipeline import Review

LANGUAGES = LANGS


@dataclass(frozen=True)
class Declared:
    """A parameter the review notebook declares: its name and type."""

    name: str
    kind: type

    @property
    def help(self) -> Msg:
        """What the parameter is for (``notebook.help.<name>`` in the errors catalogue)."""
        return Msg.of(f"notebook.help.{self.name}")

    @property
    def help_sv(self) -> str:
        """What the parameter is for, in Swedish."""
        return self.help.text("sv")


DECLARED: tuple[Declared, ...] = (
    Declared("year", int),
    Declared("root", str),
    Declared("lang", str),
    Declared("superseded_record", str),  # set by fou-review run --supersede
    Declared("superseded_sha256", str),
)

# Names IPython itself puts into a kernel's namespace.
_KERNEL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})
# What an import binds (papermill only injects literals, so these are never parameters).
_IMPORTED = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)


@dataclass(frozen=True)
class NotebookParameters:
    """The review notebook's parameters, checked: year, project root, language, and the record it supersedes."""

    year: int
    root: Path  # resolved, absolute
    lang: str
    superseded_record: str
    superseded_sha256: str

    def supersedes(self) -> dict[str, str] | None:
        """The superseded record for the manifest (`path`, `sha256`), or None when nothing is superseded."""
        if not self.superseded_record:
            return None
        return {"path": self.superseded_record, "sha256": self.superseded_sha256}

    def as_manifest(self) -> dict[str, object]:
        """The parameters that shape the record (the root is where it ran, not what it says)."""
        return {"lang": self.lang, "year": self.year}

    def review(self) -> Review:
        """The year loaded, validated and reviewed: what `review_year(root, year)` gives.

        Inside `fou-review run` (the root is then its snapshot), the run's own review of the year, handed over
        when the snapshot's files are provably the bytes it was made from (`yearly.review_handover`); anywhere
        else, and whenever that cannot be shown, `review_year` itself.
        """
        from fou_review.core.pipeline import review_year  # here: checking the parameters needs no pandas
        from fou_review.yearly.review_handover import handed_review

        handed = handed_review(self.root, self.year)
        return handed if handed is not None else review_year(self.root, self.year)


def _user_names(namespace: Mapping[str, object]) -> list[str]:
    return sorted(n for n, v in namespace.items()
                  if not n.startswith("_") and n not in _KERNEL_NAMES and not isinstance(v, _IMPORTED))


def resolve_root(root: str, year: int, cwd: Path | None = None) -> Path:
    """The project root: `root` if given (relative to the kernel's folder), else the nearest folder,
    from the kernel's folder upwards, that holds `params/<year>.yaml`.

    The kernel's folder is where papermill was called (the repository root), `notebooks/` when the
    notebook is opened in JupyterLab, or `reports/<year>/` when nbval re-runs a published notebook.
    """
    here = Path.cwd() if cwd is None else cwd
    if root:
        found = (here / root).resolve()
        if not params_path(found, year).is_file():
            raise ParameterError(Msg.of("notebook.root_without_params", root=repr(root), year=year))
        return found
    for candidate in (here, *here.parents):
        if params_path(candidate, year).is_file():
            return candidate.resolve()
    raise ParameterError(Msg.of("notebook.no_params_found", year=year, here=str(here)))


def check_parameters(namespace: Mapping[str, object], cwd: Path | None = None) -> NotebookParameters:
    """Validate the notebook's parameters as found in its namespace (pass `globals()`).

    Every user-defined name must be a declared parameter of the declared type; `year` must be
    an integer (not a boolean), `lang` one of sv and en (`catalog.check_lang`). Every problem found
    is one part of the one `ParameterError`.
    """
    declared = {d.name: d for d in DECLARED}
    problems: list[Msg | str] = []
    for name in _user_names(namespace):
        if name not in declared:
            problems.append(Msg.of("notebook.unknown_parameter", name=repr(name), names=", ".join(declared)))
    for d in DECLARED:
        if d.name not in namespace:
            problems.append(Msg.of("notebook.missing_parameter", name=d.name, help=d.help))
            continue
        value = namespace[d.name]
        if isinstance(value, bool) or not isinstance(value, d.kind):
            problems.append(Msg.of("notebook.wrong_type", name=d.name, expected=_kind(d.kind()), help=d.help,
                                   kind=_kind(value), value=repr(value)))
    lang = namespace.get("lang")
    if isinstance(lang, str):
        try:
            check_lang(lang)
        except ParameterError as exc:
            problems += [Msg.of("notebook.bad_lang", problem=part) if isinstance(part, Msg)
                         else f"parametern lang: {part}" for part in exc.args]
    if problems:
        raise ParameterError(*problems)
    year = namespace["year"]
    assert isinstance(year, int)
    sup, sha = str(namespace["superseded_record"]), str(namespace["superseded_sha256"])
    if bool(sup) != bool(sha):
        raise ParameterError(Msg.of("notebook.supersede_together"))
    return NotebookParameters(year=year, root=resolve_root(str(namespace["root"]), year, cwd), lang=str(lang),
                              superseded_record=sup, superseded_sha256=sha)
