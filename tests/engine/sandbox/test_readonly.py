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
from engine.sandbox.readonly import ADDRESS
from engine.sandbox.scripts import Sandbox

SANDBOX = Sandbox()
DATA: dict[str, Any] = {
    "items": ["户口簿", "身份证"],
    "cfg": {"approved": False, "members": [{"name": "张三"}]},
    "n": 2,
}


def refused(run: Any, *args: Any) -> ScriptError:
    with pytest.raises(ScriptError) as caught:
        run(*args) if len(args) < 3 else run(*args[:2], external=args[2])
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
    "expression",
    [
        "getattr(items, 'ap' + 'pend')('pwned') or len(items)",
        "getattr(cfg, ''.join(['up', 'date']))({'approved': True}) is None and cfg['approved']",
        "min([items], key=lambda l: getattr(l, 'po' + 'p')())",
        "[getattr(m, 'cl' + 'ear')() for m in cfg['members']] and cfg['members']",
        "getattr(getattr(cfg, 'get')('members'), 'ex' + 'tend')(items) or len(cfg['members'])",
        "sorted(items, key=getattr(items, 'rev' + 'erse'))",
        "'{0.sort}'.format(items) and items",  # fetched by the formatter, but never called
    ],
)
def test_a_write_deploy_cannot_see_is_refused_when_it_runs(expression: str) -> None:
    SANDBOX.check(expression, "eval")  # the name of the method is computed: nothing to see at deploy
    context = copy.deepcopy(DATA)
    try:
        SANDBOX.evaluate(expression, context)
    except ScriptError as error:
        assert error.code in ("EXPRESSION_WRITES", "SCRIPT_FORBIDDEN")
    assert context == DATA


@pytest.mark.parametrize("expression", ["getattr(items, 'ap' + 'pend')('pwned')", "getattr(dict, 'up' + 'date')(cfg)"])
def test_the_refusal_names_the_method(expression: str) -> None:
    error = refused(SANDBOX.evaluate, expression, copy.deepcopy(DATA))
    assert error.code == "EXPRESSION_WRITES" and "修改数据请用脚本任务" in error.message
    assert ("append" if "ap" in expression else "update") in error.message


def test_data_objects_handed_in_as_external_context_are_read_only_too() -> None:
    external = {"shared": {"count": 1}}
    expression = "getattr(shared, 'up' + 'date')(count=9) or shared['count']"
    assert refused(SANDBOX.evaluate, expression, {}, external).code == "EXPRESSION_WRITES"
    assert external == {"shared": {"count": 1}}


def test_the_same_methods_stay_open_to_scripts_through_getattr() -> None:
    context = copy.deepcopy(DATA)
    SANDBOX.execute("getattr(items, 'ap' + 'pend')('审核通过')", context)
    assert context["items"][-1] == "审核通过"


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
