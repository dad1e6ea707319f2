"""What a compiled form is made of: a tree of fields the templates draw and the parser reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.forms.validate import FormRef


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __deepcopy__(self, memo: Any) -> _Missing:
        return self  # one sentinel, compared with ``is``


MISSING: Any = _Missing()  # "no value", distinct from null, false and ""

SCALARS = {"text", "textarea", "number", "date", "select", "radio", "checkbox", "hidden"}


@dataclass(frozen=True)
class Option:
    value: Any
    text: str  # what the browser posts
    label: str


@dataclass(frozen=True)
class Gate:
    """One reason a field is shown: an ``if`` that holds (or fails, for ``else``), or a filled trigger field."""

    kind: str  # "then" | "else" | "present"
    schema: Any = None  # the ``if`` schema, evaluated by the same validator the engine uses
    trigger: str | None = None
    client: tuple[dict[str, Any], ...] | None = None  # clauses the browser can test; None: server only


@dataclass
class Field:
    kind: str  # text textarea number date select radio checkbox hidden object array checkboxes attachment
    key: str | None
    pointer: str  # JSON pointer into the schema, for messages
    json_type: str = "string"
    title: str = ""
    description: str = ""
    help: str = ""
    placeholder: str = ""
    required: bool = False
    read_only: bool = False
    default: Any = MISSING
    input_type: str = "text"
    input_mode: str | None = None
    money: bool = False
    rows: int | None = None
    step: str | None = None
    inline: bool = False
    multiple: bool = False  # checkboxes drawn as a <select multiple>
    autocomplete: str | None = None
    autofocus: bool = False
    empty_value: Any = MISSING  # ui:emptyValue: what an empty input means (default: not given)
    options: list[Option] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    item: Field | None = None
    depth: int = 0  # array nesting, names the index placeholder of new rows
    addable: bool = True
    removable: bool = True
    accept: tuple[str, ...] = ()
    max_bytes: int | None = None

    def option_for(self, text: str) -> Option | None:
        return next((o for o in self.options if o.text == text), None)


@dataclass
class Form:
    """A schema + UI schema the renderer can draw faithfully (see :func:`compile_form`)."""

    ref: FormRef
    root: Field

    @property
    def source(self) -> str:
        return self.ref.schema_file

    @property
    def has_attachments(self) -> bool:
        """The page must post ``multipart/form-data``."""

        def walk(f: Field) -> bool:
            return f.kind == "attachment" or any(map(walk, f.children)) or (f.item is not None and walk(f.item))

        return walk(self.root)


def value_text(value: Any) -> str:
    """A JSON scalar as an input shows and posts it."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f") if value == value else repr(value)
    return str(value)
