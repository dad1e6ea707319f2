"""A deployed version's own files, from the deployment store: its model, the
DMN files holding the decisions it calls, the forms it names, and the time-limit policies
that governed it when it was published.

A version published from the studio (or uploaded) stores its companions in its
deployment beside the model: the policies, the decision rules
(``*.decisions.json``) and the scenarios (``*.feature``); see
:func:`companions`. A version deployed from a checkout (``jiuzhu deploy``)
stores none: its policies are those in force when it was deployed (the latest
body of each policy naming the process, loaded at or before the version)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from engine.deploy.model_xml import SPIFF_NS, XmlDoc, local_name, parse_xml
from engine.errors import NotFoundError
from engine.service.facade import Engine
from integrations.sql.store import SqlUnit
from jiuzhu.studio.scenario_files import is_feature_of

FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")


@dataclass(frozen=True)
class VersionFiles:
    process_id: str
    version: int
    name: str
    created_at: datetime
    actor: str | None
    model: str  # the model file's name among ``files``
    files: dict[str, bytes]


def _doc(name: str, content: bytes) -> XmlDoc | None:
    try:
        doc = parse_xml(name, content, code="DIFF_XML")
    except ValueError:
        return None
    return doc if isinstance(doc, XmlDoc) else None


def references(name: str, content: bytes) -> tuple[set[str], set[str]]:
    """The form files and the DMN decisions a model names."""
    doc = _doc(name, content)
    if doc is None:
        return set(), set()
    forms = {
        prop.get("value")
        for prop in doc.root.iter(f"{{{SPIFF_NS}}}property")
        if prop.get("name") in FORM_PROPERTIES and prop.get("value")
    }
    decisions = {" ".join((e.text or "").split()) for e in doc.root.iter(f"{{{SPIFF_NS}}}calledDecisionId")}
    return forms, decisions


def decisions_in(name: str, content: bytes) -> set[str]:
    doc = _doc(name, content)
    return {e.get("id") for e in doc.root.iter() if local_name(e) == "decision" and e.get("id")} if doc else set()


def version_files(engine: Engine, process_id: str, version: int) -> VersionFiles:
    with engine.store.reader() as unit:
        record = unit.get_version(process_id, version)
        deployment = unit.find_deployment(record.deployment_hash) if record else None
        loaded = unit.policies_loaded() if isinstance(unit, SqlUnit) else []
    if record is None or deployment is None:
        raise NotFoundError(f"流程 {process_id} 没有版本 v{version}", code="VERSION_NOT_FOUND")
    model = str(record.definition.get("file", ""))
    stored = dict(deployment.files)
    if model not in stored:
        raise NotFoundError(f"流程版本 {process_id} v{version} 的模型文件缺失", code="VERSION_NOT_FOUND")
    forms, decisions = references(model, stored[model])
    files = {
        name: content
        for name, content in stored.items()
        if name == model
        or (name.endswith(".dmn") and decisions & decisions_in(name, content))
        or name in forms
        or name.rsplit("/", 1)[-1] in forms
    }
    files |= {name: content for name, content in companions(stored, model, process_id).items() if name.endswith(POLICY)}
    if not any(name.endswith(POLICY) for name in files):
        files |= policies_in_force(process_id, record.created_at, loaded)
    return VersionFiles(process_id, version, record.name, record.created_at, deployment.actor, model, files)


POLICY, RULES, FEATURE = ".sla.json", ".decisions.json", ".feature"


def companions(stored: Mapping[str, bytes], model: str, process_id: str) -> dict[str, bytes]:
    """By bare name, what the deployment stores beside the model: the policies
    governing the process, the decision rules beside the model, the process's scenarios."""
    found: dict[str, bytes] = {}
    beside = PurePosixPath(model).parent
    for name, content in stored.items():
        path = PurePosixPath(name)
        if name.endswith(POLICY) and _governs(content, process_id):
            found[path.name] = content
        elif name.endswith(RULES) and path.parent == beside:
            found[path.name] = content
        elif name.endswith(FEATURE) and is_feature_of(path.name, process_id):
            found[path.name] = content
    return found


def _governs(body: bytes, process_id: str) -> bool:
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and process_id in (parsed.get("processes") or [])


def policies_in_force(process_id: str, at: datetime, loaded: list[tuple[str, str, datetime]]) -> dict[str, bytes]:
    latest: dict[str, tuple[str, str]] = {}
    for source, body, loaded_at in loaded:
        if loaded_at > at:
            continue
        parsed: Any = json.loads(body)
        if isinstance(parsed, dict) and process_id in (parsed.get("processes") or []):
            latest[str(parsed.get("id") or source)] = (source.replace("\\", "/").rsplit("/", 1)[-1], body)
    return {name: body.encode("utf-8") for name, body in latest.values()}
