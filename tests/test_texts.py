"""The one text layer: every message exists in Swedish and English, the compiled catalogues are
current, every message id the code asks for exists, and Babel writes numbers and dates."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from fou_review.errors import ParameterError
from fou_review.texts.catalog import (
    _LOCALES,
    DOMAINS,
    LANGS,
    _grouped,
    _Style,
    check_lang,
    format_int,
    format_kr,
    format_long_date,
    format_number,
    t,
)

LOCALE = Path(__file__).resolve().parent.parent / "fou_review" / "texts" / "locale"
PACKAGE = LOCALE.parent.parent


def _ids(lang: str, domain: str) -> dict[str, str]:
    with (LOCALE / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        catalogue = read_po(handle)
    return {str(m.id): str(m.string) for m in catalogue if m.id}


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_exists_in_both_languages(domain: str) -> None:
    sv, en = _ids("sv", domain), _ids("en", domain)
    assert sorted(sv) == sorted(en), f"{domain}: only sv {set(sv) - set(en)}, only en {set(en) - set(sv)}"
    empty = [(lang, k) for lang, ids in (("sv", sv), ("en", en)) for k, v in ids.items() if not v.strip()]
    assert not empty
    for key in sv:  # the same placeholders in both languages
        fields = [set(re.findall(r"\{(\w+)", text)) for text in (sv[key], en[key])]
        assert fields[0] == fields[1], f"{domain} {key}: {fields}"


def test_compiled_catalogues_are_current() -> None:
    done = subprocess.run([sys.executable, str(PACKAGE.parent / "scripts" / "catalogs.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


_CALL = re.compile(r"""\bt\(\s*[\w.\[\]"']+\s*,\s*["'](\w+)["']\s*,\s*["']([\w.\-]+)["']""")


def test_every_message_the_code_asks_for_exists() -> None:
    asked = []
    for path in PACKAGE.rglob("*"):
        if path.suffix in {".py", ".j2", ".html"}:
            asked += [(path.name, d, m) for d, m in _CALL.findall(path.read_text(encoding="utf-8"))]
    missing = [(f, d, m) for f, d, m in asked if d in DOMAINS and m not in _ids("sv", d)]
    assert not missing
    assert asked  # the pattern does find the calls


def test_babel_formats_amounts_numbers_and_dates() -> None:
    assert format_kr(4998030) == "4\u00a0998\u00a0030\u00a0kr"
    assert format_kr(-5, "kronor") == "\u22125\u00a0kronor"
    assert format_int(1234567, "en") == "1,234,567"
    assert format_number(31.75, "sv") == "31,75"
    assert format_number(31.75, "en") == "31.75"
    assert format_number(float("nan"), "sv") == "–"
    assert format_long_date(dt.date(2022, 6, 6), "sv") == "6\u00a0juni 2022"
    assert format_long_date(dt.date(2022, 6, 6), "en") == "6\u00a0June 2022"
    with pytest.raises(TypeError):
        format_kr(1.5)  # type: ignore[arg-type]


def _babel_int(value: int, lang: str) -> str:
    """format_int as Babel writes it (the module writes whole numbers itself, see its docstring)."""
    text = format_decimal(abs(value), locale=_LOCALES[lang], group_separator=True)
    return f"\u2212{text}" if value < 0 else text


def _babel_number(value: float, lang: str, places: int) -> str:
    """format_number as Babel writes it."""
    return format_decimal(Decimal(f"{float(value):.{places}f}"), format="0." + "0" * places if places else "0",
                          locale=_LOCALES[lang], decimal_quantization=True)


def test_numbers_are_written_exactly_as_babel_writes_them() -> None:
    rng = np.random.default_rng(12)
    edges = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 9999, 10_000, 99_999, 100_000, 999_999, 1_000_000]
    ints = edges + [10**k + d for k in range(1, 25) for d in (-1, 0, 1)]
    ints += [int(v) for v in rng.integers(0, 10**12, 300)] + [int(v) for v in rng.integers(0, 2000, 300)]
    ints += [-v for v in ints]
    floats = [0.0, -0.0, 0.5, 1.5, 2.5, -0.5, 0.004, 0.005, 0.0051, -0.004, -0.005, -0.0049, 0.125, 31.75,
              -31.745, 1e-9, -1e-9, 999.995, 999.9949, 1e6, 1e15 + 0.25, 1e22, -1e22, 123456789.987654]
    floats += [float(v) for v in rng.normal(0, 3, 300)] + [float(v) for v in rng.uniform(-1e7, 1e7, 300)]
    floats += [float(v) for v in rng.integers(-10_000, 10_000, 100)]
    for lang in LANGS:
        assert [format_int(v, lang) for v in ints] == [_babel_int(v, lang) for v in ints]
        assert [format_int(np.int64(v), lang) for v in ints[:60]] == [  # type: ignore[arg-type]
            _babel_int(v, lang) for v in ints[:60]]
        for places in (0, 1, 2, 3):
            assert [format_number(v, lang, places) for v in floats] == [_babel_number(v, lang, places) for v in floats]
            assert [format_number(np.float64(v), lang, places) for v in floats[:40]] == [
                _babel_number(v, lang, places) for v in floats[:40]]
        assert format_number(float("inf"), lang) == _babel_number(float("inf"), lang, 2)
        assert format_number(float("-inf"), lang, 0) == _babel_number(float("-inf"), lang, 0)
    assert [format_kr(v) for v in ints] == [f"{_babel_int(v, 'sv')}\u00a0kr" for v in ints]
    assert format_int(-1234567, "sv") == "\u22121\u00a0234\u00a0567"
    assert format_number(-0.001, "sv") == "-0,00"  # Babel's plain patterns write a hyphen-minus
    # the grouping loop for a locale not grouped in threes only (en_IN: 12,34,567), as Babel groups
    indian = _Style(".", ",", (3, 2), "-")
    assert [_grouped(abs(v), indian) for v in ints] == [format_decimal(abs(v), locale="en_IN") for v in ints]


def test_a_bad_language_is_a_parameter_error() -> None:
    assert check_lang("en") == "en"
    with pytest.raises(ParameterError, match="okänt språk 'de'"):
        check_lang("de")
    with pytest.raises(KeyError):
        t("sv", "record", "no.such.message")
    assert set(LANGS) == {"sv", "en"}
