"""Values and errors laid onto a compiled form: the tree the templates draw."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.errors import FieldError
from engine.forms.keywords import with_form_keywords
from engine.forms.validate import FORMAT_CHECKER
from jiuzhu.web.formrender.compile import validator_class
from jiuzhu.web.formrender.conditions import client_spec, gate_open
from jiuzhu.web.formrender.model import MISSING, Field, Form, value_text


@dataclass
class Bound:
    field: Field
    path: str  # data path as engine errors name it: "members/0/id_number"
    name: str  # the posted name
    id: str
    label: str  # titles from the root, for the error summary
    value: Any = MISSING
    errors: list[str] = dataclasses.field(default_factory=list)
    visible: bool = True
    when: str | None = None  # JSON the browser evaluates to toggle the field
    children: list[Bound] = dataclasses.field(default_factory=list)
    rows: list[Bound] = dataclasses.field(default_factory=list)
    template: Bound | None = None
    token: str = ""  # index placeholder in the template row

    @property
    def text(self) -> str:
        return value_text(self.value)

    @property
    def selected(self) -> set[str]:
        return {value_text(v) for v in self.value} if isinstance(self.value, list) else set()

    @property
    def index(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass
class Summary:
    label: str
    message: str
    anchor: str | None


def escape_key(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def child_name(name: str, key: str) -> str:
    return f"{name}/{escape_key(key)}"


def _join(path: str, key: str) -> str:
    return f"{path}/{key}" if path else key


def _id(name: str) -> str:
    return "jz-" + re.sub(r"[^\w-]", "-", name)


def token(depth: int) -> str:
    return f"__jz{depth}__"


def with_defaults(f: Field, value: Any) -> Any:
    """``value`` with the schema's defaults filled in where nothing was given (a fresh form, a new row)."""
    if value is MISSING and f.default is not MISSING:
        value = copy.deepcopy(f.default)
    if f.kind == "object":
        out = dict(value) if isinstance(value, dict) else {}
        for child in f.children:
            filled = with_defaults(child, out.get(child.key, MISSING) if child.key else MISSING)
            if filled is not MISSING and child.key:
                out[child.key] = filled
        return out if out or value is not MISSING else MISSING
    if f.kind == "array" and f.item is not None and isinstance(value, list):
        return [with_defaults(f.item, row) for row in value]
    return value


class Binder:
    def __init__(self, form: Form, errors: Iterable[FieldError], prefix: str) -> None:
        schema = form.ref.schema
        self.validator = with_form_keywords(validator_class(schema))(schema, format_checker=FORMAT_CHECKER)
        self.prefix = prefix
        self.errors: dict[str, list[str]] = {}
        self.all_errors = list(errors)
        for e in self.all_errors:
            self.errors.setdefault(e.path, []).append(e.message)
        self.placed: dict[str, Bound] = {}

    def bind(self, f: Field, value: Any, path: str, name: str, label: str, *, live: bool = True) -> Bound:
        b = Bound(f, path, name, _id(name), label, value)
        if live:
            b.errors = self.errors.get(path, [])
            self.placed.setdefault(path, b)
        if f.kind == "object":
            obj = value if isinstance(value, dict) else {}
            for child in f.children:
                key = child.key or ""
                sub = self.bind(
                    child, obj.get(key, MISSING), _join(path, key), child_name(name, key),
                    f"{label} · {child.title}" if label else child.title, live=live,
                )  # fmt: skip
                if child.gates:
                    sub.visible = any(gate_open(g, obj, self.validator) for g in child.gates) or bool(sub.errors)
                    spec = client_spec(child.gates)
                    sub.when = json.dumps(spec, ensure_ascii=False) if spec is not None else None
                b.children.append(sub)
        elif f.kind == "array" and f.item is not None:
            item, rows = f.item, value if isinstance(value, list) else []
            for i, row in enumerate(rows):
                b.rows.append(
                    self.bind(item, row, _join(path, str(i)), f"{name}/{i}", f"{label} 第 {i + 1} 项", live=live)
                )
            b.token = token(f.depth)
            fresh = with_defaults(item, MISSING)
            b.template = self.bind(item, fresh, _join(path, b.token), f"{name}/{b.token}", label, live=False)
        return b

    def summary(self, root: Bound) -> list[Summary]:
        out = []
        for e in self.all_errors:
            b = self.placed.get(e.path)
            if b is not None and b is not root:
                out.append(Summary(b.label or b.field.title, e.message, b.id))
            else:
                out.append(Summary(e.path or "表单", e.message, None))
        return out
