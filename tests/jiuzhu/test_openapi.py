"""The OpenAPI document: one schema per request body, named once, every
reference resolving."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.testclient import TestClient

from engine.service.facade import Engine
from jiuzhu.api import create_app
from jiuzhu.settings import Settings

COMPLETE = "/api/instances/{instance_id}/tasks/{task_id}/complete"
HANDOFF_COMPLETE = "/api/external/{handoff_id}/complete"


def _document(make_engine_for: Callable[..., Engine], db_url: str) -> dict[str, Any]:
    app = create_app(make_engine_for(), Settings.from_env({"DATABASE_URL": db_url}))
    r = TestClient(app).get("/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _body_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return schema


def test_task_completion_has_one_named_schema(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    doc = _document(make_engine_for, db_url)
    schemas = doc["components"]["schemas"]
    complete = [name for name in schemas if "complete" in name.lower()]
    assert sorted(complete) == ["CompleteRequest", "HandoffCompleteRequest"], complete
    assert _body_schema(doc, COMPLETE) == {"$ref": "#/components/schemas/CompleteRequest"}
    assert set(schemas["CompleteRequest"]["properties"]) == {"data", "expected_revision"}
    assert _body_schema(doc, HANDOFF_COMPLETE) == {"$ref": "#/components/schemas/HandoffCompleteRequest"}
    assert set(schemas["HandoffCompleteRequest"]["properties"]) == {"lock_token", "result"}
    # No request body is spelled out inline beside the named schemas.
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for kind, media in operation.get("requestBody", {}).get("content", {}).items():
                schema = media["schema"]
                if kind == "text/plain":  # a file's text as it is (the studio saves draft files so)
                    assert schema == {"type": "string"}, (method, path)
                    continue
                assert "$ref" in schema or schema.get("type") == "object" and "properties" not in schema, (method, path)


def test_every_reference_resolves_and_no_schema_is_named_twice(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    doc = _document(make_engine_for, db_url)
    schemas = doc["components"]["schemas"]
    for ref in set(_refs(doc)):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    titles = [s.get("title", name) for name, s in schemas.items()]
    assert len(titles) == len(set(titles)), titles
    stems = [name.split("-")[0] for name in schemas]  # pydantic's -Input / -Output twins
    assert len(stems) == len(set(stems)), sorted(schemas)
    json.dumps(doc)  # a document a client can load


def test_a_days_left_is_answered_with_its_unit(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    doc = _document(make_engine_for, db_url)
    answer = doc["paths"]["/api/instances/{instance_id}/sla"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/ClockAnswer"}
    fields = doc["components"]["schemas"]["ClockAnswer"]["properties"]
    assert {"days_left", "unit"} <= set(fields) and "working_days_left" not in fields
    assert fields["unit"]["enum"] == ["working_days", "natural_days"]


ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def test_every_error_answer_is_declared_with_the_error_schema(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    doc = _document(make_engine_for, db_url)
    assert set(doc["components"]["schemas"]["ErrorBody"]["required"]) == {"code", "message", "kind", "problems"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # FastAPI's 422 shape is not ours
    for method, path, operation in _operations(doc):
        responses = operation["responses"]
        declared = {int(status) for status in responses}
        assert {401, 413, 422} <= declared, (method, path, sorted(declared))
        if "{" in path and not path.startswith("/api/calendar/"):
            assert 404 in declared, (method, path)  # a named thing that may not exist
        if "requestBody" in operation:
            assert 400 in declared, (method, path)  # a body that cannot be read
        for status in declared - {200, 201}:
            assert responses[str(status)]["content"]["application/json"]["schema"] == ERROR_REF, (method, path, status)
        assert not any(
            p["in"] == "header" and p["name"].lower() == "authorization" for p in operation.get("parameters", [])
        )
        assert operation["security"] in ([{"ApiToken": []}], [{"PartnerKey": []}]), (method, path)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiToken"]["scheme"] == schemes["PartnerKey"]["scheme"] == "bearer"


def test_dates_declare_the_1900_to_2100_range(make_engine_for: Callable[..., Engine], db_url: str) -> None:
    doc = _document(make_engine_for, db_url)
    dated = {
        (path, p["name"]): p["schema"]
        for _method, path, operation in _operations(doc)
        for p in operation.get("parameters", [])
        if p["schema"].get("format") == "date"
    }
    assert set(dated) == {
        ("/api/sla/report", "since"),
        ("/api/sla/report", "until"),
        ("/api/calendar/add-workdays", "start"),
    }
    for schema in dated.values():
        assert (schema["formatMinimum"], schema["formatMaximum"]) == ("1900-01-01", "2100-12-31")
        assert re.fullmatch(schema["pattern"], "2100-12-31") and not re.fullmatch(schema["pattern"], "0001-01-01")
    [year] = doc["paths"]["/api/calendar/{year}"]["get"]["parameters"][:1]
    assert (year["schema"]["minimum"], year["schema"]["maximum"]) == (1900, 2100)
