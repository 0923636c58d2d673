"""The workbook's HTML: autoescaped Jinja2 templates in `workbook/templates/`.

`render(template, lang, **context)` gives the template ``lang``, ``t`` (a workbook text in ``lang``:
``t("whatif.title", year=2022)``), ``kr`` (whole kronor, `catalog.format_kr`) and ``num`` (`catalog.format_int`);
every value is escaped unless the template marks it safe.
"""

from __future__ import annotations

from functools import cache

import jinja2

from fou_review.texts import catalog
from fou_review.texts.jinja_cache import bytecode_cache


@cache
def environment() -> jinja2.Environment:
    """The workbook's template environment (autoescape on, undefined names are errors)."""
    return jinja2.Environment(loader=jinja2.PackageLoader("fou_review.workbook", "templates"), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                              bytecode_cache=bytecode_cache())


def render(template: str, lang: str, /, **context: object) -> str:
    """`template` rendered with `context` and the workbook's helpers, without a trailing newline."""

    def text(msgid: str, /, **values: object) -> str:
        return catalog.t(lang, "workbook", msgid, **values)

    page = environment().get_template(template).render(lang=lang, t=text,
                                                        kr=lambda a: catalog.format_kr(int(a), lang=lang),
                                                        num=lambda n: catalog.format_int(int(n), lang), **context)
    return page.removesuffix("\n")
