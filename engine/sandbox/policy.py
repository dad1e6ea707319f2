"""Compile-time half of the sandbox: what an expression or script may say.

RestrictedPython's transformer already rewrites attribute, item and iteration
access into calls of guard functions. This policy adds what a process engine
needs on top: no imports or classes, no reading of the system clock, Chinese
messages, guarded memory amplifiers (``*``, ``**``, ``<<``, ``+``, ``%``,
f-string fields, slices and the starred unpacking ``[*s]``, ``{**d}``,
``f(*s)``), a ``_tick_()`` in everything that repeats, and ``try`` statements
that cannot swallow the sandbox's own abort.
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from types import CodeType
from typing import Any, Literal, NamedTuple, cast

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)

from engine.sandbox.readonly import write_in_expression

Mode = Literal["eval", "exec"]
# An expression (condition, timer, parameter…) that visibly changes case data.
WRITE_CODE = "EXPRESSION_WRITES"

# SpiffWorkflow finds the failing line of a script by this frame file name.
FILENAME = "<string>"

NOUN: dict[str, str] = {"eval": "表达式", "exec": "脚本"}

# Names a script may put in ``except``. The list is closed, and none of them may
# be rebound, so evaluating an except clause can never raise: a NameError there
# would replace the sandbox's abort with something an outer handler can catch.
CATCHABLE_EXCEPTIONS: dict[str, type[Exception]] = {
    name: getattr(builtins, name)
    for name in """
        Exception ArithmeticError AssertionError AttributeError IndexError KeyError LookupError NameError
        OverflowError RuntimeError TypeError ValueError ZeroDivisionError
    """.split()
}

FORBIDDEN_NAMES = frozenset(
    """
    open exec eval compile globals locals vars dir breakpoint setattr delattr super memoryview input help exit quit
    """.split()
)

# The engine never reads the wall clock itself (engine/clock.py) and neither may a
# script: refused at deploy time by attribute name, whatever the object, so a
# model cannot deploy and then fail mid-instance (the guards refuse them at run
# time too, for getattr with a computed name).
CLOCK_ATTRIBUTES = frozenset({"now", "today", "utcnow", "fromtimestamp", "utcfromtimestamp"})
CLOCK_REFUSAL = "不允许读取系统时钟"

GUARDED_BINOPS: dict[type[ast.operator], str] = {
    ast.Mult: "*",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.Add: "+",
    ast.Mod: "%",
}


class Refusal(NamedTuple):
    code: str  # SCRIPT_SYNTAX | SCRIPT_FORBIDDEN | EXPRESSION_WRITES
    message: str
    line: int | None
    clock: bool = False  # the message still lacks its hint at the alternatives and its line


def at_line(line: int | None) -> str:
    return f"（第 {line} 行）" if line else ""


def _name(id_: str) -> ast.Name:
    return ast.Name(id_, ast.Load())


def _call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(_name(func), list(args), [])


def _tick_statement(node: ast.stmt) -> ast.Expr:
    statement = ast.Expr(_call("_tick_"))
    copy_locations(statement, node)
    return statement


def _sliced(node: ast.AST) -> bool:
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)


def _unpacks_into_slice(target: ast.AST) -> bool:
    """``a, s[:] = …`` or ``for s[:] in …``: a slice assigned an element in C, out of the guards' sight."""
    if isinstance(target, ast.Tuple | ast.List):
        return any(_unpacks_into_slice(e) for e in target.elts)
    if isinstance(target, ast.Starred):
        return _unpacks_into_slice(target.value)
    return _sliced(target)


def _catchable(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Name):
        return node.id in CATCHABLE_EXCEPTIONS
    if isinstance(node, ast.Tuple):
        return bool(node.elts) and all(_catchable(e) for e in node.elts)
    return False


class SandboxPolicy(RestrictingNodeTransformer):
    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name is None:
            return
        if name.startswith("_") and name != "_":
            self.error(node, f"不允许使用以下划线开头的名称 {name}")
        elif name in FORBIDDEN_NAMES:
            self.error(node, f"不允许使用 {name}")
        elif name in CATCHABLE_EXCEPTIONS:
            self.error(node, f"不能把内置异常名 {name} 用作变量名")
        else:
            super().check_name(node, name, allow_magic_methods)

    def visit_Name(self, node: ast.Name) -> Any:
        if isinstance(node.ctx, ast.Load) and node.id in CATCHABLE_EXCEPTIONS:
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_") or node.attr in INSPECT_ATTRIBUTES:
            self.error(node, f"不允许访问属性 {node.attr}")
            return node
        if node.attr in CLOCK_ATTRIBUTES:
            owner = f"{node.value.id}." if isinstance(node.value, ast.Name) else ""
            self.error(node, f"{CLOCK_REFUSAL}（{owner}{node.attr}）")
            return node
        return super().visit_Attribute(node)

    def visit_Call(self, node: ast.Call) -> Any:
        func = node.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
            self.error(node, f"不允许调用 {func.id}()")
            return node
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) > 1:
            attr = node.args[1]
            if isinstance(attr, ast.Constant) and isinstance(attr.value, str) and attr.value.startswith("_"):
                self.error(node, f"不允许访问属性 {attr.value}")
            elif isinstance(attr, ast.Constant) and attr.value in CLOCK_ATTRIBUTES:
                self.error(node, f"{CLOCK_REFUSAL}（{attr.value}）")
        return super().visit_Call(node)

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "不允许导入模块")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "不允许导入模块")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "不允许定义类")
        return node

    def visit_With(self, node: ast.With) -> Any:
        self.error(node, "不允许使用 with 语句")
        return node

    def visit_Try(self, node: ast.Try) -> Any:
        # A return, break or continue in a finally block swallows the abort.
        if node.finalbody:
            self.error(node, "不允许使用 finally")
        return super().visit_Try(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        if not _catchable(node.type):
            self.error(node, "只能在 except 后写明具名的内置异常，例如 except ValueError")
        return super().visit_ExceptHandler(node)

    # Everything that can repeat calls _tick_ (see engine.sandbox.watch).

    def visit_For(self, node: ast.For) -> Any:
        if _unpacks_into_slice(node.target):
            self.error(node, "不允许用切片作循环变量")
            return node
        node = cast(ast.For, super().visit_For(node))
        node.body.insert(0, _tick_statement(node))
        return node

    def visit_While(self, node: ast.While) -> Any:
        node = cast(ast.While, super().visit_While(node))
        node.body.insert(0, _tick_statement(node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        node = cast(ast.FunctionDef, super().visit_FunctionDef(node))
        node.body.insert(0, _tick_statement(node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node = cast(ast.Lambda, super().visit_Lambda(node))
        node.body = ast.BoolOp(ast.And(), [_call("_tick_"), node.body])  # _tick_() is always True
        copy_locations(node.body, node)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        if _unpacks_into_slice(node.target):
            self.error(node.target, "不允许用切片作循环变量")
            return node
        node = cast(ast.comprehension, super().visit_comprehension(node))
        tick = _call("_tick_")
        copy_locations(tick, node.iter)
        node.ifs.insert(0, tick)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        op = GUARDED_BINOPS.get(type(node.op))
        if op is None:
            return node
        call = _call("_binop_", ast.Constant(op), node.left, node.right)
        copy_locations(call, node)
        return call

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        """``a[k] op= v`` becomes ``t, u = a, k; _write_(t)[u] = _inplacevar_(op, t[u], v)``."""
        target = node.target
        if not isinstance(target, ast.Subscript):
            return super().visit_AugAssign(node)
        obj, key = self.gen_tmp_name(), self.gen_tmp_name()
        value = _call(
            "_inplacevar_",
            ast.Constant(IOPERATOR_TO_STR[type(node.op)]),
            _call("_getitem_", _name(obj), _name(key)),
            self.visit(node.value),
        )
        store = ast.Subscript(_call("_write_", _name(obj)), _name(key), ast.Store())
        statements: list[ast.stmt] = [
            ast.Assign([ast.Name(obj, ast.Store())], self.visit(target.value)),
            ast.Assign([ast.Name(key, ast.Store())], self.visit(target.slice)),
            ast.Assign([store], value),
            ast.Delete([ast.Name(obj, ast.Del()), ast.Name(key, ast.Del())]),
        ]
        for statement in statements:
            copy_locations(statement, node)
        return statements

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = self.node_contents_visit(node)
        if isinstance(node.value, ast.Constant) and node.format_spec is None:
            return node
        # f"{x:>{width}}" pads and f"{rows}" prints a whole structure, in C: _format_ checks the size first.
        spec = node.format_spec or ast.Constant("")
        node.value = _call("_format_", node.value, ast.Constant(node.conversion), spec)
        copy_locations(node.value, node)
        node.conversion, node.format_spec = -1, None
        return node

    # Single C calls that build a container as big as what they are given: sized first.

    def visit_Starred(self, node: ast.Starred) -> Any:
        """``[*s]``, ``(*s,)``, ``{*s}``, ``f(*s)``: ``*_starred_(s)``; targets (``a, *b = s``) stay."""
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_starred_", node.value)
            copy_locations(node.value, node)
        return node

    def visit_Set(self, node: ast.Set) -> Any:
        """``{*s}``: ``{*_starred_(s, True)}``, sized as set entries."""
        node = self.node_contents_visit(node)
        for element in node.elts:
            if isinstance(element, ast.Starred) and isinstance(element.value, ast.Call):
                flag = ast.Constant(True)
                copy_locations(flag, element)
                element.value.args.append(flag)
        return node

    def visit_Dict(self, node: ast.Dict) -> Any:
        """``{**d}``: ``{**_starred_map_(d)}``."""
        node = self.node_contents_visit(node)
        for i, key in enumerate(node.keys):
            if key is None:
                node.values[i] = _call("_starred_map_", node.values[i])
                copy_locations(node.values[i], node)
        return node

    def visit_keyword(self, node: ast.keyword) -> Any:
        """``f(**d)``: ``f(**_starred_map_(d))``."""
        node = self.node_contents_visit(node)
        if node.arg is None:
            node.value = _call("_starred_map_", node.value)
            copy_locations(node.value, node)
        return node

    def visit_Assign(self, node: ast.Assign) -> Any:
        """``s[a:b] = it`` consumes `it` in C: ``s[a:b] = _starred_(it)``."""
        if any(isinstance(t, ast.Tuple | ast.List) and _unpacks_into_slice(t) for t in node.targets):
            self.error(node, "不允许在解包赋值中给切片赋值")
            return node
        new = super().visit_Assign(node)
        for statement in new if isinstance(new, list) else [new]:
            if isinstance(statement, ast.Assign) and any(_sliced(t) for t in statement.targets):
                statement.value = _call("_starred_", statement.value)
                copy_locations(statement.value, statement)
        return new

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        """``s[a:b]`` copies in C: ``_getslice_(s, slice(a, b))``; plain ``s[k]`` stays ``_getitem_``."""
        sliced = isinstance(node.slice, ast.Slice) and isinstance(node.ctx, ast.Load)
        new = super().visit_Subscript(node)
        if sliced and isinstance(new, ast.Call) and isinstance(new.func, ast.Name):
            new.func.id = "_getslice_"
        return new


_LINE = re.compile(r"Line (\w+): (.*)", re.S)


# Python's own words for the syntax errors a designer meets most, in Chinese; the rest are
# shown as Python says them.
_SYNTAX_WORDS = (
    ("invalid syntax", "写法无效"),
    ("was never closed", "括号没有闭合"),
    ("unmatched", "括号不成对"),
    ("does not match opening parenthesis", "括号不成对"),
    ("unterminated string literal", "字符串缺少结束引号"),
    ("unterminated triple-quoted string literal", "字符串缺少结束引号"),
    ("unexpected EOF", "内容不完整"),
    ("unexpected indent", "缩进多余"),
    ("expected an indented block", "缺少缩进的代码块"),
    ("unindent does not match", "缩进不一致"),
    ("expected ':'", "缺少冒号"),
    ("invalid decimal literal", "数字写法有误"),
    ("cannot assign to", "不能给它赋值"),
    ("source code string cannot contain null bytes", "含有空字符（NUL）"),
)


def syntax_words(detail: str) -> str:
    """``写法无效（invalid syntax）``: Python's message in Chinese, the original kept for searching."""
    for english, chinese in _SYNTAX_WORDS:
        if english in detail:
            return f"{chinese}（{detail}）"
    return detail


@functools.lru_cache(maxsize=4096)
def compile_source(source: str, mode: Mode) -> CodeType | Refusal:
    """Compile under the policy; cached because the same conditions run on every gateway."""
    noun = NOUN[mode]
    try:
        if mode == "eval":
            # Like builtin eval(), which SpiffWorkflow uses: leading blanks are fine.
            tree = ast.parse(source.lstrip(" \t"), FILENAME, "eval")
            write = write_in_expression(tree)
            if write is not None:
                return Refusal(WRITE_CODE, f"{write[0]}；修改数据请用脚本任务{at_line(write[1])}", write[1])
            result = compile_restricted_eval(tree, FILENAME, policy=SandboxPolicy)
        else:
            result = compile_restricted_exec(ast.parse(source, FILENAME, "exec"), FILENAME, policy=SandboxPolicy)
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes in the source
        line = getattr(exc, "lineno", None)
        detail = syntax_words(getattr(exc, "msg", str(exc)))
        where = f"第 {line} 行" if line else ""
        return Refusal("SCRIPT_SYNTAX", f"{noun}{where}有语法错误：{detail}", line)
    except RecursionError:
        return Refusal("SCRIPT_SYNTAX", f"{noun}嵌套层数过多", None)
    if not result.errors:
        return cast(CodeType, result.code)  # never None without errors
    match = _LINE.match(result.errors[0])
    line = int(match.group(1)) if match and match.group(1).isdigit() else None
    detail = match.group(2) if match else result.errors[0]
    if detail.isascii():  # one of RestrictedPython's own English messages
        detail = f"包含不允许的写法：{detail}"
    if detail.startswith(CLOCK_REFUSAL):  # the Sandbox knows which helpers to point to instead
        return Refusal("SCRIPT_FORBIDDEN", f"{noun}{detail}", line, clock=True)
    return Refusal("SCRIPT_FORBIDDEN", f"{noun}{detail}{at_line(line)}", line)
