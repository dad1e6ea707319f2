"""JSON schema + UI schema → HTML forms, and posted forms → typed JSON the engine accepts.

The task page calls, in order::

    form = compile_ref(task_form_ref)                     # FormRefused if it cannot be drawn faithfully
    html = render_form(form, task_data, full=True, csrf_token=token, action=url)
    # on POST:
    sub = parse_submission(form, await request.form(), attachments=store, current=task_data)
    if sub.action.kind in ("add", "remove"): re-render apply_action(form, sub.data, sub.action), submitted=True
    errors = sub.errors + validate(form, sub.data)          # the engine's own messages, located by path
    if errors: re-render render_form(form, sub.data, errors, submitted=True, ...)   # every value kept

Drafts (:class:`engine.drafts.DraftStore`, SQL: ``integrations.sql.drafts``) keep ``sub.data``
per task and user without completing.
"""

from engine.drafts import Draft, DraftStore
from engine.errors import FieldError
from jiuzhu.web.formrender.attachments import DEFAULT_MAX_BYTES, AttachmentStore, Upload
from jiuzhu.web.formrender.compile import FormRefused, compile_form, compile_ref
from jiuzhu.web.formrender.model import Form
from jiuzhu.web.formrender.parse import Action, Submission, apply_action, parse_submission, validate
from jiuzhu.web.formrender.render import ASSETS, STATIC, action_field, render_form

__all__ = [
    "ASSETS",
    "DEFAULT_MAX_BYTES",
    "STATIC",
    "Action",
    "AttachmentStore",
    "Draft",
    "DraftStore",
    "FieldError",
    "Form",
    "FormRefused",
    "Submission",
    "Upload",
    "action_field",
    "apply_action",
    "compile_form",
    "compile_ref",
    "parse_submission",
    "render_form",
    "validate",
]
