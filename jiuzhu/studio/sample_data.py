"""Sample data a dry run prefills a task's form with, read off the form's JSON schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def sample(schema: Any, depth: int = 0) -> Any:
    """Data to prefill a task's form with: each field's default, example, constant or first
    choice; required fields without one get a placeholder of their type."""
    if not isinstance(schema, Mapping) or depth > 12:
        return None
    for key in ("default", "const"):
        if key in schema:
            return schema[key]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    choices = schema.get("enum")
    if isinstance(choices, list) and choices:
        return choices[0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        out = {}
        required = set(schema.get("required") or [])
        for name, prop in (schema.get("properties") or {}).items():
            if name in required or (isinstance(prop, Mapping) and ({"default", "examples", "const"} & prop.keys())):
                out[name] = sample(prop, depth + 1)
        return out
    if kind == "array":
        least = schema.get("minItems")
        count = least if isinstance(least, int) else 0
        return [sample(schema.get("items"), depth + 1) for _ in range(min(count, 5))]
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        low = schema.get("minimum")
        return low if isinstance(low, int | float) else 0
    if kind == "string":
        return {"date": "", "date-time": ""}.get(str(schema.get("format")), "")
    return None
