"""The one text layer: message catalogues (gettext, managed with Babel) and locale-aware formatting.

Every text a user meets is looked up here by a symbolic message id (``"record.heading"``) in a
domain named after the part of the package that owns it (``core``: decision reasons,
``errors``: input and parameter problems, ``record``, ``workbook``, ``cli``: the command line and the
yearly run). Each domain has a catalogue in Swedish and one in English under
``texts/locale/<lang>/LC_MESSAGES/<domain>.po``, compiled to ``.mo`` beside it
(``python scripts/catalogs.py`` re-compiles; a test checks that the two agree and that every id
exists in both languages). Placeholders are ``str.format`` fields: ``{amount}``.

Numbers, amounts and dates are formatted by Babel with CLDR's data for sv_SE and en_GB. A record of
10^4 applications writes some 10^5 numbers, so whole numbers and scores are written with the
symbols and grouping that Babel gives for the language, read from Babel once per language
(`_style`); a test checks over many values that this writes exactly what Babel writes.
"""

from __future__ import annotations

import datetime as dt
import gettext
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Final, Literal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal as babel_decimal
from babel.numbers import get_decimal_symbol, get_group_symbol, parse_pattern

LANGS: Final = ("sv", "en")
DOMAINS: Final = ("core", "errors", "record", "workbook", "cli")
Lang = Literal["sv", "en"]
NBSP: Final = "\u00a0"
MINUS: Final = "\u2212"
_LOCALES: Final = {"sv": "sv_SE", "en": "en_GB"}


def check_lang(lang: object) -> Lang:
    """The language itself, or a `ParameterError` naming the languages there are."""
    if lang in LANGS:
        return lang
    from fou_review.errors import Msg, ParameterError

    raise ParameterError(Msg.of("error.bad_lang", value=repr(lang), langs=", ".join(LANGS)))


@cache
def translations(lang: str, domain: str) -> gettext.GNUTranslations:
    """The compiled catalogue of one domain in one language (loaded once per process)."""
    if lang not in LANGS:
        check_lang(lang)
    if domain not in DOMAINS:
        raise KeyError(f"unknown message domain {domain!r}; known: {DOMAINS}")
    path = resources.files("fou_review.texts") / "locale" / lang / "LC_MESSAGES" / f"{domain}.mo"
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def t(lang: str, domain: str, msgid: str, /, **values: object) -> str:
    """The text of `msgid` in `lang`, its ``{fields}`` filled from `values`.

    A message id missing from the catalogue is a programming error (a test keeps the catalogues
    complete), so it raises `KeyError` rather than showing the id to a user.
    """
    text = message(lang, domain, msgid)
    return text.format(**values) if values else text


@cache
def message(lang: str, domain: str, msgid: str) -> str:
    """The text of `msgid` in `lang`, its fields not filled (a format string; looked up once: a record writes
    some 10^5 of them). A missing id raises `KeyError`, as in `t`."""
    text = translations(lang, domain).gettext(msgid)
    if text == msgid:  # ids are symbolic ("record.heading"), never a text of their own
        raise KeyError(f"message {msgid!r} is missing from the {lang} catalogue of {domain!r}")
    return str(text)


@dataclass(frozen=True)
class _Style:
    """What Babel writes for a language: the decimal and group symbols, the grouping of the locale's
    decimal pattern, and the negative prefix of the patterns `format_number` uses ("0", "0.00")."""

    decimal: str
    group: str
    grouping: tuple[int, int]
    negative: str


@cache
def _style(lang: str) -> _Style | None:
    """The language's number symbols from Babel, or None when its patterns are not the plain ones
    this module writes itself (then every number goes through Babel)."""
    locale = Locale.parse(_LOCALES[lang])
    grouped, plain = locale.decimal_formats[None], parse_pattern("0")
    if (grouped.prefix[0], grouped.suffix[0], plain.prefix[0], plain.suffix) != ("", "", "", ("", "")) or (
            grouped.scale or grouped.exp_prec or grouped.int_prec[0] != 1 or grouped.frac_prec[0] != 0):
        return None
    return _Style(get_decimal_symbol(locale), get_group_symbol(locale), grouped.grouping, plain.prefix[1])


def _grouped(number: int, style: _Style) -> str:
    """`number` (not negative) grouped as Babel's `NumberPattern._format_int` groups its digits."""
    if style.grouping == (3, 3):
        return f"{number:,}".replace(",", style.group)
    digits, size, groups = str(number), style.grouping[0], []
    while len(digits) > size:
        groups.append(digits[-size:])
        digits = digits[:-size]
        size = style.grouping[1]
    return style.group.join([digits, *reversed(groups)])


def format_int(value: int, lang: str = "sv") -> str:
    """A whole number grouped in threes as CLDR writes it (sv: U+00A0, en: comma); minus U+2212."""
    style = _style(lang) if type(value) is int else None
    if style is not None:
        text = _grouped(abs(value), style)
    else:
        text = babel_decimal(abs(value), locale=_LOCALES[lang], group_separator=True)
    return f"{MINUS}{text}" if value < 0 else text


def format_kr(amount: int, unit: str = "kr", lang: str = "sv") -> str:
    """4998030 -> "4 998 030 kr" (no-break spaces); amounts are whole kronor as int."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amounts are whole kronor as int, got {type(amount).__name__} {amount!r}")
    digits = format_int(amount, "sv")  # kronor are written the Swedish way in both languages
    return f"{digits}{NBSP}{unit}" if unit else digits


def format_number(value: float | None, lang: str, places: int = 2) -> str:
    """A score with `places` decimals: 31.75 -> "31,75" (sv) / "31.75" (en); missing -> "–"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = float(value)
    text = f"{number:.{places}f}"  # rounded as Python rounds, then written as CLDR writes it
    style = _style(lang)
    if style is None or not math.isfinite(number):
        return babel_decimal(Decimal(text), format="0." + "0" * places if places else "0", locale=_LOCALES[lang],
                             decimal_quantization=True)
    if text.startswith("-"):  # -0.001 is written "-0.00", as Babel writes Decimal("-0.00")
        return style.negative + text[1:].replace(".", style.decimal)
    return text.replace(".", style.decimal)


def format_kr_each(amounts: Iterable[int], unit: str = "kr") -> list[str]:
    """`format_kr` of each amount, the same texts, for a column of them (10^4 amounts in one pass)."""
    values = list(amounts)
    style = _style("sv")
    if not values or style is None or style.grouping != (3, 3) or set(map(type, values)) != {int}:
        return [format_kr(amount, unit) for amount in values]
    digits = "\n".join(map("{:,}".format, values)).replace(",", style.group).replace("-", MINUS).split("\n")
    return [f"{d}{NBSP}{unit}" for d in digits] if unit else digits


def format_number_each(values: Iterable[float | None], lang: str, places: int = 2) -> list[str]:
    """`format_number` of each value, the same texts, for a column of them (10^4 scores in one pass)."""
    numbers = list(values)
    style = _style(lang)
    if not numbers or style is None or set(map(type, numbers)) != {float}:
        return [format_number(value, lang, places) for value in numbers]
    text = "\n".join(map(f"{{:.{places}f}}".format, numbers))
    if "n" in text:  # "nan", "inf": written one by one
        return [format_number(value, lang, places) for value in numbers]
    return text.replace(".", style.decimal).replace("-", style.negative).split("\n")


def format_long_date(day: dt.date, lang: str) -> str:
    """A date in running text: "6 juni 2022" / "6 June 2022" (a no-break space after the day)."""
    return format_date(day, f"d{NBSP}MMMM y", locale=_LOCALES[lang])
