"""The sandbox every BPMN/DMN expression and script runs in (engine/sandbox.py)."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.errors import Location, ScriptError
from engine.sandbox import Sandbox, find_script_error
from engine.sandbox_policy import compile_source

WHERE = Location(file="relief.bpmn", element_id="Gateway_1", element_tag="exclusiveGateway")


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox()


def refused(fn: Any, *args: Any) -> ScriptError:
    with pytest.raises(ScriptError) as info:
        fn(*args)
    return info.value


# --- refused at compile time, located -------------------------------------------------


@pytest.mark.parametrize(
    ("source", "mode"),
    [
        ("import os", "exec"),
        ("from os import path", "exec"),
        ("__import__('os')", "eval"),
        ("open('/etc/passwd')", "eval"),
        ("().__class__.__bases__[0].__subclasses__()", "eval"),
        ("getattr(x, '__class__')", "eval"),
        ("exec('1')", "eval"),
        ("eval('1')", "eval"),
        ("compile('1', 'x', 'eval')", "eval"),
        ("globals()", "eval"),
        ("class A:\n    pass", "exec"),
        ("try:\n    pass\nexcept:\n    pass", "exec"),  # would catch the sandbox's abort
        ("try:\n    pass\nfinally:\n    pass", "exec"),  # `continue` in finally would swallow it
        ("ValueError = 1", "exec"),  # except ValueError must always mean ValueError
    ],
)
def test_check_refuses_with_location(sandbox: Sandbox, source: str, mode: Any) -> None:
    error = refused(sandbox.check, source, mode, WHERE)
    assert error.code == "SCRIPT_FORBIDDEN"
    assert error.location.file == "relief.bpmn"
    assert error.location.element_id == "Gateway_1"
    assert error.location.line is not None


def test_import_message_is_chinese_and_names_the_line(sandbox: Sandbox) -> None:
    error = refused(sandbox.check, "x = 1\nimport os", "exec", WHERE)
    assert error.message == "脚本不允许导入模块（第 2 行）"
    assert error.location.line == 2
    assert str(error).startswith("relief.bpmn: Gateway_1 (exclusiveGateway): [SCRIPT_FORBIDDEN]")


def test_syntax_error_is_located_not_a_syntax_error(sandbox: Sandbox) -> None:
    error = refused(sandbox.check, "amount >", "eval", WHERE)
    assert error.code == "SCRIPT_SYNTAX"
    assert not isinstance(error, SyntaxError)  # SpiffWorkflow's formatter chokes on lineno=None
    assert error.location.line == 1
    assert refused(sandbox.check, "return 1", "exec").code == "SCRIPT_SYNTAX"


def test_forbidden_source_is_refused_at_run_time_too(sandbox: Sandbox) -> None:
    assert refused(sandbox.evaluate, "open('/etc/passwd')", {}).code == "SCRIPT_FORBIDDEN"
    assert refused(sandbox.execute, "import os", {}).code == "SCRIPT_FORBIDDEN"


def test_legitimate_source_passes_check(sandbox: Sandbox) -> None:
    sandbox.check("amount > 1000 and approved == True", "eval", WHERE)
    sandbox.check("total = sum(x['a'] for x in items)\nlabel = f'{total:,}'", "exec", WHERE)


def test_compilation_is_cached() -> None:
    assert compile_source("amount + 1", "eval") is compile_source("amount + 1", "eval")


# --- refused at run time ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "context"),
    [
        ("getattr(x, name)", {"x": 1, "name": "__class__"}),
        ("'{0.__class__}'.format(x)", {"x": 1}),
        ("datetime.now()", {}),  # the engine's clock is an input (engine/clock.py)
    ],
)
def test_forbidden_at_run_time(sandbox: Sandbox, expression: str, context: dict[str, Any]) -> None:
    assert refused(sandbox.evaluate, expression, context).code == "SCRIPT_FORBIDDEN"


@pytest.mark.parametrize(
    "expression",
    [
        "'x' * 10**10",
        "[0] * 10**9",
        "10 ** 10 ** 8",
        "1 << 10**9",
        "list(range(10**10))",
        "f'{1:>{10**10}}'",
        "'{:>{}}'.format(1, 10**10)",
        "'a'.ljust(10**10)",
        "'%*d' % (10**10, 1)",
        "'ab' .join(['x'] * 10**6) * 100",
    ],
)
def test_memory_amplifiers_are_refused_before_allocating(sandbox: Sandbox, expression: str) -> None:
    started = time.perf_counter()
    assert refused(sandbox.evaluate, expression, {}).code == "SCRIPT_MEMORY"
    assert time.perf_counter() - started < 1


def test_augmented_multiplication_is_guarded(sandbox: Sandbox) -> None:
    assert refused(sandbox.execute, "s = 'x'\ns *= 10**10", {}).code == "SCRIPT_MEMORY"


def test_growing_list_hits_the_memory_budget() -> None:
    small = Sandbox(memory_bytes=8 * 1024 * 1024, cpu_seconds=5)
    context: dict[str, Any] = {}
    error = refused(small.execute, "x = []\nwhile True:\n    x.append('y' * 10000)", context)
    assert error.code == "SCRIPT_MEMORY"
    assert context == {}  # the half-built list is not left in task data


def test_infinite_loop_is_stopped_within_the_budget() -> None:
    started = time.monotonic()
    error = refused(Sandbox(cpu_seconds=1).execute, "while True: pass", {})
    assert error.code == "SCRIPT_TIMEOUT"
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
        "def f():\n    f()\ntry:\n    f()\nexcept RuntimeError:\n    pass\nwhile True:\n    pass",
        "x = sum(1 for n in range(10**6) for m in range(10**6))",
    ],
)
def test_timeout_cannot_be_swallowed(script: str) -> None:
    started = time.monotonic()
    assert refused(Sandbox(cpu_seconds=0.5).execute, script, {}).code == "SCRIPT_TIMEOUT"
    assert time.monotonic() - started < 3


def test_runtime_error_keeps_the_original_message(sandbox: Sandbox) -> None:
    error = refused(sandbox.evaluate, "amout > 1000", {"amount": 1})
    assert error.code == "SCRIPT_RUNTIME"
    assert "NameError: name 'amout' is not defined" in error.message
    assert "amount" in error.message.split("defined")[1]  # the "did you mean"
    assert isinstance(error.__cause__, NameError)

    error = refused(sandbox.execute, "x = 1\ny = x / 0", {})
    assert error.code == "SCRIPT_RUNTIME"
    assert "ZeroDivisionError" in error.message
    assert error.location.line == 2


def test_failed_script_leaves_top_level_data_as_it_was(sandbox: Sandbox) -> None:
    context = {"amount": 1}
    refused(sandbox.execute, "amount = 2\nextra = 3\nraise ValueError('不符合条件')", context)
    assert context == {"amount": 1}


# --- legitimate use --------------------------------------------------------------------

CONTEXT = {
    "amount": 1500,
    "approved": True,
    "applicant": {"name": "张三", "members": [{"age": 70}, {"age": 8}]},
    "items": [{"a": 1}, {"a": 2}, {"a": 3}],
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("amount > 1000 and approved == True", True),
        ("(amount + 500) * 2 - 1000 / 4", 3750.0),
        ("amount // 7 % 5 ** 2", 14),
        ("applicant['members'][0]['age'] >= 60", True),
        ("applicant.get('name')", "张三"),
        ("[m['age'] for m in applicant['members'] if m['age'] < 18]", [8]),
        ("{k: v for k, v in [('a', 1)]}", {"a": 1}),
        ("f\"{applicant['name']}：{amount:,} 元\"", "张三：1,500 元"),
        ("sum(x['a'] for x in items)", 6),
        ("len(items)", 3),
        ("round(2.675, 1)", 2.7),
        ("min(1, 2), max([3, 4])", (1, 4)),
        ("Decimal('0.1') + Decimal('0.2') == Decimal('0.3')", True),
        ("sorted(x['a'] for x in items)[-1]", 3),
        ("'-'.join(['a', 'b']) + 'c' * 3", "a-bccc"),
        ("'%s 户' % 3", "3 户"),
        ("(x['a'] for x in items)", [1, 2, 3]),  # drained inside the budget
        ("timedelta(days=3) + date(2024, 1, 30)", date(2024, 2, 2)),
    ],
)
def test_expressions(sandbox: Sandbox, expression: str, expected: Any) -> None:
    assert sandbox.evaluate(expression, dict(CONTEXT)) == expected


def test_helpers_are_visible() -> None:
    sandbox = Sandbox(helpers={"age_of": lambda person: person["age"]})
    assert sandbox.evaluate("age_of(applicant['members'][1])", dict(CONTEXT)) == 8
    context = {"applicant": {"age": 70}}
    sandbox.execute("senior = age_of(applicant) >= 60", context)
    assert context == {"applicant": {"age": 70}, "senior": True}


def test_script_variables_end_up_in_the_context(sandbox: Sandbox) -> None:
    context: dict[str, Any] = {"order": {"customer": {"tier": "gold"}, "lines": [{"qty": 1}]}, "amount": 10}
    sandbox.execute(
        "order['customer']['tier'] = 'silver'\n"
        "order['lines'][0]['qty'] += 2\n"
        "total = Decimal('1.5') * amount\n"
        "def double(n):\n"
        "    return n * 2\n"
        "doubled = [double(i) for i in range(3)]\n"
        "seen = {1, 2}\n"  # not storable
        "try:\n"
        "    int('x')\n"
        "except ValueError:\n"
        "    parsed = False\n"
        "print('debug output is collected, not written')\n",
        context,
    )
    assert context == {
        "order": {"customer": {"tier": "silver"}, "lines": [{"qty": 3}]},
        "amount": 10,
        "total": Decimal("15.0"),
        "doubled": [0, 2, 4],
        "parsed": False,
    }


def test_task_data_overwriting_a_helper_is_refused() -> None:
    sandbox = Sandbox(helpers={"age_of": len})
    error = refused(sandbox.execute, "x = 1", {"age_of": 3})
    assert error.code == "SCRIPT_NAME_CONFLICT"
    assert "age_of" in error.message


def test_helper_script_errors_pass_through_unchanged() -> None:
    def refuse(_: Any) -> None:
        raise ScriptError("户籍不在本辖区", code="OUT_OF_AREA")

    assert refused(Sandbox(helpers={"refuse": refuse}).evaluate, "refuse(1)", {}).code == "OUT_OF_AREA"


def test_leading_blanks_are_fine_as_with_builtin_eval(sandbox: Sandbox) -> None:
    assert sandbox.evaluate("   amount > 1000", dict(CONTEXT)) is True


def test_service_calls_are_not_wired_yet(sandbox: Sandbox) -> None:
    assert refused(sandbox.environment().call_service, {}).code == "SERVICE_UNAVAILABLE"


# --- through SpiffWorkflow -------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="relief" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>
    <bpmn:scriptTask id="compute">
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="f_small"/>
    <bpmn:sequenceFlow id="f_big" sourceRef="gw" targetRef="big">
      <bpmn:conditionExpression>CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="gw" targetRef="small"/>
    <bpmn:scriptTask id="big">
      <bpmn:script>route = 'big'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="small">
      <bpmn:script>route = 'small'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="big" targetRef="end"/>
    <bpmn:sequenceFlow id="f4" sourceRef="small" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def run_workflow(sandbox: Sandbox, script: str, condition: str, data: dict[str, Any]) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.replace("SCRIPT", script).replace("CONDITION", condition).encode())
    workflow = BpmnWorkflow(
        parser.get_spec("relief"), parser.get_subprocess_specs("relief"), script_engine=sandbox.script_engine()
    )
    workflow.get_next_task().data.update(data)
    workflow.do_engine_steps()
    return workflow


def test_workflow_runs_in_the_sandbox(sandbox: Sandbox) -> None:
    workflow = run_workflow(
        sandbox, "total = sum(x['a'] for x in items) * 1000", "total &gt; 5000", {"items": CONTEXT["items"]}
    )
    assert workflow.is_completed()
    assert workflow.data["route"] == "big"
    assert workflow.data["total"] == 6000


def test_workflow_script_failure_names_the_sandbox_code(sandbox: Sandbox) -> None:
    with pytest.raises(Exception) as info:
        run_workflow(sandbox, "import os\ntotal = 1", "total &gt; 5000", {})
    error = find_script_error(info.value)
    assert error is not None
    assert error.code == "SCRIPT_FORBIDDEN"


def test_workflow_condition_failure_keeps_the_name_error(sandbox: Sandbox) -> None:
    with pytest.raises(Exception) as info:
        run_workflow(sandbox, "total = 1", "totl &gt; 5000", {})
    error = find_script_error(info.value)
    assert error is not None
    assert error.code == "SCRIPT_RUNTIME"
    assert "name 'totl' is not defined" in error.message


def test_workflow_runtime_error_reports_the_script_line(sandbox: Sandbox) -> None:
    with pytest.raises(Exception) as info:
        run_workflow(sandbox, "total = 1\ntotal = total / 0", "total &gt; 5000", {})
    assert getattr(info.value, "line_number", None) == 2
    assert getattr(info.value, "error_line", None) == "total = total / 0"
