"""Storing a :class:`ProcessDefinition` as JSON and getting it back."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from engine.deploy.model import FormRef, ProcessDefinition, UserTaskInfo


def definition_to_dict(definition: ProcessDefinition) -> dict[str, Any]:
    return asdict(definition)


def definition_from_dict(data: dict[str, Any]) -> ProcessDefinition:
    def form(raw: dict[str, Any] | None) -> FormRef | None:
        return FormRef(**raw) if raw else None

    user_tasks = {
        key: UserTaskInfo(**{**raw, "form": form(raw.get("form"))}) for key, raw in data["user_tasks"].items()
    }
    return ProcessDefinition(
        **{
            **data,
            "user_tasks": user_tasks,
            "start_form": form(data.get("start_form")),
            "starter_roles": tuple(data.get("starter_roles") or ()),
        }
    )
