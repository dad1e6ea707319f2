"""``/api/studio``: the designer studio's drafts, lint, publish and versions
(role ``designer`` or ``admin``; :data:`jiuzhu.web.api_guard.API_RULES`).

A draft's file is saved with its text as the request body and the revision it
was edited from in ``If-Match``; the answer carries the new revision and the
draft's lint, so every change is linted by deploy's own checks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from engine.errors import InvalidRequestError, Location
from jiuzhu.api_common import Caller
from jiuzhu.api_hygiene import errors
from jiuzhu.studio.drafts import check_file_name
from jiuzhu.studio.layout import version_files
from jiuzhu.studio.lint import lint
from jiuzhu.studio.procedures import versions_json
from jiuzhu.studio.publish import NOTE_LIMIT, publish
from jiuzhu.studio.scenario_files import placed
from jiuzhu.web.studio_access import publish_checks, studio_of

FILE_BODY = {"requestBody": {"required": True, "description": "文件全文（UTF-8）",
                             "content": {"text/plain": {"schema": {"type": "string"}}}}}  # fmt: skip


# A version number as the database holds it (a larger one would overflow the column, not be absent).
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="版本号")]


class PublishRequest(BaseModel):
    note: str = Field(min_length=1, max_length=NOTE_LIMIT, description="变更说明，与版本一起记入审计")


def _revision(raw: str | None) -> int | None:
    if raw is None:
        return None
    text = raw.strip().strip('"')
    if not text.isdigit() or len(text) > 12:
        raise InvalidRequestError(
            "If-Match 须为草稿的修订号（整数）", code="REQUEST_INVALID", location=Location(field="If-Match")
        )
    return int(text)


def studio_router() -> APIRouter:
    router = APIRouter(prefix="/studio", tags=["流程设计"])

    @router.get("/drafts/{process_id}", summary="我的草稿（首次打开时由最新版本或空白流程生成）", responses=errors(404))
    def draft(request: Request, process_id: str, caller: Caller) -> dict[str, Any]:
        return studio_of(request).open_draft(process_id, caller.username).to_json()

    @router.put(
        "/drafts/{process_id}/files/{name}",
        summary="保存草稿中的一个文件（自动保存）",
        responses=errors(400, 404, 409),
        openapi_extra=FILE_BODY,
    )
    async def save_file(
        request: Request,
        process_id: str,
        name: str,
        caller: Caller,
        if_match: Annotated[str | None, Header(description="编辑所依据的草稿修订号")] = None,
    ) -> dict[str, Any]:
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequestError("文件须为 UTF-8 文本", code="REQUEST_INVALID", location=Location(name)) from None
        expected = _revision(if_match)
        studio = studio_of(request)

        def save() -> dict[str, Any]:
            current = studio.existing_draft(process_id, caller.username)
            if name.lower().endswith(".feature"):
                placed(name, process_id)  # only the procedure's own scenarios: <id>.feature or <id>_*.feature
            saved = studio.drafts.put_file(current, check_file_name(name), text, expected)
            return {"revision": saved.revision, "problems": lint(studio.engine, process_id, saved.files,
                                                                 studio.folder(process_id))}  # fmt: skip

        return await run_in_threadpool(save)

    @router.delete("/drafts/{process_id}/files/{name}", summary="删除草稿中的一个文件", responses=errors(404, 409))
    def delete_file(
        request: Request,
        process_id: str,
        name: str,
        caller: Caller,
        if_match: Annotated[str | None, Header(description="编辑所依据的草稿修订号")] = None,
    ) -> dict[str, Any]:
        studio = studio_of(request)
        current = studio.existing_draft(process_id, caller.username)
        saved = studio.drafts.put_file(current, check_file_name(name), None, _revision(if_match))
        return {"revision": saved.revision, "problems": lint(studio.engine, process_id, saved.files,
                                                             studio.folder(process_id))}  # fmt: skip

    @router.post("/drafts/{process_id}/lint", summary="校验草稿（与 jiuzhu deploy 同一套检查）", responses=errors(404))
    def lint_draft(request: Request, process_id: str, caller: Caller) -> dict[str, Any]:
        studio = studio_of(request)
        current = studio.existing_draft(process_id, caller.username)
        problems = lint(studio.engine, process_id, current.files, studio.folder(process_id))
        return {"revision": current.revision, "problems": problems}

    @router.post(
        "/drafts/{process_id}/publish", summary="发布草稿为新版本（不可变，记入审计）", responses=errors(400, 404, 409)
    )
    def publish_draft(request: Request, process_id: str, body: PublishRequest, caller: Caller) -> dict[str, Any]:
        studio = studio_of(request)
        current = studio.existing_draft(process_id, caller.username)
        return publish(studio, current, note=body.note, actor=caller.username, checks=publish_checks(request))

    @router.get(
        "/procedures/{process_id}/versions",
        summary="流程的已发布版本（发布人、时间、内容哈希、说明）",
        responses=errors(404),
    )
    def versions(request: Request, process_id: str) -> list[dict[str, Any]]:
        return versions_json(studio_of(request).versions(process_id))

    @router.get("/procedures/{process_id}/versions/{version}/files", summary="某版本的全部文件", responses=errors(404))
    def version_file_list(request: Request, process_id: str, version: VersionNumber) -> dict[str, Any]:
        studio = studio_of(request)
        found = version_files(studio.engine, studio.processes_dir, process_id, version)
        return {"process_id": process_id, "version": found.version, "folder": found.folder, "files": found.files}

    return router
