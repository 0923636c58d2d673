"""The review notebook's parameters: declared once here, checked strictly.

papermill injects `-p name value` as a new cell after the one tagged `parameters` and only *warns*
about a name the notebook does not declare; a wrong type surfaces, if at all, as a TypeError deep in a
later cell. The notebook's second cell therefore hands its namespace to `check_parameters`, which
fails with a `ParameterError` in Swedish for any unknown name or wrong type.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fou_review.core.params import params_path
from fou_review.errors import ParameterError

LANGUAGES = ("sv", "en")


@dataclass(frozen=True)
class Declared:
    name: str
    kind: type
    help_sv: str


DECLARED: tuple[Declared, ...] = (
    Declared("year", int, "utlysningens år, t.ex. 2022"),
    Declared("root", str, "projektets rotmapp med params/ och data/ (tom: närmaste mapp uppåt som har dem)"),
    Declared("lang", str, "språk för protokollet: sv eller en"),
    Declared("superseded_record", str, "det ersatta protokollets allocation.html, relativt roten (sätts av "
             "fou-review run --supersede)"),
    Declared("superseded_sha256", str, "SHA-256 för det ersatta protokollets allocation.html"),
)

# Names IPython itself puts into a kernel's namespace.
_KERNEL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})
# What an import binds (papermill only injects literals, so these are never parameters).
_IMPORTED = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)
_KIND_SV = {int: "ett heltal", str: "text", float: "ett decimaltal", bool: "sant/falskt", list: "en lista",
            dict: "en tabell", type(None): "ingenting"}


@dataclass(frozen=True)
class NotebookParameters:
    year: int
    root: Path  # resolved, absolute
    lang: str
    superseded_record: str
    superseded_sha256: str

    def supersedes(self) -> dict[str, str] | None:
        if not self.superseded_record:
            return None
        return {"path": self.superseded_record, "sha256": self.superseded_sha256}

    def as_manifest(self) -> dict[str, object]:
        """The parameters that shape the record (the root is where it ran, not what it says)."""
        return {"lang": self.lang, "year": self.year}


def _kind(value: object) -> str:
    return _KIND_SV.get(type(value), type(value).__name__)


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
            raise ParameterError(f"parametern root: {root!r} innehåller inte params/{year}.yaml")
        return found
    for candidate in (here, *here.parents):
        if params_path(candidate, year).is_file():
            return candidate.resolve()
    raise ParameterError(f"hittar inte params/{year}.yaml i {here} eller någon mapp ovanför; "
                         "ange parametern root (t.ex. -p root /sökväg/till/projektet)")


def check_parameters(namespace: Mapping[str, object], cwd: Path | None = None) -> NotebookParameters:
    """Validate the notebook's parameters as found in its namespace (pass `globals()`).

    Every user-defined name must be a declared parameter of the declared type; `year` must be
    an integer (not a boolean), `lang` one of sv and en.
    """
    declared = {d.name: d for d in DECLARED}
    problems: list[str] = []
    for name in _user_names(namespace):
        if name not in declared:
            problems.append(f"okänd parameter {name!r}; notebooken har parametrarna {', '.join(declared)}")
    for d in DECLARED:
        if d.name not in namespace:
            problems.append(f"parametern {d.name} saknas ({d.help_sv})")
            continue
        value = namespace[d.name]
        if isinstance(value, bool) or not isinstance(value, d.kind):
            problems.append(f"parametern {d.name} ska vara {_KIND_SV[d.kind]} ({d.help_sv}), "
                            f"fick {_kind(value)} {value!r}")
    lang = namespace.get("lang")
    if isinstance(lang, str) and lang not in LANGUAGES:
        problems.append(f"parametern lang ska vara en av {', '.join(LANGUAGES)}, fick {lang!r}")
    if problems:
        raise ParameterError("; ".join(problems))
    year = namespace["year"]
    assert isinstance(year, int)
    sup, sha = str(namespace["superseded_record"]), str(namespace["superseded_sha256"])
    if bool(sup) != bool(sha):
        raise ParameterError("parametrarna superseded_record och superseded_sha256 ska anges tillsammans")
    return NotebookParameters(year=year, root=resolve_root(str(namespace["root"]), year, cwd), lang=str(lang),
                              superseded_record=sup, superseded_sha256=sha)
