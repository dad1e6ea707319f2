"""The form editor's server half: draw a draft form with the task page's own
renderer, and try sample input with the engine's own checks.

Stateless: the editor sends the schema and UI schema it holds, nothing is
stored. A form the renderer or deploy would refuse comes back as located
problems (the same checks :class:`engine.deploy.forms.FormLoader` runs), so
the designer sees in the editor what publishing would say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import FieldError, Location, Problem
from engine.forms.validate import FormRef, check_form_schema, check_ui_schema
from jiuzhu.web.formrender import FormRefused, compile_ref, handle_post, render_form, render_refusal, show_form
from jiuzhu.web.formrender.bind import Binder
from jiuzhu.web.formrender.model import Form
from jiuzhu.web.formrender.parse import validate

TRY_LABEL = "试填"  # the preview's submit button: it tries the input, it completes nothing


@dataclass(frozen=True)
class Located:
    """A field error of a tried input, with the field's title path for people."""

    path: str
    code: str
    message: str
    label: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message, "label": self.label}


def problem_dict(problem: Problem, severity: str = "error") -> dict[str, Any]:
    """The located shape every studio answer uses (as the draft lint does)."""
    return {**problem.to_dict(), "severity": severity}


def form_problems(schema: Any, ui_schema: Any, *, name: str) -> list[Problem]:
    """What deploy says of this form (:class:`engine.deploy.forms.FormLoader`), then what the renderer refuses."""
    where = Location(file=name)
    found = check_form_schema(schema, location=where)
    if ui_schema is not None:
        found += check_ui_schema(ui_schema, location=where)
    if found:
        return found
    try:
        compile_ref(_ref(schema, ui_schema, name))
    except FormRefused as refused:
        return [Problem(p.code, p.message, Location(file=name, field=p.location.field)) for p in refused.errors]
    return []


def _ref(schema: Any, ui_schema: Any, name: str) -> FormRef:
    ui = ui_schema if isinstance(ui_schema, dict) else None
    ui_name = name.removesuffix("-schema.json") + "-uischema.json" if ui is not None else None
    return FormRef(name, schema, ui_name, ui)


def preview(schema: Any, ui_schema: Any, data: Mapping[str, Any] | None = None, *, name: str) -> dict[str, Any]:
    """``{"html", "problems"}``: the form as the task page draws it (a refusal box when it cannot)."""
    problems = form_problems(schema, ui_schema, name=name)
    if problems:
        html = render_refusal(FormRefused(name, problems))
    else:
        html = show_form(_ref(schema, ui_schema, name), data, drafts=False, submit_label=TRY_LABEL)
    return {"html": str(html), "problems": [problem_dict(p) for p in problems]}


def try_input(
    schema: Any,
    ui_schema: Any,
    *,
    name: str,
    data: Mapping[str, Any] | None = None,
    posted: Sequence[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Validate sample input as completing the task would.

    ``posted`` is what the preview's form holds (name/value pairs), read back
    exactly as the task page reads a post; ``data`` is JSON typed by hand.
    Answers ``{"valid", "data", "errors", "html", "problems"}``: every field
    error located by path and title, and the form redrawn with them.
    """
    problems = form_problems(schema, ui_schema, name=name)
    if problems:
        refusal = render_refusal(FormRefused(name, problems))
        return {"valid": False, "data": None, "errors": [], "html": str(refusal),
                "problems": [problem_dict(p) for p in problems]}  # fmt: skip
    ref = _ref(schema, ui_schema, name)
    form = compile_ref(ref)
    if posted is not None:
        out = handle_post(ref, list(posted), attachments=None, drafts=False, submit_label=TRY_LABEL)
        typed, errors, html = out.data, out.errors, str(out.html)
    else:
        typed = dict(data or {})
        errors = validate(form, typed)
        html = str(render_form(form, typed, errors, submitted=True, full=True, drafts=False, submit_label=TRY_LABEL))
    located = _located(form, typed, errors)
    return {"valid": not located, "data": typed, "errors": [e.to_dict() for e in located], "html": html,
            "problems": []}  # fmt: skip


def _located(form: Form, data: Any, errors: Sequence[FieldError]) -> list[Located]:
    # The renderer's own titles ("家庭成员 第 2 项 · 身份证号"), so the list reads like the form.
    binder = Binder(form, errors, "f")
    binder.bind(form.root, data if isinstance(data, dict) else {}, "", "f", "")
    out = []
    for e in errors:
        placed = binder.placed.get(e.path)
        label = (placed.label or placed.field.title) if placed is not None and e.path else "整个表单"
        out.append(Located(e.path, e.code, e.message, label or e.path))
    return out
