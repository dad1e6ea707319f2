"""A user task's instructions (``spiffworkflow:instructionsForEndUser``) as a
Jinja2 template over the task's data, as spiff-arena reads them: the 补正 task
can say which partner returned the item and why.

Templates are designer input, so they render in the metered sandbox
(:mod:`engine.sandbox.templates`: the scripts' CPU and memory budget, an
output cap), autoescaped; a missing value renders empty rather than failing
the page. The syntax, and whatever can be seen to be too big without running
it (:mod:`engine.sandbox.template_checks`), is checked at deploy, so such a
template never reaches a caseworker; one that fails or runs over its budget
on a case's data shows a located message in place of the text, and the task
can still be worked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError
from markupsafe import Markup, escape

from engine.sandbox.template_checks import unbounded
from engine.sandbox.templates import BudgetedEnvironment, TemplateBudgetError, TemplateLimits, environment

_default = environment(autoescape=True, undefined=ChainableUndefined)
_envs: dict[TemplateLimits, BudgetedEnvironment] = {}


def _env(limits: TemplateLimits | None) -> BudgetedEnvironment:
    if limits is None:
        return _default
    if limits not in _envs:
        _envs[limits] = environment(limits, autoescape=True, undefined=ChainableUndefined)
    return _envs[limits]


def syntax_error(text: str, limits: TemplateLimits | None = None) -> str | None:
    """Why the template does not parse, or would be too big to render (in Chinese, with its line), or None."""
    env = _env(limits)
    try:
        env.parse(text)
    except TemplateSyntaxError as exc:
        return f"办理说明模板第 {exc.lineno} 行有语法错误：{exc.message}"
    found = unbounded(env, text)
    if found is not None:
        line, why = found
        return f"办理说明模板第 {line} 行{why}，请改小或改为按数据循环"
    try:
        env.compile_budgeted(text)  # Jinja computes constant filters while compiling: '%09999999d'|format(1)
    except TemplateBudgetError as exc:
        return f"办理说明{exc.message}"
    return None


def render(text: str, data: Mapping[str, Any], *, where: str = "", limits: TemplateLimits | None = None) -> Markup:
    """The instructions for this task's data; every value in them is HTML-escaped.

    ``where`` names the task (process and element) for the message shown
    when the template cannot be rendered.
    """
    env = _env(limits)
    try:
        return Markup(env.render_budgeted(env.compile_budgeted(text), data))
    except TemplateBudgetError as exc:
        reason = f"{exc.message}（{exc.code}）"  # 模板运行超时…, 模板输出过长…
    except Exception as exc:  # the data, not the syntax (1/0): a message, not a broken page
        reason = f"模板出错：{type(exc).__name__}: {exc}"
    place = f"{where} 的" if where else ""
    return Markup('<p class="instructions-error">{}</p>').format(
        escape(f"办理说明无法显示：{place}办理说明{reason}。任务仍可办理；请联系流程设计人员修改模板。")
    )
