"""身份证号 on pages: masked everywhere, full only where the role may see it,
and then every showing is an audit event on the case's chain."""

from __future__ import annotations

from engine.ports import InstanceRecord
from engine.runtime.task_facts import mask_id
from jiuzhu.web.auth import Viewer, can_see_full_id
from jiuzhu.web.context import WebContext

ID_VIEWED = "id_number_viewed"


def shown_id_number(
    context: WebContext, viewer: Viewer, record: InstanceRecord, value: str | None, *, field: str
) -> str | None:
    """The full number for an authorized viewer (audited), else the mask."""
    if not value:
        return None
    if not can_see_full_id(viewer, record):
        return mask_id(value)
    context.engine.record_access(
        record.id, ID_VIEWED, actor=viewer.username, detail={"field": field, "shown": mask_id(value)}
    )
    return value
