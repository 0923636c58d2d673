"""Normalising an executed notebook: the same inputs give the same bytes.

Two papermill runs differ in papermill's and the kernel's timing metadata, in the random id of the
injected-parameters cell, in the widget model ids, and in the Python version recorded in
`language_info`. All of that is stripped or fixed here: widget model ids are renumbered in the order
they first appear (`w0001`, ...), in the outputs and in the stored widget state, which is kept, so the
executed notebook shows its widgets (the scoring form, what-if) before anything runs. The outputs
themselves are left alone (they are deterministic, or the record would not be).
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

import nbformat
from nbformat import NotebookNode

INJECTED_TAG = "injected-parameters"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_MODEL_ID = re.compile(r"[0-9a-f]{32}")


def _model_ids(nb: NotebookNode) -> dict[str, str]:
    """Every widget model id of `nb` (in its outputs' views, then its stored state) -> `w<n>`, in order."""
    ids: dict[str, str] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if isinstance(view, dict) and "model_id" in view:
                ids.setdefault(str(view["model_id"]), "")
    ids |= {str(m): "" for m in nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {}) if m not in ids}
    return {model_id: f"w{n:04d}" for n, model_id in enumerate(ids, 1)}


_HEX_AS_X = bytes(ord("x") if chr(i) in "0123456789abcdef" else ord(" ") for i in range(256))
_LONG = 4096  # characters: a string this long is first looked at through `_HEX_AS_X`


def _may_hold_model_id(text: str) -> bool:
    """Could `text` hold a model id, 32 hex digits in a row? (False: it cannot; True: it may.) A long text
    (the HTML a widget shows) is read as bytes, each hex digit as "x", which is much faster than the regex."""
    if len(text) < _LONG:
        return True
    return b"x" * 32 in text.encode("utf-8", "surrogatepass").translate(_HEX_AS_X)


def _renamed(value: Any, ids: dict[str, str]) -> Any:
    """`value` (JSON) with every known model id in its strings and keys renamed."""
    if isinstance(value, str):
        if not _may_hold_model_id(value) or not _MODEL_ID.search(value):
            return value
        return _MODEL_ID.sub(lambda m: ids.get(m.group(0), m.group(0)), value)
    if isinstance(value, dict):
        return {_renamed(key, ids): _renamed(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, ids) for item in value]
    return value


def _renumber_widgets(nb: NotebookNode) -> NotebookNode:
    """`nb` with every widget model id replaced by `w<n>` in order of first appearance.

    Model ids are only in the widgets' views and their stored state: the other outputs are the same in
    every run (the record's are its bytes), so a run's random ids cannot be in them.
    """
    ids = _model_ids(nb)
    if not ids:
        return nb
    out = copy.copy(nb)
    out.cells = [copy.copy(cell) for cell in nb.cells]
    for cell in out.cells:
        if "outputs" in cell:
            cell.outputs = [nbformat.from_dict(_renamed(o, ids))  # type: ignore[no-untyped-call]
                            if WIDGET_VIEW in o.get("data", {}) else o for o in cell.outputs]
    out.metadata = copy.copy(nb.metadata)
    if "widgets" in nb.metadata:
        out.metadata["widgets"] = nbformat.from_dict(_renamed(nb.metadata["widgets"], ids))  # type: ignore[no-untyped-call]
    return out


def normalise_notebook(nb: NotebookNode, title: str) -> NotebookNode:
    """A copy of `nb` without volatile metadata, with fixed cell and widget ids and a fixed title."""
    out = _renumber_widgets(copy.deepcopy(nb))
    meta = out.metadata
    meta.pop("papermill", None)
    if "language_info" in meta:
        meta["language_info"].pop("version", None)
    meta["title"] = title
    for i, cell in enumerate(out.cells):
        for key in ("execution", "papermill", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        if INJECTED_TAG in cell.metadata.get("tags", []):
            cell["id"] = INJECTED_TAG
        elif not cell.get("id"):
            cell["id"] = f"cell-{i}"
    return out


def notebook_bytes(nb: NotebookNode) -> bytes:
    """nbformat's canonical JSON (sorted keys, one-space indent) with a trailing newline: `nbformat.writes(nb)`,
    character for character, in UTF-8.

    As nbformat writes it: the notebook validated (a problem logged), copied, its multi-line texts
    split into lines and its transient metadata removed, then written as `json.dumps` with nbformat's
    settings writes it (`_json_chunks`). The writing is the package's own: `json.dumps` with an indent
    runs Python's pure-Python encoder, a generator per list and dict, which at 10^4 applications spends
    0.4 s on the half a million lines of the record's outputs; here a multi-line text is written as the
    list of its lines in one pass (`_lines_json`). A notebook of another nbformat major version: nbformat.
    """
    from nbformat.reader import get_version
    from nbformat.v4.rwbase import strip_transient
    from traitlets.log import get_logger  # nbformat's logger

    version, _ = get_version(nb)  # type: ignore[no-untyped-call]
    if version != nbformat.v4.nbformat:
        text: str = nbformat.writes(nb)  # type: ignore[no-untyped-call]
        return (text if text.endswith("\n") else text + "\n").encode("utf-8")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        get_logger().error("Notebook JSON is invalid: %s", error)
    out = strip_transient(_split_lines(copy.deepcopy(nb)))  # type: ignore[no-untyped-call]
    chunks: list[_Chunk] = []
    _json_chunks(out, 0, chunks)
    chunks.append("\n")  # (the JSON of a notebook ends with "}")
    data: list[bytes | memoryview] = []
    texts: list[str] = []
    for chunk in chunks:
        if isinstance(chunk, str):
            texts.append(chunk)
        else:
            data += ["".join(texts).encode("utf-8"), chunk]
            texts = []
    return b"".join([*data, "".join(texts).encode("utf-8")])


class _Lines:
    """A text that nbformat writes as the list of its lines (`str.splitlines(True)`). (Not a str of its own:
    that would copy the text, tens of megabytes at 10^4 applications.)"""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_SPLIT_MIMES = ("application/javascript", "image/svg+xml")  # nbformat's `_non_text_split_mimes`, and text/*


def _split_bundle(data: dict[str, Any]) -> None:
    for key, value in list(data.items()):
        if isinstance(value, str) and (key.startswith("text/") or key in _SPLIT_MIMES):
            data[key] = _Lines(value)


def _split_lines(nb: NotebookNode) -> NotebookNode:
    """nbformat's `v4.rwbase.split_lines`, each text it splits marked as `_Lines` (split when written)."""
    for cell in nb.cells:
        source = cell.get("source", None)
        if isinstance(source, str):
            cell["source"] = _Lines(source)
        for attachment in cell.get("attachments", {}).values():
            _split_bundle(attachment)
        if cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type in {"execute_result", "display_data"}:
                    _split_bundle(output.get("data", {}))
                elif output.output_type == "stream" and isinstance(output.text, str):
                    output.text = _Lines(output.text)
    return nb


# What JSON writes other than as itself, but for "\n" and '"': the other controls and the backslash, in UTF-8;
# and the line breaks of `str.splitlines` that are not controls.
_ESCAPED_BYTES = bytes([*range(0x0A), *range(0x0B, 0x20), ord("\\")])
_OTHER_BREAKS = ("\u0085", "\u2028", "\u2029")
_Chunk = str | bytes | memoryview  # a piece of a notebook's JSON: text, or text already in UTF-8


def _lines_json(text: str, level: int) -> list[_Chunk]:
    """`text.splitlines(True)` as `json.dumps` writes that list at nesting `level` (see `_json_chunks`), in pieces.

    A text whose only line breaks are "\n" and whose only characters JSON escapes are "\n" and '"' (the
    record's HTML) is written in one pass over its UTF-8 bytes: each '"' escaped, each "\n" written as
    the end of one string in the list and the beginning of the next; any other text line by line. (The
    other line breaks are looked for in the text: a search for one character, faster than for its bytes.)"""
    if not text:
        return ["[]"]
    newline = "\n" + " " * (level + 1)
    data = text.encode("utf-8")
    if len(data.translate(None, _ESCAPED_BYTES)) != len(data) or any(c in text for c in _OTHER_BREAKS):
        lines = ("," + newline).join(map(_encode_str, text.splitlines(True)))
        return ["[" + newline + lines + "\n" + " " * level + "]"]
    between = ('\\n",' + newline + '"').encode("utf-8")
    body: bytes | memoryview = data.replace(b'"', b'\\"').replace(b"\n", between)
    end = '"\n' + " " * level + "]"
    if text.endswith("\n"):  # the last line's break ends the last string: no string after it
        body, end = memoryview(body)[:-len(between)], "\\n" + end
    return ["[" + newline + '"', body, end]


_encode_str = json.encoder.encode_basestring  # what `json.dumps(..., ensure_ascii=False)` writes a string with


def _json_scalar(value: object) -> str | None:
    """A JSON scalar as `json.dumps` writes it (None for a list, a dict or another object)."""
    if isinstance(value, str):
        return _encode_str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    return None


def _json_key(key: object) -> str:
    """A dict key as `json.dumps` writes it (a number, true, false or null as a string)."""
    if isinstance(key, str):
        return _encode_str(key)
    scalar = _json_scalar(key)
    if scalar is None:
        raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")
    return _encode_str(scalar)


def _json_chunks(value: object, level: int, out: list[_Chunk]) -> None:
    """`value` as `json.dumps(value, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False)`
    with nbformat's encoder (bytes as ASCII text) writes it at nesting `level`, appended to `out`.

    The same choices in the same order as the standard library's `json.encoder._make_iterencode`; a list
    of strings only is written in one join, a `_Lines` text by `_lines_json` (as the list of its lines, in
    UTF-8 when written in one pass)."""
    if type(value) is _Lines:
        out += _lines_json(value.text, level)
        return
    scalar = _json_scalar(value)
    if scalar is not None:
        out.append(scalar)
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        newline = "\n" + " " * (level + 1)
        out.append("[" + newline)
        try:
            out.append(("," + newline).join(map(_encode_str, value)))  # every item a string
        except TypeError:
            for i, item in enumerate(value):
                if i:
                    out.append("," + newline)
                _json_chunks(item, level + 1, out)
        out.append("\n" + " " * level + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        newline = "\n" + " " * (level + 1)
        out.append("{" + newline)
        for i, (key, item) in enumerate(sorted(value.items())):
            out.append(("," + newline if i else "") + _json_key(key) + ": ")
            _json_chunks(item, level + 1, out)
        out.append("\n" + " " * level + "}")
    elif isinstance(value, bytes):  # nbformat's `BytesEncoder`
        _json_chunks(value.decode("ascii"), level, out)
    else:
        raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")
