"""The two calls a task page makes: draw the task's form, and handle what the browser posted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from engine.errors import FieldError
from engine.forms.validate import FormRef
from engine.ports import Draft
from jiuzhu.web.formrender.attachments import DEFAULT_MAX_BYTES, AttachmentStore
from jiuzhu.web.formrender.compile import FormRefused, compile_ref
from jiuzhu.web.formrender.parse import Action, apply_action, parse_submission, validate
from jiuzhu.web.formrender.render import env, render_form


@dataclass
class Outcome:
    """What a post asked for, and the redrawn form to show unless it completes the task."""

    data: dict[str, Any]  # typed, as posted (rows added/removed applied); a draft saves this
    action: Action
    errors: list[FieldError]
    html: Markup

    @property
    def complete(self) -> bool:
        """Submit with no field errors: complete the task with ``data``."""
        return self.action.kind == "submit" and not self.errors

    @property
    def save_draft(self) -> bool:
        return self.action.kind == "draft"


def render_refusal(refused: FormRefused) -> Markup:
    return Markup(env.get_template("refused.html").render(refused=refused))


def show_form(
    ref: FormRef, values: Mapping[str, Any] | None = None, *, draft: Draft | None = None, **options: Any
) -> Markup:
    """The task's form filled with ``values`` (the task data) or the user's ``draft``.

    A form that cannot be drawn faithfully comes back as a box naming the file and pointer of each reason.

    ``options`` go to :func:`render_form` (``csrf_token``, ``action``, ``field_prefix``, ``full`` defaults to True).
    """
    try:
        form = compile_ref(ref)
    except FormRefused as refused:
        return render_refusal(refused)
    options.setdefault("full", True)
    if draft is not None:
        return render_form(form, draft.data, submitted=True, **options)
    return render_form(form, dict(values or {}), **options)


def handle_post(
    ref: FormRef,
    posted: Any,
    *,
    attachments: AttachmentStore | None,
    current: Mapping[str, Any] | None = None,
    field_prefix: str = "f",
    max_bytes: int = DEFAULT_MAX_BYTES,
    extra_errors: Iterable[FieldError] = (),
    **options: Any,
) -> Outcome:
    """Read the post, apply a row button, validate a submit as the engine will, and redraw the form.

    Raises :class:`FormRefused` for a form that cannot be drawn (nothing was offered to post).
    """
    form = compile_ref(ref)
    sub = parse_submission(
        form, posted, field_prefix=field_prefix, attachments=attachments, current=current, max_bytes=max_bytes
    )
    data = apply_action(form, sub.data, sub.action)
    errors = list(sub.errors) + list(extra_errors)
    if sub.action.kind == "submit":
        errors += validate(form, data)
    options.setdefault("full", True)
    html = render_form(form, data, errors, field_prefix=field_prefix, submitted=True, max_bytes=max_bytes, **options)
    return Outcome(data, sub.action, errors, html)
