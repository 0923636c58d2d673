"""The manifest of a record: what it was made from, so anyone can check it later.

`{"year", "package_version", "notebook": {"path", "sha256"}, "parameters", "inputs": [{"path",
"sha256"}], "supersedes": null | {"path", "sha256"}, "files": [{"path", "sha256"}]}`; `files` lists
every other file of the record (paths relative to the record folder: `allocation.pdf`, `data/…`).
Paths are relative to the project root in posix form and sorted; there is no time and no absolute
path, so the same inputs give the same bytes on any clone, at any path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fou_review.errors import ManifestError, Msg

if TYPE_CHECKING:
    from fou_review.core.load import YearInputs

MANIFEST_NAME = "manifest.json"


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def package_version() -> str:
    """The installed version of fou-review ("0+unknown" when run from a source tree not installed)."""
    try:
        return version("fou-review")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def relative_posix(path: Path, root: Path) -> str:
    """`path` relative to `root`, in posix form; a path outside the root is an error."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        raise ManifestError(Msg.of("manifest.outside_root", domain="cli", path=str(path), root=str(root))) from None


def input_entries(root: Path, files: Sequence[Path], digests: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """One {path, sha256} per input file, sorted by path; a file whose SHA-256 `digests` names (by its path
    relative to `root`, as the loader records them: `YearInputs.digests`) is not read again."""
    known = digests or {}
    entries = {}
    for file in files:
        rel = relative_posix(file, root)
        entries[rel] = known.get(rel) or sha256_file(file)  # (a file the loader read twice differently: "")
    return [{"path": p, "sha256": entries[p]} for p in sorted(entries)]


def build_manifest(root: Path, year: int, notebook: Path, parameters: Mapping[str, object],
                   supersedes: Mapping[str, str] | None, inputs: YearInputs | None = None) -> dict[str, Any]:
    """The manifest of a year's record: of the files `inputs` were loaded from, with the SHA-256 of the bytes
    the loader parsed (by default `load_year`'s)."""
    root = Path(root)
    if inputs is None:
        from fou_review.core.load import load_year  # only when the caller has not loaded the year already

        inputs = load_year(root, year)
    return {
        "year": year,
        "package_version": package_version(),
        "notebook": {"path": relative_posix(notebook, root), "sha256": sha256_file(notebook)},
        "parameters": {k: parameters[k] for k in sorted(parameters)},
        "inputs": input_entries(root, inputs.files, inputs.digests),
        "supersedes": None if supersedes is None else {"path": str(supersedes["path"]),
                                                       "sha256": str(supersedes["sha256"])},
    }


def output_entries(files: Mapping[str, bytes]) -> list[dict[str, str]]:
    """One {path, sha256} per file of the record except the manifest itself, sorted by path."""
    return [{"path": name, "sha256": hashlib.sha256(files[name]).hexdigest()}
            for name in sorted(files) if name != MANIFEST_NAME]


def manifest_to_json(manifest: Mapping[str, Any]) -> str:
    """Sorted keys, two-space indent, non-ASCII kept, a trailing newline."""
    return json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest as a dict; `ManifestError` when it is not a JSON object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ManifestError(Msg.of("manifest.not_json", domain="cli", path=str(path), line=exc.lineno)) from None
    if not isinstance(data, dict):
        raise ManifestError(Msg.of("manifest.not_object", domain="cli", path=str(path)))
    return data
