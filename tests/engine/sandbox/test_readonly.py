"""Expressions read case data and never write it; only data becomes text in a script
(engine/sandbox/readonly.py, the text checks in engine/sandbox/sizes.py)."""

from __future__ import annotations

import copy
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from engine.errors import ScriptError
from engine.sandbox.policy import compile_source
from engine.sandbox.readonly import ADDRESS, referenced_names
from engine.sandbox.scripts import Sandbox

SANDBOX = Sandbox()
DATA: dict[str, Any] = {
    "items": ["户口簿", "身份证"],
    "cfg": {"approved": False, "members": [{"name": "张三"}]},
    "n": 2,
}


def refused(run: Any, *args: Any) -> ScriptError:
    with pytest.raises(ScriptError) as caught:
        run(*args)
    return caught.value


@pytest.mark.parametrize(
    "expression",
    [
        "items.append('pwned') or len(items) > 0",
        "cfg.update({'approved': True}) is None",
        "cfg['members'].pop() and True",
        "items.sort() or items.reverse() or items.clear() or True",
        "cfg.setdefault('approved', True)",
        "cfg.popitem()",
        "set(items).add('x')",  # even on a temporary: an expression has no business calling it
        "list.append(items, 'pwned')",
        "dict.update(cfg, approved=True)",
        "getattr(items, 'append')('pwned')",
        "[m.update(name='李四') for m in cfg['members']]",
        "(approved := True)",
    ],
)
def test_a_visible_write_is_refused_when_compiled(expression: str) -> None:
    error = refused(SANDBOX.check, expression, "eval")
    assert error.code == "EXPRESSION_WRITES"
    assert "修改数据请用脚本任务" in error.message and error.location.line == 1
    context = copy.deepcopy(DATA)
    assert refused(SANDBOX.evaluate, expression, context).code == "EXPRESSION_WRITES"  # at run time too
    assert context == DATA


def test_scripts_may_still_change_data() -> None:
    SANDBOX.check("items.append('pwned')\ncfg.update(approved=True)", "exec")
    context = copy.deepcopy(DATA)
    SANDBOX.execute("items.append('审核通过')\ncfg.update(approved=True)", context)
    assert context["items"][-1] == "审核通过" and context["cfg"]["approved"] is True


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("getattr(items, 'ap' + 'pend')('pwned') or len(items)", 3),
        ("getattr(cfg, ''.join(['up', 'date']))({'approved': True}) is None and cfg['approved']", True),
        ("min([items], key=lambda l: getattr(l, 'po' + 'p')())", ["户口簿"]),
        ("[getattr(m, 'cl' + 'ear')() for m in cfg['members']] and cfg['members']", [{}]),
        ("getattr(getattr(cfg, 'get')('members'), 'ex' + 'tend')(items) or len(cfg['members'])", 3),
    ],
)
def test_a_write_deploy_cannot_see_changes_only_a_copy(expression: str, expected: Any) -> None:
    context = copy.deepcopy(DATA)
    assert SANDBOX.evaluate(expression, context) == expected  # the expression saw its own write …
    assert context == DATA  # … the data did not


def test_data_objects_handed_in_as_external_context_are_read_only_too() -> None:
    external = {"shared": {"count": 1}}
    assert SANDBOX.evaluate("getattr(shared, 'up' + 'date')(count=9) or shared['count']", {}, external=external) == 9
    assert external == {"shared": {"count": 1}}


def test_the_result_is_not_the_case_data_itself() -> None:
    context = copy.deepcopy(DATA)
    result = SANDBOX.evaluate("cfg['members']", context)
    assert result == DATA["cfg"]["members"]
    result.append({"name": "李四"})  # whoever uses the value (a payload, a connector parameter)
    assert context == DATA


def test_names_are_found_in_lambdas_and_comprehensions() -> None:
    code = compile_source("[x for x in items if any(y > limit for y in sizes)] or (lambda: other)()", "eval")
    assert not isinstance(code, tuple)
    assert {"items", "limit", "sizes", "other"} <= referenced_names(code)


def test_reads_and_non_mutating_methods_still_work() -> None:
    context = copy.deepcopy(DATA)
    expression = "cfg.get('approved') is False and items.count('户口簿') == 1 and items.index('身份证') == 1"
    assert SANDBOX.evaluate(expression, context) is True
    assert SANDBOX.evaluate("sorted(items, reverse=True)[0] + str(n)", context) == "身份证2"
    assert context == DATA


# --- only data becomes text ------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "x = '{0!r}'.format(print)",
        "x = str(print)",
        "x = str(len)",
        "x = repr(len)",  # no repr in the sandbox at all
        "x = f'{sorted}'",
        "x = f'{getattr!r}'",
        "x = '%r' % (getattr,)",
        "x = '%s' % {'f': len}",
        "x = '{f}'.format_map({'f': date})",
        "x = str([len])",
        "x = str(v for v in [1])",
        "print(sorted)\nx = printed",
        "try:\n    {}[sorted]\nexcept KeyError as e:\n    x = str(e)",
        "try:\n    [1].index(sorted)\nexcept ValueError as e:\n    x = str(e)",  # the repr is built in C
        "x = ['ok']\ntry:\n    [1].index(getattr)\nexcept ValueError as e:\n    x.append(e.args[0])",
    ],
)
def test_an_object_repr_never_becomes_case_data(script: str) -> None:
    context: dict[str, Any] = {"kept": "原有数据"}
    error = refused(SANDBOX.execute, script, context)
    assert error.code in ("SCRIPT_FORBIDDEN", "SCRIPT_RUNTIME")
    assert context == {"kept": "原有数据"}
    assert not re.search(r"0x[0-9a-f]{6,}", error.message)  # the refusal does not print it either


def test_data_still_becomes_text() -> None:
    context: dict[str, Any] = {"household": {"members": 3, "income": Decimal("812.50")}, "day": date(2027, 3, 1)}
    script = (
        "a = str(household)\nb = f'{day!r} {household!s}'\nc = '%s/%r' % (day, [1, None, 2.5])\n"
        "try:\n    int('x')\nexcept ValueError as e:\n    d = str(e)\nprint(household)\ne = printed"
    )
    SANDBOX.execute(script, context)
    assert context["a"] == "{'members': 3, 'income': Decimal('812.50')}"
    assert context["b"].startswith("datetime.date(2027, 3, 1) {")
    assert context["c"] == "2027-03-01/[1, None, 2.5]"
    assert context["d"] == "invalid literal for int() with base 10: 'x'"
    assert context["e"].startswith("{'members': 3")


def test_object_reprs_typed_into_a_form_do_not_fail_a_script() -> None:
    remark = "申请人备注：<function f at 0x7f00deadbeef>"  # whatever a citizen types is data
    assert ADDRESS.search(remark)
    context: dict[str, Any] = {"remark": remark}
    SANDBOX.execute("summary = '备注：' + remark[6:]\ncopied = remark", context)
    assert context["summary"] == "备注：<function f at 0x7f00deadbeef>" and context["copied"] == remark
