"""Task instructions as a sandboxed template over the task's data."""

from __future__ import annotations

import pytest

from engine.deploy.instructions import render, syntax_error
from engine.sandbox.templates import TemplateLimits


def test_instructions_render_task_data_escaped_and_missing_values_empty() -> None:
    text = "{{ handoff.item.partner }}退回了「{{ handoff.item.name }}」，原因：{{ return_reason }}{{ nothing.here }}"
    data = {"handoff": {"item": {"partner": "供电公司", "name": "电费减免"}}, "return_reason": "户号<不符>"}
    assert render(text, data) == "供电公司退回了「电费减免」，原因：户号&lt;不符&gt;"


def test_the_sandbox_refuses_reaching_into_python_and_a_failure_shows_a_located_message() -> None:
    assert render("{{ ''.__class__.__mro__ }}", {}) == ""  # unsafe attributes do not exist in the sandbox
    capped = render("{{ range(n) | list }}", {"n": 10**9}, where="流程 p 任务 t")
    assert "办理说明无法显示：流程 p 任务 t 的办理说明模板的 range() 过长" in capped and "TEMPLATE_RANGE" in capped
    failed = render("{{ 1 / n }}", {"n": 0})
    assert "办理说明无法显示" in failed and "ZeroDivisionError" in failed and "{{" not in failed
    assert syntax_error("{{ a }}") is None
    assert syntax_error("{% for x in y %}") is not None


def test_a_failing_message_escapes_what_the_data_put_in_it() -> None:
    shown = render("{{ 1 / n }}{{ x[y] }}", {"n": 0, "x": {}, "y": "<b>"})
    assert "<b>" not in shown.replace('<p class="instructions-error">', "")


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ("{{ 'a' * 10**10 }}", 1, "重复结果过大"),
        ("说明\n{% for i in range(1000) %}{% for j in range(1000) %}{{ i }}{% endfor %}{% endfor %}", 2, "嵌套循环"),
        ("{% set r = range(100) %}{% for a in r %}{% for b in r %}{% for c in r %}{% endfor %}{% endfor %}{% endfor %}",
         1, "嵌套循环"),
        ("{{ range(10**6) }}", 1, "range() 过长"),
        ("{{ name | center(10**9) }}", 1, "参数过大"),
        ("{{ 2 ** (10**7) }}", 1, "整数结果过大"),
    ],
)  # fmt: skip
def test_templates_seen_to_be_unbounded_are_refused_at_deploy_with_their_line(text: str, line: int, why: str) -> None:
    refusal = syntax_error(text.replace("\\n", "\n"))
    assert refusal is not None and refusal.startswith(f"办理说明模板第 {line} 行") and why in refusal, refusal


def test_bounded_loops_and_data_driven_loops_pass_deploy() -> None:
    assert syntax_error("{% for i in range(100) %}{% for j in range(100) %}{{ i }}{% endfor %}{% endfor %}") is None
    assert syntax_error("{% for item in items %}{% for m in item.members %}{{ m }}{% endfor %}{% endfor %}") is None
    assert syntax_error("{{ 'a' * 3 }}{{ 2 ** 10 }}{{ name | center(20) }}") is None


@pytest.mark.parametrize(
    ("text", "data", "code"),
    [
        ("{{ 'a' * n }}", {"n": 10**10}, "SCRIPT_MEMORY"),
        ("{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}{% endfor %}",
         {"xs": list(range(3000))}, "SCRIPT_TIMEOUT"),
        # The output cap stops it, or on a busy machine the watchdog's wall clock first (either is bounded).
        ("{% for a in xs %}{% for b in xs %}{{ a }}{{ b }}{% endfor %}{% endfor %}",
         {"xs": list(range(3000))}, ("TEMPLATE_OUTPUT", "SCRIPT_TIMEOUT")),
        ("{{ s | center(n) }}", {"s": "a", "n": 10**9}, "TEMPLATE_OUTPUT"),
        ("{{ s.ljust(n) }}", {"s": "a", "n": 10**9}, "SCRIPT_MEMORY"),
        ("{{ s | replace('a', t) }}", {"s": "a" * 60000, "t": "b" * 60000}, "SCRIPT_MEMORY"),
    ],
)  # fmt: skip
def test_data_that_makes_a_template_run_over_its_budget_shows_the_message(
    text: str, data: dict[str, object], code: str | tuple[str, ...]
) -> None:
    assert syntax_error(text) is None  # nothing to see at deploy: it is the data
    shown = render(text, data, where="流程 p 任务 t", limits=TemplateLimits(cpu_seconds=0.5))
    assert shown.startswith('<p class="instructions-error">办理说明无法显示：流程 p 任务 t') and any(
        c in shown for c in (code if isinstance(code, tuple) else (code,))
    ), shown
