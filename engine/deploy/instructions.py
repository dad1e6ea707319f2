"""A user task's instructions (``spiffworkflow:instructionsForEndUser``) as a
Jinja2 template over the task's data, as spiff-arena reads them: the 补正 task
can say which partner returned the item and why.

Templates are designer input, so they render in Jinja2's sandbox, autoescaped;
a missing value renders empty rather than failing the page. The syntax is
checked at deploy, so a broken template never reaches a caseworker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

_env = SandboxedEnvironment(autoescape=True, undefined=ChainableUndefined)


def syntax_error(text: str) -> str | None:
    """Why the template does not parse (in Chinese, with its line), or None."""
    try:
        _env.parse(text)
    except TemplateSyntaxError as exc:
        return f"办理说明模板第 {exc.lineno} 行有语法错误：{exc.message}"
    return None


def render(text: str, data: Mapping[str, Any]) -> Markup:
    """The instructions for this task's data; every value in them is HTML-escaped."""
    try:
        return Markup(_env.from_string(text).render(**data))
    except Exception as exc:  # the data, not the syntax (1/0, a sandbox limit): show the text, not a broken page
        return Markup(_env.from_string("{{ t }}（说明无法生成：{{ e }}）").render(t=text, e=str(exc)))
