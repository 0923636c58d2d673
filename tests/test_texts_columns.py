"""`format_kr_each` and `format_number_each` write each value as `format_kr` and `format_number` do."""

from __future__ import annotations

import random

import numpy as np
import pytest

from fou_review.texts.catalog import LANGS, format_kr, format_kr_each, format_number, format_number_each


def test_amounts_in_a_column_are_written_one_by_one() -> None:
    rng = random.Random(5)
    amounts = [0, 1, -1, 999, 1000, -1000, 10**12, -(10**15) - 7] + [rng.randrange(-10**8, 10**8) for _ in range(3000)]
    for unit in ("kr", "kronor", "", "k-r,"):
        assert format_kr_each(amounts, unit) == [format_kr(a, unit) for a in amounts]
        assert format_kr_each(iter(amounts[:5]), unit) == [format_kr(a, unit) for a in amounts[:5]]
    assert format_kr_each([]) == []
    with pytest.raises(TypeError):
        format_kr_each([1, True])
    with pytest.raises(TypeError):
        format_kr_each([1, 2.5])  # type: ignore[list-item]


@pytest.mark.parametrize("lang", LANGS)
def test_numbers_in_a_column_are_written_one_by_one(lang: str) -> None:
    rng = random.Random(6)
    numbers = [0.0, -0.0, -0.001, 0.005, 0.015, 2.675, -2.675, 1e16, -1e20, 1234567.891] + [
        rng.uniform(-1e6, 1e6) for _ in range(2000)] + [rng.uniform(-1, 1) for _ in range(2000)]
    for places in (0, 1, 2, 3):
        assert format_number_each(numbers, lang, places) == [format_number(v, lang, places) for v in numbers]
    odd: list[float | None] = [1.5, float("nan"), 2.0, None, float("inf"), -float("inf"), 3, np.float64(2.5)]
    for places in (0, 2):
        assert format_number_each(odd, lang, places) == [format_number(v, lang, places) for v in odd]
    assert format_number_each([], lang) == []
