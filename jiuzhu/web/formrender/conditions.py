"""Conditional fields: which field of an object is shown when.

A field the object always requires is always shown. A field only an ``if``'s
``then`` (or ``else``) branch requires is shown while that branch applies; a
field ``dependentRequired`` (or array ``dependencies``) names is shown once its
trigger is filled. The server decides with the same JSON-schema validator the
engine uses; the browser gets the simple cases (``const`` / ``enum`` on sibling
fields, presence) as clauses so it can toggle them live.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jiuzhu.web.formrender.model import Gate, value_text

_CONDITIONAL_KEYS = {"if", "then", "else", "$comment", "description", "title"}


def conditionals(schema: dict[str, Any], pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each ``if/then/else`` of the object (its own and those under ``allOf``), with its pointer."""
    if "if" in schema:
        yield pointer, schema
    for index, part in enumerate(schema.get("allOf") or []):
        if isinstance(part, dict) and "if" in part:
            yield f"{pointer}/allOf/{index}", part


def non_conditional_all_of(schema: dict[str, Any]) -> list[int]:
    parts = schema.get("allOf") or []
    return [i for i, p in enumerate(parts) if not (isinstance(p, dict) and "if" in p and p.keys() <= _CONDITIONAL_KEYS)]


def _client_clauses(if_schema: Any) -> tuple[dict[str, Any], ...] | None:
    """``{"properties": {k: {"const"|"enum": …}}, "required": [...]}`` as browser clauses, else None."""
    if not isinstance(if_schema, dict) or not if_schema.keys() <= {"properties", "required"}:
        return None
    properties = if_schema.get("properties", {})
    required = if_schema.get("required", [])
    if not isinstance(properties, dict) or not isinstance(required, list):
        return None
    clauses: list[dict[str, Any]] = []
    for key, test in properties.items():
        if not isinstance(test, dict) or len(test) != 1:
            return None
        if "const" in test:
            values = [test["const"]]
        elif isinstance(test.get("enum"), list):
            values = list(test["enum"])
        else:
            return None
        if any(isinstance(v, dict | list) for v in values):
            return None
        clauses.append({"key": key, "values": [value_text(v) for v in values], "required": key in required})
    for key in required:
        if key not in properties:
            clauses.append({"key": key, "values": None, "required": True})
    return tuple(clauses)


def gates_of(schema: dict[str, Any], pointer: str) -> dict[str, list[Gate]]:
    """The gates of each property of the object ``schema``; properties it always requires get none."""
    base_required = set(schema.get("required") or [])
    gates: dict[str, list[Gate]] = {}
    for _at, part in conditionals(schema, pointer):
        clauses = _client_clauses(part["if"])
        for branch in ("then", "else"):
            body = part.get(branch)
            if not isinstance(body, dict):
                continue
            for key in body.get("required") or []:
                if key not in base_required:
                    gates.setdefault(key, []).append(Gate(branch, schema=part["if"], client=clauses))
    triggers: dict[str, list[str]] = {}
    for keyword in ("dependentRequired", "dependencies"):
        for trigger, needed in (schema.get(keyword) or {}).items():
            if isinstance(needed, list):
                triggers[trigger] = needed
    for trigger, needed in triggers.items():
        for key in needed:
            # A field that is itself a trigger stays visible, or two fields that need each other never show.
            if key not in base_required and key not in triggers:
                clause = ({"key": trigger, "values": None, "required": True},)
                gates.setdefault(key, []).append(Gate("present", trigger=trigger, client=clause))
    return gates


def gate_open(gate: Gate, value: Any, validator: Any) -> bool:
    """Whether ``gate`` shows its field when the object holds ``value`` (a dict, or MISSING)."""
    obj = value if isinstance(value, dict) else {}
    if gate.kind == "present":
        return obj.get(gate.trigger) not in (None, "", [], {})
    holds = bool(validator.evolve(schema=gate.schema).is_valid(obj))
    return holds if gate.kind == "then" else not holds


def client_spec(gates: list[Gate]) -> list[dict[str, Any]] | None:
    """What the browser needs to toggle a field: any gate open shows it; None if one gate is server-only."""
    spec: list[dict[str, Any]] = []
    for gate in gates:
        if gate.client is None:
            return None
        spec.append({"negate": gate.kind == "else", "all": list(gate.client)})
    return spec
