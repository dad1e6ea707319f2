"""Publish a draft: a new immutable version of the procedure.

Refused while the draft's lint (deploy's own checks) finds an error, while any
publish check (``app.state.studio_publish_checks``: the procedure's scenarios,
say) finds a problem, or when the draft is the version it started from. The
files are then deployed as ``POST /api/deployments`` deploys an upload
(:func:`jiuzhu.wiring.deploy_sources`): policies first, then the models with
their forms; the policies, decision rules and scenarios are stored with the
version too, so its files stay what it was published with. The system chain's ``deployment_created`` event records who,
when, the content hash and the change note. Running cases keep the version
they started on; new ones take this one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.errors import DeploymentRefused, InvalidRequestError, Location, Problem
from jiuzhu.studio.drafts import Draft
from jiuzhu.studio.layout import version_files
from jiuzhu.studio.lint import check, sources
from jiuzhu.studio.procedures import Studio
from jiuzhu.wiring import deploy_sources

PublishCheck = Callable[[str, dict[str, bytes]], list[dict[str, Any]]]
NOTE_LIMIT = 500


def _problem(raw: dict[str, Any]) -> Problem:
    where = Location(raw.get("file"), raw.get("element_id"), None, raw.get("field"))
    return Problem(str(raw.get("code") or "STUDIO_CHECK_FAILED"), str(raw.get("message") or ""), where)


def publish(
    studio: Studio, draft: Draft, *, note: str, actor: str, checks: Sequence[PublishCheck] = ()
) -> dict[str, Any]:
    note = note.strip()
    if not note or len(note) > NOTE_LIMIT:
        message = f"请填写变更说明（1–{NOTE_LIMIT} 个字），它与版本一起记入审计"
        raise InvalidRequestError(message, code="STUDIO_NOTE_REQUIRED", location=Location(field="note"))
    pid = draft.process_id
    folder = studio.folder(pid)
    if draft.base_version is not None:
        base = version_files(studio.engine, studio.processes_dir, pid, draft.base_version)
        latest = max(v.version for v in studio.engine.versions(pid))
        if base.files == draft.files and draft.base_version == latest:
            message = f"草稿与已发布的 v{draft.base_version} 相同，无需发布"
            raise InvalidRequestError(message, code="STUDIO_NOTHING_TO_PUBLISH")
    _deployment, problems = check(studio.engine, pid, draft.files, folder)
    if not problems:
        raw = {name: text.encode("utf-8") for name, text in draft.files.items()}
        for each in checks:
            problems += [_problem(p) for p in each(pid, raw)]
    if problems:
        raise DeploymentRefused(problems)
    result, _loaded = deploy_sources(studio.engine, sources(draft.files, folder), actor=actor, note=note)
    version = next((v for v in result.versions if v.process_id == pid), None) if result else None
    if result is None or version is None or not result.created:
        shown = f"v{version.version}" if version else "已有版本"
        message = f"这些文件已作为 {shown} 发布过，内容完全相同"
        raise InvalidRequestError(message, code="STUDIO_ALREADY_PUBLISHED")
    # The draft goes on from the new version; its next revision is the editor's to save against.
    after = studio.drafts.replace(draft, draft.files, None, base_version=version.version)
    return {
        "process_id": pid,
        "version": version.version,
        "content_hash": result.content_hash,
        "published_by": actor,
        "published_at": version.created_at.isoformat(),
        "note": note,
        "warnings": [w.to_dict() for w in result.warnings],
        "revision": after.revision,
    }
