"""Drawing a compiled form as HTML (Jinja2, autoescaped)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from engine.errors import FieldError
from jiuzhu.web.formrender.attachments import DEFAULT_MAX_BYTES, size_text
from jiuzhu.web.formrender.bind import Binder, with_defaults
from jiuzhu.web.formrender.model import MISSING, Form

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = ("forms.css", "forms.js")  # under jiuzhu/web/static; the page links them

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals["size_text"] = size_text


def action_field(field_prefix: str) -> str:
    """The name of the buttons that add/remove rows, save a draft or submit."""
    return f"{field_prefix}:action"


def render_form(
    form: Form,
    values: Any = None,
    errors: Iterable[FieldError] = (),
    *,
    field_prefix: str = "f",
    submitted: bool = False,
    full: bool = False,
    csrf_token: str | None = None,
    csrf_field: str = "csrf_token",
    action: str | None = None,
    heading: bool = True,
    drafts: bool = True,
    submit_label: str = "提交",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Markup:
    """The form's fields as an HTML fragment, each error under its field and all of them in a summary.

    ``values`` are the task's data on first display (``submitted=False``: the
    schema's defaults fill the gaps) or exactly what was posted back
    (``submitted=True``). ``full=True`` wraps the fields in a ``<form>`` with the
    CSRF field, 提交 and 保存草稿 buttons.
    """
    data: Any = values if isinstance(values, dict) else MISSING
    if not submitted:
        data = with_defaults(form.root, data)
    binder = Binder(form, errors, field_prefix)
    root = binder.bind(form.root, data if data is not MISSING else {}, "", field_prefix, "")
    template = env.get_template("form.html")
    html = template.render(
        root=root,
        summary=binder.summary(root),
        act=action_field(field_prefix),
        full=full,
        multipart=form.has_attachments,
        csrf_token=csrf_token,
        csrf_field=csrf_field,
        action=action,
        heading=heading,
        drafts=drafts,
        submit_label=submit_label,
        max_bytes=max_bytes,
    )
    return Markup(html)
