"""What a script may leave in the task data: storable as JSON, bounded in size,
and free of object reprs (see :meth:`engine.sandbox.scripts.Sandbox.execute`)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from engine.sandbox.readonly import ADDRESS
from engine.sandbox.watch import Abort, Watch

__all__ = ["Storable"]

# What may stay in task data after a script: what the serializer can store.
_PLAIN = (str, int, float, bool, type(None), Decimal, date, timedelta, UUID)
_MAX_DEPTH = 100


def _key_text(key: Any) -> str:
    if isinstance(key, int | float | type(None)):
        return repr(key)
    return f"{type(key).__name__} 类型的键"


class Storable:
    """Decides what a script leaves in the task data, inside the run's CPU budget.

    A value that cannot be stored at all (a set, a function…) is dropped, as
    before. One that would be stored wrongly is
    refused: a non-string dict key (``{1: 'a', 'b': 2}`` breaks canonical JSON,
    ``{1: 'a'}`` comes back as ``{'1': 'a'}``) or a non-finite float (JSON has
    none). And the total, about as serialized, must stay under `limit`. Every
    container counts a byte per element before its elements are walked, so
    the walk itself is bounded by `limit` too.
    """

    def __init__(self, limit: int, watch: Watch, known: frozenset[str] = frozenset()) -> None:
        self.limit = limit
        self.watch = watch
        # Object reprs already in the data before the script (typed into a form): not the script's doing.
        self.known = known
        self.size = 0

    def keep(self, name: str, value: Any) -> bool:
        """Whether `value`, the variable `name`, may stay; raises Abort if it must not be dropped silently."""
        size, limit, nodes = self.size, self.limit, 0
        todo: list[tuple[Any, int]] = [(value, 0)]
        while todo:
            value, depth = todo.pop()
            kind = type(value)
            if kind is str:
                size += len(value) * (1 if value.isascii() else 3) + 3
                if "at 0x" in value and any(found not in self.known for found in ADDRESS.findall(value)):
                    self._leak(name)
            elif kind is int:
                size += value.bit_length() // 3 + 3
            elif kind is bool or value is None:
                size += 5
            elif kind is float:
                if not math.isfinite(value):
                    self._refuse(name, f"任务数据中的浮点数必须是有限值：{value!r}")
                size += 25
            elif kind is dict or kind is list or kind is tuple or isinstance(value, dict | list | tuple):
                if depth > _MAX_DEPTH:  # also ends self-containing lists
                    return False
                size += 2 + len(value)
                if size > limit:
                    self._too_big(name)
                nodes += len(value)
                if nodes > 4096:
                    nodes = 0
                    self.watch.check_cpu()
                if isinstance(value, dict):
                    for key in value:
                        if type(key) is not str:
                            self._refuse(name, f"任务数据的键必须是字符串：{_key_text(key)}")
                        size += len(key) * (1 if key.isascii() else 3) + 3
                    todo.extend((item, depth + 1) for item in value.values())
                else:
                    todo.extend((item, depth + 1) for item in value)
            elif isinstance(value, Decimal):
                size += len(str(value)) + 40
            elif isinstance(value, _PLAIN):  # date, datetime, timedelta, UUID (or a subclass of str, int…)
                size += 48
            else:
                return False
            if size > limit:
                self._too_big(name)
        self.size = size
        return True

    def _too_big(self, name: str) -> None:
        raise Abort(
            "SCRIPT_MEMORY",
            f"留在任务数据中的数据过大：超过 {self.limit} 字节（变量 {name}）；"
            "请只保留流程后续需要的结果，中间数据用完即删",
        )

    @staticmethod
    def _leak(name: str) -> None:
        # What the text conversions cannot see: a message built in C (``[1].index(sorted)``) names an object.
        raise Abort(
            "SCRIPT_FORBIDDEN",
            f"留在任务数据中的文本含有程序内部对象的表示（内存地址），不能存入案件数据（变量 {name}）",
        )

    @staticmethod
    def _refuse(name: str, problem: str) -> None:
        raise Abort("SCRIPT_RUNTIME", f"运行出错：{problem}（变量 {name}）")
