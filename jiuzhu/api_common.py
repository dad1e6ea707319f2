"""Pieces shared by the API routers: the actor and JSON shapes."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from engine.audit import AuditEvent
from engine.ports import VersionRecord
from engine.service.facade import DeployResult, InstanceView
from jiuzhu.web.api_guard import api_viewer, viewer_of
from jiuzhu.web.auth import Viewer


async def actor(request: Request) -> str:
    """The audit actor: the authenticated principal (username or
    ``system:<name>``). No header can name someone else: ``X-Actor``, which
    once did, is ignored."""
    return viewer_of(request).username


# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
Actor = Annotated[str, Depends(actor)]
Caller = Annotated[Viewer, Depends(api_viewer)]


M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``, refused as FastAPI would refuse it (422
    REQUEST_INVALID); for routes too busy for FastAPI's parameter machinery."""
    try:
        value = json.loads(await request.body())
    except ValueError:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]) from None
    except RecursionError:  # nested deeper than the parser goes: FastAPI's own answer for a body it cannot read
        raise HTTPException(400, "There was an error parsing the body") from None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


SCHEMA_REF = "#/components/schemas/{model}"


def json_body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a body read with :func:`parse_body`: a reference to the
    model's one named schema, which :func:`document_bodies` adds."""
    schema = {"application/json": {"schema": {"$ref": SCHEMA_REF.format(model=model.__name__)}}}
    return {"requestBody": {"required": True, "content": schema}}


def document_bodies(app: FastAPI, *models: type[BaseModel]) -> None:
    """Name the bodies of :func:`json_body_doc` routes in the app's OpenAPI
    components, beside the schemas FastAPI names itself, so a model is
    described once and referenced, never inlined as a second copy."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        doc = generate()  # FastAPI's, cached until the routes change
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template=SCHEMA_REF)
            schemas.update(schema.pop("$defs", {}))
            if schemas.setdefault(model.__name__, schema) != schema:
                raise RuntimeError(f"two OpenAPI schemas are named {model.__name__}")
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def version_json(v: VersionRecord) -> dict[str, Any]:
    return {
        "process_id": v.process_id,
        "version": v.version,
        "name": v.name,
        "deployment_hash": v.deployment_hash,
        "created_at": v.created_at.isoformat(),
        "start_form": v.definition.get("start_form"),
    }


def instance_json(view: InstanceView) -> dict[str, Any]:
    r = view.record
    return {
        "id": r.id,
        "process_id": r.process_id,
        "version": r.version,
        "status": r.status,
        "revision": r.revision,
        "business_key": r.business_key,
        "org_unit": r.org_unit,
        "region": r.region,
        "policy": r.policy,
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
        "incident": r.incident,
        "data": view.data,
        "ready_tasks": [
            {
                "id": t.id,
                "element_id": t.element_id,
                "name": t.name,
                "lane": t.lane,
                "instance_key": t.instance_key,
                "form": t.info.form.schema_file if t.info and t.info.form else None,
            }
            for t in view.ready
        ],
    }


def event_json(e: AuditEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "type": e.type,
        "occurred_at": e.occurred_at.isoformat(),
        "actor": e.actor,
        "task_id": e.task_id,
        "element_id": e.element_id,
        "payload": e.payload,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def deploy_json(result: DeployResult) -> dict[str, Any]:
    return {
        "content_hash": result.content_hash,
        "created": result.created,
        "versions": [version_json(v) for v in result.versions],
        "documentation_only": list(result.documentation_only),
        "warnings": [w.to_dict() for w in result.warnings],
    }
