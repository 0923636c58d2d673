"""`json_text.indented` writes what `json.dumps(value, ensure_ascii=False, indent=...)` writes, character for
character: on generated values of every JSON type (strings with quotes, backslashes, control and non-ASCII
characters, lone surrogates; big and negative integers, bools, floats with NaN, infinities and -0.0, None;
lists, tuples and dicts nested, empty or not; keys that are numbers, true, false or null), on subclasses
of str, int, float, list and dict, and on the open data's own files."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fou_review.core.pipeline import review_year
from fou_review.record.json_text import indented
from fou_review.record.open_data import grants

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TEXT = st.one_of(st.text(), st.sampled_from(["", "\"quoted\" \\ back", "\x00\x1f\x7f\t\r\n", "\u2028\u2029\u00a0",
                                             "åäö 😀", "\ud800 lone", "[{]},: "]))
SCALARS = st.one_of(TEXT, st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**40), max_value=10**40),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0.0, -0.0, 1e16, 1e-7, 0.1, 1.5e300, float("nan"), float("-inf")]))
KEYS = st.one_of(TEXT, st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.lists(inner, max_size=3).map(tuple), st.dictionaries(TEXT, inner, max_size=5),
    st.dictionaries(KEYS, inner, max_size=4)), max_leaves=40)


def dumps(value: Any, indent: int = 2) -> str:
    """The text the open data wrote before `indented`."""
    return json.dumps(value, ensure_ascii=False, indent=indent)


@SETTINGS
@given(VALUES, st.sampled_from([2, 0, 1, 4]))
def test_indented_is_json_dumps(value: Any, indent: int) -> None:
    assert indented(value, indent) == dumps(value, indent)


class Text(str):
    def __str__(self) -> str:
        return "other"


class Whole(int):
    def __repr__(self) -> str:
        return "other"


class Real(float):
    def __repr__(self) -> str:
        return "other"


class Kind(enum.IntEnum):
    A = 3


class Items(list[Any]):
    pass


class Mapping(dict[Any, Any]):
    pass


@pytest.mark.parametrize("value", [
    "", 0, None, True, 1.5, [], {}, (), [[]], {"a": {}}, [{}, [], ()], {"": ""},
    {1: "a", 2.5: "b", False: "c", None: "d", -7.0: "e", float("nan"): "f", float("inf"): [1]},
    {True: {-0.0: "z", 10**30: None}, "x": [{2: 1}]},
    [Text("x"), Whole(5), Real(2.5), Kind.A, Items([1, Items()]), Mapping(a=Mapping())],
    {Text("k"): [Whole(1)], Whole(2): {Kind.A: Real(1.0)}, Real(3.5): Items([Text("y")])},
    OrderedDict([("b", 1), ("a", [OrderedDict()])]),
    [[[[[[[[[[["deep"]]]]]]]]]]],
    {"a": [1, 2, {"b": None, "c": [True, False, {"d": "e"}]}], "f": ("g", {"h": []}), "i": 0.0},
])
def test_indented_on_chosen_values(value: Any) -> None:
    for indent in (2, 0, 3):
        assert indented(value, indent) == dumps(value, indent)


@pytest.mark.parametrize("value", [{1j: 1}, [object()], {"a": {1, 2}}, b"bytes", {(1, 2): 3}])
def test_what_json_cannot_hold_is_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        dumps(value)
    with pytest.raises(TypeError):
        indented(value)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_grants_file(lang: str) -> None:
    data = {"grants": grants(review_year(ROOT, 2022), lang)}
    assert indented(data) == dumps(data)
