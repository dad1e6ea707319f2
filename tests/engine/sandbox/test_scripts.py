"""The sandbox every BPMN/DMN expression and script runs in (engine/sandbox/scripts.py)."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.errors import Location, ScriptError
from engine.sandbox.policy import compile_source
from engine.sandbox.scripts import Sandbox, find_script_error
from engine.sla.functions import HELPERS

WHERE = Location(file="relief.bpmn", element_id="Gateway_1", element_tag="exclusiveGateway")


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox()


@pytest.fixture(scope="module")
def small() -> Sandbox:
    return Sandbox(memory_bytes=8 * 1024 * 1024)


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
    assert error.message == "表达式第 1 行有语法错误：写法无效（invalid syntax）", error.message
    assert refused(sandbox.check, "return 1", "exec").code == "SCRIPT_SYNTAX"
    unclosed = refused(sandbox.check, "total = sum([1, 2", "exec")
    assert "括号没有闭合（'[' was never closed）" in unclosed.message, unclosed.message


def test_forbidden_source_is_refused_at_run_time_too(sandbox: Sandbox) -> None:
    assert refused(sandbox.evaluate, "open('/etc/passwd')", {}).code == "SCRIPT_FORBIDDEN"
    assert refused(sandbox.execute, "import os", {}).code == "SCRIPT_FORBIDDEN"


def test_legitimate_source_passes_check(sandbox: Sandbox) -> None:
    sandbox.check("amount > 1000 and approved == True", "eval", WHERE)
    sandbox.check("total = sum(x['a'] for x in items)\nlabel = f'{total:,}'", "exec", WHERE)


def test_compilation_is_cached() -> None:
    assert compile_source("amount + 1", "eval") is compile_source("amount + 1", "eval")


@pytest.mark.parametrize(
    ("source", "mode"),
    [
        ("datetime.now()", "eval"),
        ("date.today() > deadline", "eval"),
        ("x = 1\nstamp = datetime.utcnow()", "exec"),
        ("datetime.fromtimestamp(0)", "eval"),
        ("datetime.utcfromtimestamp(0)", "eval"),
        ("getattr(datetime, 'now')()", "eval"),
        ("def f(d):\n    return d.today()", "exec"),  # whatever the object: the check cannot know its type
    ],
)
def test_reading_the_clock_is_refused_at_deploy(source: str, mode: Any) -> None:
    """Validate at deploy, never mid-instance: the model must not deploy and then fail at run time."""
    error = refused(Sandbox(helpers=HELPERS).check, source, mode, WHERE)
    assert error.code == "SCRIPT_FORBIDDEN"
    assert error.location.element_id == "Gateway_1"
    assert error.location.line == source.count("\n") + 1
    assert "不允许读取系统时钟" in error.message
    for alternative in ("today()", "add_working_days(start, n)", "add_natural_days(start, n)", "sla_due(stage)"):
        assert alternative in error.message
    assert error.message.endswith(f"（第 {error.location.line} 行）")


def test_clock_message_names_only_helpers_the_sandbox_has() -> None:
    error = refused(Sandbox(helpers={"today": HELPERS["today"]}).check, "datetime.now()", "eval")
    assert "today()" in error.message and "sla_due" not in error.message
    error = refused(Sandbox().check, "datetime.now()", "eval")
    assert "today()" not in error.message and "流程数据" in error.message


def test_clock_is_refused_at_run_time_too() -> None:
    sandbox = Sandbox(helpers=HELPERS)
    error = refused(sandbox.evaluate, "getattr(datetime, name)()", {"name": "now"})
    assert error.code == "SCRIPT_FORBIDDEN"
    assert "today()" in error.message
    assert refused(sandbox.execute, "t = getattr(date, name)()", {"name": "today"}).code == "SCRIPT_FORBIDDEN"


def test_the_today_helper_and_dates_from_data_are_fine() -> None:
    sandbox = Sandbox(helpers={"today": lambda: "2026-09-21"})
    sandbox.check("due = today()\nlate = date.fromisoformat(due) > date(2026, 9, 1)", "exec")
    context: dict[str, Any] = {}
    sandbox.execute("due = today()\nlate = date.fromisoformat(due) > date(2026, 9, 1)", context)
    assert context == {"due": "2026-09-21", "late": True}


# --- refused at run time ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "context"),
    [
        ("getattr(x, name)", {"x": 1, "name": "__class__"}),
        ("'{0.__class__}'.format(x)", {"x": 1}),
        ("datetime.now()", {}),  # the engine's clock is an input (engine/clock.py)
        ("getattr(datetime, name)()", {"name": "now"}),
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
    started = time.thread_time()  # refused before allocating: little CPU, however loaded the machine
    assert refused(sandbox.evaluate, expression, {}).code == "SCRIPT_MEMORY"
    assert time.thread_time() - started < 1


def test_augmented_multiplication_is_guarded(sandbox: Sandbox) -> None:
    assert refused(sandbox.execute, "s = 'x'\ns *= 10**10", {}).code == "SCRIPT_MEMORY"


def test_review_case_list_of_a_long_string_is_refused_before_allocating(sandbox: Sandbox) -> None:
    started = time.process_time()
    error = refused(sandbox.evaluate, "len(list('a' * 60000000))", {})
    assert error.code == "SCRIPT_MEMORY"
    assert "列表过大" in error.message
    context: dict[str, Any] = {}
    error = refused(sandbox.execute, "s = 'a' * 60000000\na = list(s)\nb = list(s)\nc = list(s)", context)
    assert (error.code, error.location.line) == ("SCRIPT_MEMORY", 2)
    assert context == {}
    assert time.process_time() - started < 1


# With an 8 MiB budget, each source below fits and what is built from it does not.
@pytest.mark.parametrize(
    "expression",
    [
        "list('a' * 4_000_000)",
        "tuple('a' * 4_000_000)",
        "sorted('a' * 4_000_000)",
        "set(range(200_000))",
        "frozenset(range(200_000))",
        "dict.fromkeys(range(200_000))",
        "{}.fromkeys('a' * 4_000_000)",
        "dict(zip(range(200_000), range(200_000)))",
        "list(enumerate('a' * 4_000_000))",
        "list(zip('a' * 4_000_000, 'b' * 4_000_000))",
        "[*('a' * 4_000_000)]",
        "{*range(200_000)}",
        "max(*('a' * 4_000_000))",
        "('a ' * 2_000_000).split()",
        "('a,' * 2_000_000).split(',')",
        "('a,' * 2_000_000).rsplit(',')",
        "('a\\n' * 2_000_000).splitlines()",
        "('a' * 4_000_000).encode('utf-32')",
        "set().union(range(200_000))",
        "len(str([[[0] * 100] * 100] * 1000))",  # a shared structure prints every path: 30 MB of text
        "f'{[[[0] * 100] * 100] * 1000}'",
        "'%s' % ([[[0] * 100] * 100] * 1000,)",
        "'{!r}'.format([[[0] * 100] * 100] * 1000)",
        "int(Decimal('1e50000'))",  # becomes a 166,000-bit int in C
        "f'{Decimal(\"1e9999999\"):f}'",  # ten million digits
    ],
)
def test_builders_are_refused_before_materialising(small: Sandbox, expression: str) -> None:
    started = time.process_time()
    assert refused(small.evaluate, expression, {}).code == "SCRIPT_MEMORY"
    assert time.process_time() - started < 1


@pytest.mark.parametrize(
    "script",
    [
        "a, *b = 'a' * 4_000_000",
        "a, b = 'a' * 4_000_000",
        "for a, b in ['a' * 4_000_000]:\n    pass",
        "x = [1]\nx += enumerate('a' * 4_000_000)",
        "x = []\nx[:0] = 'a' * 4_000_000",
        "x = {}\nx |= zip(range(200_000), range(200_000))",
        "x = [[[0] * 100] * 100] * 1000\nprint(x)",
        "x = []\nx.extend('a' * 4_000_000)",  # in an expression, extend is refused at deploy
    ],
)
def test_unpacking_and_in_place_building_are_sized(small: Sandbox, script: str) -> None:
    assert refused(small.execute, script, {}).code == "SCRIPT_MEMORY"


def test_starred_mappings_are_sized(small: Sandbox) -> None:
    big = {str(i): i for i in range(200_000)}
    assert refused(small.evaluate, "{**big}", {"big": big}).code == "SCRIPT_MEMORY"
    assert refused(small.evaluate, "dict(**big)", {"big": big}).code == "SCRIPT_MEMORY"


def test_copies_in_a_row_add_up_without_a_tick(sandbox: Sandbox) -> None:
    # No loop, so no tick: each copy fits the budget alone, the second one no longer does.
    script = "l = [0] * 5_000_000\na = l[:]\nb = l[:]\nl = a = b = None"
    error = refused(sandbox.execute, script, {})
    assert error.code == "SCRIPT_MEMORY"
    assert error.location.line in (2, 3)


def test_huge_exception_arguments_do_not_become_a_huge_message(sandbox: Sandbox) -> None:
    started = time.process_time()
    error = refused(sandbox.execute, "raise ValueError([[[0] * 1000] * 1000] * 1000)", {})
    assert error.code == "SCRIPT_RUNTIME"
    assert len(error.message) < 1000
    assert time.process_time() - started < 1


def test_growing_list_hits_the_memory_budget() -> None:
    small = Sandbox(memory_bytes=8 * 1024 * 1024, cpu_seconds=5)
    context: dict[str, Any] = {}
    error = refused(small.execute, "x = []\nwhile True:\n    x.append('y' * 10000)", context)
    assert error.code == "SCRIPT_MEMORY"
    assert context == {}  # the half-built list is not left in task data


def test_infinite_loop_is_stopped_within_the_budget() -> None:
    # The budget is CPU time: measured as such, a busy machine does not stretch it.
    started = time.process_time()
    error = refused(Sandbox(cpu_seconds=1).execute, "while True: pass", {})
    assert error.code == "SCRIPT_TIMEOUT"
    assert time.process_time() - started < 3


@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
        "def f():\n    f()\ntry:\n    f()\nexcept RuntimeError:\n    pass\nwhile True:\n    pass",
        "x = sum(1 for n in range(10**6) for m in range(10**6))",
    ],
)
def test_timeout_cannot_be_swallowed(script: str) -> None:
    started = time.thread_time()  # CPU, not wall time: a loaded machine must not fail it
    assert refused(Sandbox(cpu_seconds=0.5).execute, script, {}).code == "SCRIPT_TIMEOUT"
    assert time.thread_time() - started < 3


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


# --- what a script may leave in the task data ---------------------------------------------


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("d = {1: 'a', 'b': 2}", "任务数据的键必须是字符串：1（变量 d）"),  # breaks canonical JSON
        ("d = {1: 'one'}", "任务数据的键必须是字符串：1（变量 d）"),  # comes back as {'1': 'one'}
        ("d = {None: 0}", "任务数据的键必须是字符串：None"),
        ("rows = [{'k': {(1, 2): 3}}]", "任务数据的键必须是字符串：tuple 类型的键（变量 rows）"),
        ("x = float('inf')", "任务数据中的浮点数必须是有限值：inf（变量 x）"),
        ("x = {'v': [float('nan')]}", "任务数据中的浮点数必须是有限值：nan（变量 x）"),
        ("x = -float('inf')", "任务数据中的浮点数必须是有限值：-inf"),
    ],
)
def test_data_json_cannot_carry_is_refused(sandbox: Sandbox, script: str, problem: str) -> None:
    context = {"amount": 1}
    error = refused(sandbox.execute, "amount = 2\n" + script, context)
    assert error.code == "SCRIPT_RUNTIME"
    assert error.message.startswith(f"脚本运行出错：{problem}")
    assert context == {"amount": 1}


def test_existing_data_changed_to_a_non_string_key_is_refused(sandbox: Sandbox) -> None:
    context: dict[str, Any] = {"applicant": {"members": []}}
    error = refused(sandbox.execute, "applicant['members'].append({2024: 'x'})", context)
    assert error.code == "SCRIPT_RUNTIME"
    assert "任务数据的键必须是字符串：2024（变量 applicant）" in error.message


def test_decimals_and_dates_stay(sandbox: Sandbox) -> None:
    context: dict[str, Any] = {}
    sandbox.execute(
        "amount = Decimal('1.50')\non = date(2024, 1, 2)\nat = datetime(2024, 1, 2, 8)\nratio = 0.5\n"
        "by_name = {'张三': [1, 2.5, None, True]}",
        context,
    )
    assert context == {
        "amount": Decimal("1.50"),
        "on": date(2024, 1, 2),
        "at": datetime(2024, 1, 2, 8),
        "ratio": 0.5,
        "by_name": {"张三": [1, 2.5, None, True]},
    }


def test_data_left_behind_is_capped(sandbox: Sandbox) -> None:
    context = {"amount": 1}
    error = refused(sandbox.execute, "amount = 2\nrows = [0] * 1_000_000", context)
    assert error.code == "SCRIPT_MEMORY"
    assert "留在任务数据中的数据过大" in error.message and "rows" in error.message
    assert context == {"amount": 1}
    # a shared structure is counted as often as it would be serialized
    assert refused(sandbox.execute, "x = [[0] * 1000] * 1000", {}).code == "SCRIPT_MEMORY"
    context = {}
    sandbox.execute("rows = [0] * 1_000_000\ntotal = len(rows)\nrows = None", context)  # used, then dropped
    assert context == {"rows": None, "total": 1_000_000}


def test_checking_the_data_left_behind_is_inside_the_cpu_budget() -> None:
    sandbox = Sandbox(cpu_seconds=0.3, memory_bytes=256 * 1024 * 1024, data_bytes=256 * 1024 * 1024)
    started = time.process_time()
    error = refused(sandbox.execute, "x = [[0] * 1000] * 20000", {})  # 20 million elements to look at
    assert error.code == "SCRIPT_TIMEOUT"
    assert time.process_time() - started < 1.5


def test_workflow_with_a_non_string_key_fails_at_the_script(sandbox: Sandbox) -> None:
    with pytest.raises(Exception) as info:
        run_workflow(sandbox, "total = 1\nby_year = {2024: total}", "total &gt; 5000", {})
    error = find_script_error(info.value)
    assert error is not None
    assert error.code == "SCRIPT_RUNTIME"
    assert "任务数据的键必须是字符串：2024" in error.message


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


def test_checked_builtins_behave_like_the_builtins(sandbox: Sandbox) -> None:
    context: dict[str, Any] = {"members": [{"name": "李四", "age": 70}, {"name": "王五", "age": 8}], "tags": "a,b c"}
    sandbox.execute(
        "ages = sorted(m['age'] for m in members)\n"
        "by_name = dict((m['name'], m['age']) for m in members)\n"
        "names = list(by_name)\n"
        "flags = dict.fromkeys(names, False)\n"
        "unique = len(set(ages) | frozenset([8]))\n"
        "pairs = [list(p) for p in zip(names, ages)]\n"
        "indexed = list(enumerate(names))\n"
        "parts = tags.replace(',', ' ').split()\n"
        "joined = '、'.join(str(a) for a in ages)\n"
        "kinds = [isinstance(members, list), isinstance(by_name, dict), isinstance('x', (int, str))]\n"
        "merged = {**by_name, '赵六': 1}\n"
        "first, *rest = ages\n"
        "tail = ages[1:]\n"
        "text = str(members[0]) + f'{ages}'\n"
        "whole = int(Decimal('12.5')) + round(Decimal('2.5'))\n",
        context,
    )
    assert context["ages"] == [8, 70]
    assert context["by_name"] == {"李四": 70, "王五": 8}
    assert context["flags"] == {"李四": False, "王五": False}
    assert context["unique"] == 2
    assert context["pairs"] == [["李四", 8], ["王五", 70]]
    assert context["indexed"] == [(0, "李四"), (1, "王五")]
    assert context["parts"] == ["a", "b", "c"]
    assert context["joined"] == "8、70"
    assert context["kinds"] == [True, True, True]
    assert context["merged"] == {"李四": 70, "王五": 8, "赵六": 1}
    assert (context["first"], context["rest"], context["tail"]) == (8, [70], [70])
    assert context["text"] == "{'name': '李四', 'age': 70}[8, 70]"
    assert context["whole"] == 14


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


def test_service_calls_without_connectors_are_refused(sandbox: Sandbox) -> None:
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
