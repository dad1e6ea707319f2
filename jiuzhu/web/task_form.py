"""The one seam between the task page and the form renderer.

``render_task_form`` turns a task's form (JSON schema + UI schema), the values
to show and the field errors into HTML; ``read_task_form`` turns the posted
fields back into the JSON the engine validates. This is a deliberately small
placeholder (top-level fields; objects and arrays as JSON text) until the
JSON-schema renderer (``webforms``) replaces these two functions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape
from starlette.datastructures import FormData

from engine.errors import FieldError
from engine.forms import FormRef


def _fields(form: FormRef | None) -> list[tuple[str, dict[str, Any]]]:
    if form is None:
        return []
    props: dict[str, Any] = form.schema.get("properties", {})
    order = (form.ui_schema or {}).get("ui:order") or list(props)
    return [(name, props[name]) for name in order if name in props]


def render_task_form(form: FormRef | None, values: Mapping[str, Any], errors: Sequence[FieldError]) -> Markup:
    by_field: dict[str, list[str]] = {}
    for e in errors:
        by_field.setdefault(e.path.split("/")[0], []).append(e.message)
    parts = []
    for name, spec in _fields(form):
        title = escape(spec.get("title", name))
        value = values.get(name)
        kind = spec.get("type")
        field_id = f"f_{name}"
        if "enum" in spec:
            options = "".join(
                f'<option value="{escape(json.dumps(o, ensure_ascii=False))}"'
                f"{' selected' if o == value else ''}>{escape(o)}</option>"
                for o in spec["enum"]
            )
            control = f'<select id="{field_id}" name="{name}"><option value=""></option>{options}</select>'
        elif kind == "boolean":
            checked = " checked" if value else ""
            control = f'<input id="{field_id}" type="checkbox" name="{name}" value="true"{checked}>'
        elif kind in ("object", "array"):
            text = "" if value is None else json.dumps(value, ensure_ascii=False, indent=1)
            control = f'<textarea id="{field_id}" name="{name}" rows="4" data-json="1">{escape(text)}</textarea>'
        else:
            html_type = "number" if kind in ("number", "integer") else "text"
            step = ' step="any"' if kind == "number" else ""
            shown = "" if value is None else escape(value)
            control = f'<input id="{field_id}" type="{html_type}"{step} name="{name}" value="{shown}">'
        messages = "".join(f'<span class="field-error">{escape(m)}</span>' for m in by_field.get(name, []))
        parts.append(f'<label for="{field_id}">{title} {control}</label>{messages}')
    general = "".join(f'<p class="field-error">{escape(m)}</p>' for m in by_field.get("", []))
    return Markup(general + "".join(parts))


def read_task_form(form: FormRef | None, posted: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, spec in _fields(form):
        raw = posted.get(name)
        kind = spec.get("type")
        if kind == "boolean":
            data[name] = raw == "true"
            continue
        if not isinstance(raw, str) or raw == "":
            continue
        if "enum" in spec or kind in ("object", "array"):
            try:
                data[name] = json.loads(raw)
            except ValueError:
                data[name] = raw  # the schema check names the field
        elif kind in ("number", "integer"):
            try:
                number = float(raw)
                data[name] = int(number) if kind == "integer" and number.is_integer() else number
            except ValueError:
                data[name] = raw
        else:
            data[name] = raw
    return data
