"""Indented JSON text, as `json.dumps(value, ensure_ascii=False, indent=indent)` writes it, in less time.

With an indent, the standard library writes JSON with its pure-Python encoder (a generator per list and
dict, a test per value); `indented` makes the same choices in the same order, in one function that
appends to a list: a string with the same C function (`json.encoder.encode_basestring`), an `int` with
`int.__repr__`, any other value that is not a list, a tuple or a dict with a `json.JSONEncoder` of the
same options (its C encoder: floats, None, True, False, and the TypeError of what JSON cannot hold).
A test compares it with `json.dumps` on generated values.

One difference, on values that never reach it: a list or dict that holds itself raises RecursionError,
where `json.dumps` raises ValueError ("Circular reference detected").
"""

from __future__ import annotations

import json

_encode_str = json.encoder.encode_basestring  # what `json.dumps(..., ensure_ascii=False)` writes a string with
_encode_other = json.JSONEncoder(ensure_ascii=False).encode  # the same options as `json.dumps` but the indent
_CONTAINERS = (list, tuple, dict)


def indented(value: object, indent: int = 2) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=indent)`, the same text."""
    out: list[str] = []
    _chunks(value, 0, out, ["\n"], " " * indent)
    return "".join(out)


def _scalar(value: object) -> str:
    """A value that is not a list, tuple or dict as `json.dumps` writes it (TypeError for what JSON cannot hold)."""
    if isinstance(value, str):
        return _encode_str(value)
    if type(value) is int:
        return int.__repr__(value)
    return _encode_other(value)


def _key(key: object) -> str:
    """A dict key as `json.dumps` writes it: a string, or a number, true, false or null as a string."""
    if isinstance(key, str):
        return _encode_str(key)
    if key is None or isinstance(key, (int, float)):
        return _encode_str(_encode_other(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _chunks(value: object, level: int, out: list[str], newlines: list[str], step: str) -> None:
    """`value` at nesting `level`, appended to `out`; `newlines[n]`: a newline and the indent of level n."""
    if isinstance(value, (list, tuple)):
        _container(value, "[]", level, out, newlines, step)
    elif isinstance(value, dict):
        _container(value, "{}", level, out, newlines, step)
    else:
        out.append(_scalar(value))


def _container(value: list[object] | tuple[object, ...] | dict[object, object], brackets: str, level: int,
               out: list[str], newlines: list[str], step: str) -> None:
    """A list or tuple (`brackets` "[]") or a dict ("{}") at nesting `level`, as `_chunks`."""
    if not value:
        out.append(brackets)
        return
    if len(newlines) < level + 2:
        newlines.append(newlines[-1] + step)
    inner = newlines[level + 1]
    keyed = isinstance(value, dict)
    head = brackets[0] + inner
    for key, item in value.items() if isinstance(value, dict) else ((None, item) for item in value):
        if keyed:
            head += (_encode_str(key) if type(key) is str else _key(key)) + ": "
        if isinstance(item, str):
            out.append(head + _encode_str(item))
        elif isinstance(item, _CONTAINERS):
            out.append(head)
            _chunks(item, level + 1, out, newlines, step)
        else:
            out.append(head + _scalar(item))
        head = "," + inner
    out.append(newlines[level] + brackets[1])


__all__ = ["indented"]
