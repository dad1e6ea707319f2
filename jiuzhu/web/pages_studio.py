"""流程设计 (the designer studio): the procedures with their versions and
drafts (``/studio``), a new procedure, the editor (``/studio/{process_id}``),
and a version's files as a zip in the ``processes/`` + ``forms/`` layout (and
back). Designers and administrators only; the editor works over
``/api/studio`` (jiuzhu/web/api_studio.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.deploy.model_xml import BPMN_NS, parse_xml
from engine.errors import InvalidRequestError, JiuzhuError, Location, NotFoundError, Problem
from jiuzhu.studio.drafts import check_process_id
from jiuzhu.studio.layout import from_zip, kind, to_zip, version_files
from jiuzhu.studio.procedures import draft_name
from jiuzhu.studio.scenario_files import placed
from jiuzhu.web.api_studio import VersionNumber
from jiuzhu.web.auth import csrf_protected, require_role
from jiuzhu.web.pages_inbox import flash, take_flashes
from jiuzhu.web.studio_access import STUDIO_ROLES, Designer, studio_of
from jiuzhu.web.templating import render

router = APIRouter(include_in_schema=False)
NAME_LIMIT = 60
STATIC = Path(__file__).resolve().parent / "static" / "studio"
# The editor's other parts (properties panel, form and time-limit editors, scenarios), loaded when present.
EXTRA_SCRIPTS = ("palette-rules.js", "properties.js", "form_editor.js", "policy_editor.js", "dmn_translate.js",
                 "dmn_editor.js", "scenarios.js", "dry_run.js")  # fmt: skip
EXTRA_STYLES = ("properties.css", "tools.css", "diff.css", "dmn.css", "dry_run.css")
TABS = (("diagram", "流程图"), ("forms", "表单"), ("policy", "时限"), ("dmn", "决策表"), ("dryrun", "试运行"),
        ("scenarios", "场景"),
        ("versions", "版本"))  # fmt: skip


@router.get("/studio", dependencies=[Depends(require_role(*STUDIO_ROLES))])
def studio_home(request: Request) -> Response:
    procedures = studio_of(request).procedures()
    return render(request, "studio/list.html", {"procedures": procedures, "flashes": take_flashes(request)})


@router.post("/studio/new", dependencies=[Depends(csrf_protected)])
def new_procedure(
    request: Request,
    viewer: Designer,
    process_id: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    studio = studio_of(request)
    try:
        check_process_id(process_id.strip())
        title = name.strip()
        if not title or len(title) > NAME_LIMIT or any(c in title for c in "<>&\"'"):
            raise InvalidRequestError(
                f"请填写流程的中文名称（1–{NAME_LIMIT} 个字，不含 <>&\"'）", code="STUDIO_NAME_INVALID"
            )
        if studio.exists(process_id.strip()):
            raise InvalidRequestError(f"流程标识 {process_id.strip()} 已被使用，请换一个", code="STUDIO_PROCESS_EXISTS")
    except JiuzhuError as exc:
        flash(request, f"未能新建流程：{exc.message}", code=exc.code)
        return RedirectResponse("/studio", status_code=303)
    studio.open_draft(process_id.strip(), viewer.username, name=title)
    return RedirectResponse(f"/studio/{process_id.strip()}", status_code=303)


@router.post("/studio/import", dependencies=[Depends(csrf_protected)])
async def import_zip(request: Request, viewer: Designer, archive: Annotated[UploadFile, File()]) -> Response:
    data = await archive.read()
    studio = studio_of(request)

    def take() -> str:
        files = from_zip(data)
        models = [n for n in files if kind(n) == "bpmn"]
        if len(models) != 1:
            raise InvalidRequestError("zip 中须恰有一个 BPMN 模型（一个流程一个 zip）", code="STUDIO_IMPORT_INVALID")
        process_id = _process_id(models[0], files[models[0]])
        for name in files:
            if kind(name) == "feature":
                placed(name, process_id)  # only the procedure's own scenarios: <id>.feature or <id>_*.feature
        draft = studio.open_draft(process_id, viewer.username)
        studio.drafts.replace(draft, files, None, base_version=draft.base_version)
        return process_id

    try:
        process_id = await run_in_threadpool(take)
    except JiuzhuError as exc:
        where = f"（{exc.location.file}）" if exc.location.file else ""
        flash(request, f"未能导入：{exc.message}{where}", code=exc.code)
        return RedirectResponse("/studio", status_code=303)
    flash(request, f"已导入为流程 {process_id} 的草稿，发布后生效")
    return RedirectResponse(f"/studio/{process_id}", status_code=303)


def _process_id(name: str, text: str) -> str:
    parsed = parse_xml(name, text.encode("utf-8"), code="BPMN_XML_INVALID")
    if isinstance(parsed, Problem):
        raise InvalidRequestError(f"{name} 不是可读的 BPMN 文件", code="STUDIO_IMPORT_INVALID", location=Location(name))
    for process in parsed.root.iter(f"{{{BPMN_NS}}}process"):
        if (process.get("isExecutable") or "").lower() in ("true", "1") and process.get("id"):
            return check_process_id(str(process.get("id")))
    raise InvalidRequestError(f"{name} 中没有可执行流程", code="STUDIO_IMPORT_INVALID", location=Location(name))


@router.get("/studio/{process_id}", dependencies=[Depends(require_role(*STUDIO_ROLES))])
def editor(request: Request, process_id: str) -> Response:
    studio = studio_of(request)
    if not studio.exists(check_process_id(process_id)):
        raise NotFoundError(f"没有流程 {process_id}，请在流程设计首页新建", code="STUDIO_PROCESS_NOT_FOUND")
    versions = studio.versions(process_id)
    drafts = [d for d in studio.drafts.all() if d.process_id == process_id]
    name = versions[0]["name"] if versions else draft_name(drafts[0]) if drafts else process_id
    context = {"process_id": process_id, "name": name, "versions": versions, "tabs": TABS,
               "extra_scripts": _present(EXTRA_SCRIPTS), "extra_styles": _present(EXTRA_STYLES),
               "flashes": take_flashes(request)}  # fmt: skip
    return render(request, "studio/editor.html", context)


def _present(names: tuple[str, ...]) -> list[str]:
    return [f"/static/studio/{n}" for n in names if (STATIC / n).is_file()]


@router.get("/studio/{process_id}/versions/{version}.zip", dependencies=[Depends(require_role(*STUDIO_ROLES))])
def export_zip(request: Request, process_id: str, version: VersionNumber) -> Response:
    studio = studio_of(request)
    found = version_files(studio.engine, studio.processes_dir, process_id, version)
    headers = {"Content-Disposition": f'attachment; filename="{process_id}-v{found.version}.zip"'}
    return Response(to_zip(found.files, found.folder), media_type="application/zip", headers=headers)


__all__ = ["STUDIO_ROLES", "router"]
