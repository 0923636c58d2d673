# mypy: disable-error-code="no-untyped-call"
"""`notebook_bytes` writes what `nbformat.writes` writes, character for character.

The notebook's JSON is written by the package (Python's JSON encoder with an indent is its slow
pure-Python one); here it is compared with nbformat's on random notebooks: texts split into lines
(markdown, code, stream, text/html, image/svg+xml), nested metadata of every JSON type (floats with
NaN and infinities, keys that are numbers, true, false or null, bytes, tuples, empty lists and dicts,
strings with quotes, controls and non-ASCII characters), widget state, and an invalid notebook.
"""

from __future__ import annotations

import copy
import logging
import random
from typing import Any

import nbformat
import pytest

from fou_review.yearly.normalise import notebook_bytes

STRINGS = ["", "x", "två\nrader\n", "tab\tand \"quote\" and \\ backslash", "\u202e\u00a0\u2028\u2029 \x00\x1f\x7f",
           "ends without newline\nsecond", "\r\nwindows\r\n", "<p>html &amp; 'x'</p>\n" * 3, "😀", "\n\n"]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(12 if depth < 4 else 7)
    if kind == 0:
        return rng.choice(STRINGS)
    if kind == 1:
        return rng.choice([None, True, False])
    if kind == 2:
        return rng.choice([0, -1, 10**30, 7])
    if kind == 3:
        return rng.choice([0.1, -0.0, 1e300, float("nan"), float("inf"), -float("inf"), 2.5])
    if kind == 4:
        return rng.choice([b"bytes", b""])
    if kind in (5, 6):
        return rng.choice(STRINGS) + str(rng.random())
    if kind in (7, 8):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 9:
        return tuple(rng.choice(STRINGS) for _ in range(rng.randrange(4)))
    if kind == 10:
        return [rng.choice(STRINGS) for _ in range(rng.randrange(5))]
    keys: list[Any] = [rng.choice(STRINGS) + str(i) for i in range(rng.randrange(5))]
    if rng.random() < 0.2:
        keys = [rng.choice([1, 2.5, True, None, -3])]  # one key that is not a string (none to compare with)
    return {k: random_value(rng, depth + 1) for k in keys}


def random_notebook(rng: random.Random) -> nbformat.NotebookNode:
    v4 = nbformat.v4
    cells = []
    for i in range(rng.randrange(6)):
        kind = rng.randrange(3)
        if kind == 0:
            cell = v4.new_markdown_cell(rng.choice(STRINGS))
            if rng.random() < 0.3:
                cell["attachments"] = {"a.png": {"image/png": "aGVq", "text/plain": rng.choice(STRINGS)}}
        elif kind == 1:
            cell = v4.new_raw_cell(rng.choice(STRINGS))
        else:
            cell = v4.new_code_cell(rng.choice(STRINGS), execution_count=rng.choice([None, i]))
            cell.outputs = [
                v4.new_output("stream", name="stdout", text=rng.choice(STRINGS)),
                v4.new_output("display_data", data={"text/html": rng.choice(STRINGS) * rng.randrange(3),
                                                    "image/svg+xml": rng.choice(STRINGS),
                                                    "application/json": {"k": random_value(rng)},
                                                    "text/plain": [rng.choice(STRINGS), "x\n"]},
                              metadata={"m": random_value(rng)}),
                v4.new_output("execute_result", data={"text/plain": rng.choice(STRINGS)}, execution_count=i),
            ][: rng.randrange(4)]
        cell.metadata = nbformat.from_dict({"tags": ["a", "b"][: rng.randrange(3)], "x": random_value(rng),
                                            "trusted": True})
        cells.append(cell)
    nb: nbformat.NotebookNode = v4.new_notebook(cells=cells)
    nb.metadata = nbformat.from_dict({"title": rng.choice(STRINGS), "extra": random_value(rng),
                                      "widgets": {"application/vnd.jupyter.widget-state+json": {
                                          "state": {"0" * 32: {"state": {"value": random_value(rng)}}},
                                          "version_major": 2, "version_minor": 0}},
                                      "signature": "sha256:x", "orig_nbformat": 4})
    return nb


def nbformat_bytes(nb: nbformat.NotebookNode) -> bytes:
    text: str = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def test_notebook_bytes_are_nbformats(caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(7)
    for i in range(600):
        nb = random_notebook(rng)
        if i % 50 == 0:
            nb.metadata["lone_surrogate"] = "\ud83d"  # not UTF-8: refused by both
        before = copy.deepcopy(nb)
        try:
            expected: bytes | type[Exception] = nbformat_bytes(nb)
        except (TypeError, UnicodeEncodeError) as error:
            expected = type(error)
        if isinstance(expected, bytes):
            assert notebook_bytes(nb) == expected
        else:
            with pytest.raises(expected):
                notebook_bytes(nb)
        assert repr(nb) == repr(before)  # left as it was


def test_an_invalid_notebook_is_written_and_logged_as_nbformat_does(caplog: pytest.LogCaptureFixture) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("x")])
    nb.cells[0]["unexpected"] = [1, 2]
    with caplog.at_level(logging.ERROR):
        expected = nbformat_bytes(nb)
        logged = [r.getMessage() for r in caplog.records]
        caplog.clear()
        assert notebook_bytes(nb) == expected
        assert [r.getMessage() for r in caplog.records] == logged and logged


@pytest.mark.parametrize("text", [
    "\n", "\n\n", "a", "a\n", "a\nb", "a\n\nb\n", '<td class="num">1\u00a0000\u00a0kr</td>\n' * 50, "\"\n\"", "å\nä\nö",
    "tab\there\n", "back\\slash\n", "\\n not a break\n", "cr\rlf\r\n", "u2028\u2028x\n", "nel\x85x\n", "u2029\u2029",
    "form\x0cfeed\n", "\x1c\x1d\x1e\n", "bell\x07\n", "😀\n\"q\"\n", "ends with quote\""])
def test_a_multi_line_output_is_written_as_nbformat_writes_it(text: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text, outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": text, "text/plain": text}),
        nbformat.v4.new_output("stream", name="stdout", text=text)])])
    assert notebook_bytes(nb) == nbformat_bytes(nb)


def test_model_ids_are_renamed_in_long_texts_as_in_short_ones() -> None:
    import re

    from fou_review.yearly.normalise import _LONG, _renamed

    rng = random.Random(9)
    known = [f"{rng.getrandbits(128):032x}" for _ in range(5)]
    ids = {m: f"w{n:04d}" for n, m in enumerate(known, 1)}
    pattern = re.compile(r"[0-9a-f]{32}")

    def by_regex(text: str) -> str:
        return pattern.sub(lambda m: ids.get(m.group(0), m.group(0)), text)

    pieces = ["<td>", "åäö", "\ud800", "0123456789abcdef", "f" * 31, "a" * 33, "ABCDEF" * 6, " ", "IPY_MODEL_"]
    for i in range(300):
        parts = [rng.choice(pieces) for _ in range(rng.randrange(0, 20))]
        if i % 3 == 0:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(known) + rng.choice(["", "0", "g"]))
        text = "".join(parts)
        long = text + "x" * _LONG + text
        for value in (text, long):
            assert _renamed(value, ids) == by_regex(value)
            assert _renamed({value: [value]}, ids) == {by_regex(value): [by_regex(value)]}
