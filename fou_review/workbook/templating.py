"""The workbook's HTML: autoescaped Jinja2 templates in `workbook/templates/`.

`render(template, lang, **context)` gives the template ``lang``, ``t`` (a workbook text in ``lang``:
``t("whatif.title", year=2022)``), ``kr`` (whole kronor, `catalog.format_kr`) and ``num`` (`catalog.format_int`);
every value is escaped unless the template marks it safe. `render_part(template, macro, lang, **arguments)`
calls one macro of a template of small pieces (the scoring form's widgets), with the same helpers.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from fou_review.texts import catalog
from fou_review.texts.jinja_cache import bytecode_cache


@cache
def environment() -> jinja2.Environment:
    """The workbook's template environment (autoescape on, undefined names are errors)."""
    return jinja2.Environment(loader=jinja2.PackageLoader("fou_review.workbook", "templates"), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                              bytecode_cache=bytecode_cache())


def _helpers(lang: str) -> dict[str, object]:
    """What every template gets: the language and its texts, kronor and integers."""

    def text(msgid: str, /, **values: object) -> str:
        return catalog.t(lang, "workbook", msgid, **values)

    return {"lang": lang, "t": text, "kr": lambda a: catalog.format_kr(int(a), lang=lang),
            "num": lambda n: catalog.format_int(int(n), lang)}


def render(template: str, lang: str, /, **context: object) -> str:
    """`template` rendered with `context` and the workbook's helpers, without a trailing newline."""
    page = environment().get_template(template).render(**_helpers(lang), **context)
    return page.removesuffix("\n")


@cache
def _module(template: str, lang: str) -> Any:
    """The template as a module of macros, with the helpers in `lang` (made once per language)."""
    return environment().get_template(template).make_module(_helpers(lang))


def render_part(template: str, macro: str, lang: str, /, **arguments: object) -> str:
    """The macro `macro` of `template` called with `arguments`, without a trailing newline."""
    return str(getattr(_module(template, lang), macro)(**arguments)).removesuffix("\n")
