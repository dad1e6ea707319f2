"""The studio's JSON for version diffs and scenario runs (designer / admin;
the API guard's table says so):

- ``GET  /api/studio/procedures/{process_id}/diff?from=&to=``: the diff of two
  deployed versions (:mod:`jiuzhu.studio.diff`).
- ``POST /api/studio/drafts/{process_id}/scenarios``: run the procedure's
  Gherkin scenarios against a draft (:mod:`jiuzhu.studio.scenarios`). The
  draft's files come from the body, else from the designer's draft
  (:func:`jiuzhu.web.studio_access.draft_files_of`), else from the latest deployed version.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from engine.errors import InvalidRequestError, NotFoundError
from engine.service.facade import Engine
from jiuzhu.api_common import Caller
from jiuzhu.api_hygiene import errors
from jiuzhu.settings import Settings
from jiuzhu.studio.diff import diff_versions
from jiuzhu.studio.scenarios import ScenarioCheck, run_scenarios
from jiuzhu.studio.version_files import version_files
from jiuzhu.web.studio_access import draft_files_of

FILE_LIMIT = 2_000_000  # characters of one draft file
VersionNumber = Annotated[int, Query(ge=1, le=2**31 - 1)]


class ScenarioRunRequest(BaseModel):
    files: dict[str, str] | None = Field(
        default=None, description="草稿文件（文件名 → 内容）；缺省为当前草稿，没有草稿时为最新已发布版本"
    )
    scenarios: list[str] | None = Field(default=None, description="只运行这些场景（场景名称）；缺省为全部")


def latest_files(engine: Engine, process_id: str) -> dict[str, bytes]:
    versions = engine.versions(process_id)
    if not versions:
        raise NotFoundError(f"流程 {process_id} 尚未发布", code="PROCESS_NOT_FOUND")
    return version_files(engine, process_id, max(v.version for v in versions)).files


def draft_files(request: Request, engine: Engine, process_id: str, username: str) -> dict[str, bytes]:
    return draft_files_of(request, process_id, username) or latest_files(engine, process_id)


def register_check(state: Any, settings: Settings) -> None:
    """The scenario check joins the publish checks (the list is the studio's; made if not there yet)."""
    checks = getattr(state, "studio_publish_checks", None)
    if checks is None:
        checks = []
        state.studio_publish_checks = checks
    if not any(isinstance(c, ScenarioCheck) for c in checks):
        checks.append(ScenarioCheck(timeout=settings.studio_scenario_seconds))


def studio_diff_router(engine: Engine, settings: Settings) -> APIRouter:
    router = APIRouter(tags=["studio"])

    @router.get("/studio/procedures/{process_id}/diff", summary="两个已发布版本之间的差异", responses=errors(404))
    def diff(
        process_id: str,
        from_version: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1)],
        to_version: Annotated[int, Query(alias="to", ge=1, le=2**31 - 1)],
    ) -> dict[str, Any]:
        old = version_files(engine, process_id, from_version)
        new = version_files(engine, process_id, to_version)
        body = diff_versions(old.files, new.files).to_json()
        return {"process_id": process_id, "from": from_version, "to": to_version, **body}

    @router.post(
        "/studio/drafts/{process_id}/scenarios",
        summary="对草稿运行流程场景（规则即测试）",
        responses=errors(400, 404),
    )
    def scenarios(request: Request, process_id: str, caller: Caller, wanted: ScenarioRunRequest) -> dict[str, Any]:
        if wanted.files is not None:
            if any(len(text) > FILE_LIMIT for text in wanted.files.values()):
                raise InvalidRequestError("草稿文件过大", code="SCENARIO_FILE_TOO_LARGE")
            files = {name: text.encode("utf-8") for name, text in wanted.files.items()}
        else:
            files = draft_files(request, engine, process_id, caller.username)
        names = tuple(wanted.scenarios) if wanted.scenarios is not None else None
        run = run_scenarios(process_id, files, timeout=settings.studio_scenario_seconds, names=names)
        return run.to_json()

    return router
