"""YAML inputs validated by pydantic models, every problem naming file, line and key path.

`parse_yaml(text, file)` parses YAML text (pure: it reads no file) into a `YamlDoc`: the data and,
for every key and list item, the line it is on. `validate(doc, Model)` validates the data with a
pydantic model (strict types, unknown keys forbidden) and turns every pydantic error into a
`Problem` in the ``errors`` catalogue: ``params/2022.yaml, rad 14, nyckel funds.LUM.budget_kr:
förväntade ett heltal, fick text 'fyra miljoner'``. `doc.problem(loc, msgid, **values)` makes the
same kind of problem for a check done after validation (a cross-reference between keys).

A validator inside a model reports a problem of its own with `fail(msgid, **values)`: a pydantic
error that carries the message id and values, so it reaches the user in either language.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from fou_review.errors import InputError, Msg, Problem, Value

M = TypeVar("M", bound=BaseModel)
Loc = Sequence[str | int]
_CUSTOM = "fou_review"


def fail(msgid: str, /, **values: Value) -> PydanticCustomError:
    """A pydantic error carrying an ``errors`` message id (raise it from a validator)."""
    return PydanticCustomError(_CUSTOM, msgid, {"msgid": msgid, "values": values})


def kind(value: object) -> Msg:
    """What a value is, in words: "en tabell", "text", "ett heltal" (for "expected X, got Y")."""
    name = {dict: "mapping", list: "list", str: "text", int: "int", float: "float", bool: "bool",
            type(None): "none"}.get(type(value))
    if name is None:
        import datetime as dt

        if isinstance(value, dt.date):
            name = "date"
    return Msg.of(f"kind.{name}") if name else Msg.of("kind.other", name=type(value).__name__)


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file: its data and the line (1-based) of every key and list item."""

    file: str
    data: Any
    lines: Mapping[tuple[str, ...], int]

    def key_path(self, loc: Loc) -> str:
        """``("funds", "LUM", "window")`` -> ``funds.LUM.window``; list items as ``criteria[0]``."""
        out = ""
        node: Any = self.data
        for part in loc:
            if isinstance(node, list) and isinstance(part, int):
                out += f"[{part}]"
                node = node[part] if 0 <= part < len(node) else None
                continue
            out += f".{part}" if out else str(part)
            node = _child(node, part)
        return out

    def line(self, loc: Loc) -> int | None:
        """The line of the deepest key of `loc` that is in the file (a missing key: its parent's)."""
        path = tuple(str(p) for p in loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def problem(self, loc: Loc, msgid: str, /, **values: Value) -> Problem:
        """A problem at the key `loc` (empty: the whole file)."""
        return Problem(self.file, row=self.line(loc), key=self.key_path(loc) or None,
                       msg=Msg.with_values(msgid, values))


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        for candidate in (part, str(part)):
            if candidate in node:
                return node[candidate]
        for k, v in node.items():
            if str(k) == str(part):
                return v
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _lines(node: yaml.Node | None, path: tuple[str, ...], out: dict[tuple[str, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            out.setdefault(child, key.start_mark.line + 1)
            _lines(value, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, str(i))
            out.setdefault(child, item.start_mark.line + 1)
            _lines(item, child, out)


def parse_yaml(text: str, file: str) -> YamlDoc:
    """Parse YAML text (safe loader) keeping the lines; broken YAML is an InputError with its line.

    libyaml's loader when PyYAML has it (ten times faster, the same nodes, lines and data); broken YAML
    is read again by the pure-Python loader, so the message is the same with or without libyaml."""
    try:
        return _parse(text, file, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except InputError:
        return _parse(text, file, yaml.SafeLoader)


def _parse(text: str, file: str, loader_class: Any) -> YamlDoc:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError([Problem.of(file, "yaml.invalid", row=mark.line + 1 if mark is not None else None,
                                     detail=str(getattr(exc, "problem", None) or exc))]) from None
    finally:
        loader.dispose()
    lines: dict[tuple[str, ...], int] = {(): 1}
    _lines(node, (), lines)
    return YamlDoc(file, data, lines)


def _fields_at(model: type[BaseModel], loc: Loc) -> tuple[str, ...]:
    """The keys allowed in the mapping at `loc` (for "unknown key; allowed are ...")."""
    current: Any = model
    parts = list(loc)
    while parts:
        if isinstance(current, type) and issubclass(current, BaseModel):
            name = parts.pop(0)
            found = [f for key, f in current.model_fields.items() if (f.alias or key) == name]
            if not found:
                return ()
            current = found[0].annotation
            continue
        origin, args = typing.get_origin(current), typing.get_args(current)
        if origin in (typing.Union, types.UnionType):
            current = next(a for a in args if a is not type(None))
        elif origin in (list, tuple, dict) or (origin is not None and args):
            parts.pop(0)
            current = args[-1]
        else:
            return ()
    while typing.get_origin(current) in (typing.Union, types.UnionType):
        current = next(a for a in typing.get_args(current) if a is not type(None))
    if isinstance(current, type) and issubclass(current, BaseModel):
        return tuple(f.alias or key for key, f in current.model_fields.items())
    return ()


_TYPE_MESSAGES = {
    "int_type": "expected.int", "int_parsing": "expected.int", "int_from_float": "expected.int",
    "string_type": "expected.text", "bool_type": "expected.bool", "bool_parsing": "expected.bool",
    "float_type": "expected.number", "float_parsing": "expected.number",
    "date_type": "expected.date", "date_parsing": "expected.date", "date_from_datetime_inexact":
    "expected.date", "dict_type": "expected.mapping", "model_type": "expected.mapping",
    "model_attributes_type": "expected.mapping", "list_type": "expected.list",
}


def _message(error: Mapping[str, Any], model: type[BaseModel], loc: Loc) -> tuple[str, dict[str, Value]]:
    kind_of, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    if kind_of == _CUSTOM:
        return str(ctx["msgid"]), dict(ctx["values"])
    if kind_of == "extra_forbidden":
        return "yaml.unknown_key", {"allowed": ", ".join(_fields_at(model, loc[:-1]))}
    if kind_of == "missing":
        return "yaml.missing", {}
    if kind_of == "literal_error":
        return "expected.one_of", {"choices": ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected")))),
                                        "value": repr(value)}
    if kind_of == "greater_than":
        return "expected.positive", {"value": repr(value)}
    if kind_of == "greater_than_equal":
        return "expected.positive_or_zero", {"value": repr(value)}
    if kind_of in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind_of], {"kind": kind(value), "value": repr(value)}
    return "yaml.invalid_value", {"value": repr(value), "detail": str(error.get("msg", ""))}


def validation_problems(doc: YamlDoc, exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Every pydantic error as a Problem naming the line and the key path, in document order."""
    out: list[Problem] = []
    for error in exc.errors():
        loc = [p for p in error["loc"] if p != "[key]"]
        msgid, values = _message(error, model, loc)
        out.append(doc.problem(loc, msgid, **values))
    out.sort(key=lambda p: (p.row or 0))
    return out


def validate(doc: YamlDoc, model: type[M]) -> M:
    """The document validated by `model`; an InputError listing every problem otherwise."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(validation_problems(doc, exc, model)) from None
