"""JSON schema + UI schema → HTML forms, and posted forms → typed JSON the engine accepts.

A task page needs two calls (:mod:`.page`)::

    html = show_form(info.form, task_data, draft=drafts.load(task_id, user), csrf_token=token, action=url)
    out = handle_post(info.form, await request.form(), attachments=store, current=task_data,
                      csrf_token=token, action=url)
    if out.complete:     engine.complete_task(instance_id, task_id, out.data, ...); drafts.discard(task_id, user)
    elif out.save_draft: drafts.save(Draft(task_id, user, out.data, clock.now(), instance_id)); show out.html
    else:                show out.html   # errors at their fields, rows added/removed, every value kept

Underneath: :func:`compile_ref` (:class:`FormRefused` if the form cannot be drawn
faithfully), :func:`render_form`, :func:`parse_submission`, :func:`validate`
(the engine's own messages) and :func:`apply_action`. Drafts:
:class:`engine.ports.DraftStore`, SQL in ``integrations.sql.drafts``.
Link ``/static/forms.css`` and ``/static/forms.js`` (:data:`ASSETS`, under :data:`STATIC`).
"""

from engine.errors import FieldError
from engine.ports import Draft, DraftStore
from jiuzhu.web.formrender.attachments import DEFAULT_MAX_BYTES, AttachmentStore, Upload
from jiuzhu.web.formrender.compile import FormRefused, compile_form, compile_ref
from jiuzhu.web.formrender.model import Form
from jiuzhu.web.formrender.page import Outcome, handle_post, render_refusal, show_form
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
    "Outcome",
    "Submission",
    "Upload",
    "action_field",
    "apply_action",
    "compile_form",
    "compile_ref",
    "handle_post",
    "parse_submission",
    "render_form",
    "render_refusal",
    "show_form",
    "validate",
]
