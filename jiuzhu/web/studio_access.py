"""Who enters the studio (流程设计: role ``designer``, and ``admin``), and the
app's one :class:`~jiuzhu.studio.procedures.Studio`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from integrations.sql import SqlStore
from jiuzhu.accounts import ADMIN, DESIGNER
from jiuzhu.studio.procedures import Studio
from jiuzhu.studio.publish import PublishCheck
from jiuzhu.web.auth import Viewer, require_role
from jiuzhu.web.context import web

STUDIO_ROLES = (DESIGNER, ADMIN)
Designer = Annotated[Viewer, Depends(require_role(*STUDIO_ROLES))]


def studio_of(request: Request) -> Studio:
    found: Studio | None = getattr(request.app.state, "studio", None)
    if found is None:
        context = web(request)
        store = context.engine.store
        if not isinstance(store, SqlStore):
            raise TypeError("the studio keeps its drafts in the SQL store")
        found = Studio(context.engine, store.engine, context.settings.processes_dir)
        request.app.state.studio = found
    return found


def publish_checks(request: Request) -> list[PublishCheck]:
    """Checks other parts of the studio register (``app.state.studio_publish_checks``)."""
    return list(getattr(request.app.state, "studio_publish_checks", []))


def draft_files_of(request: Request, process_id: str, designer: str) -> dict[str, bytes] | None:
    """The designer's draft of a procedure as files, or None when there is none."""
    draft = studio_of(request).drafts.get(process_id, designer)
    return {name: text.encode("utf-8") for name, text in draft.files.items()} if draft else None
