"""Task instructions as a sandboxed template over the task's data."""

from __future__ import annotations

from engine.deploy.instructions import render, syntax_error


def test_instructions_render_task_data_escaped_and_missing_values_empty() -> None:
    text = "{{ handoff.item.partner }}退回了「{{ handoff.item.name }}」，原因：{{ return_reason }}{{ nothing.here }}"
    data = {"handoff": {"item": {"partner": "供电公司", "name": "电费减免"}}, "return_reason": "户号<不符>"}
    assert render(text, data) == "供电公司退回了「电费减免」，原因：户号&lt;不符&gt;"


def test_the_sandbox_refuses_reaching_into_python_and_the_page_still_shows_text() -> None:
    assert render("{{ ''.__class__.__mro__ }}", {}) == ""  # unsafe attributes do not exist in the sandbox
    assert "说明无法生成" in render("{{ range(10 ** 9) | list }}", {})  # the sandbox's range limit
    assert render("{{ 1 / n }}", {"n": 0}).startswith("{{ 1 / n }}（说明无法生成")
    assert syntax_error("{{ a }}") is None
    assert syntax_error("{% for x in y %}") is not None
