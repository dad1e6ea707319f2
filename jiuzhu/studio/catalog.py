"""What the studio's properties panel offers: the choices a model may name.

Every list comes from the thing the engine itself checks a deployment
against, so a choice made in the panel deploys: the role directory (lane
names and ``starterRoles`` codes), the form files, the stages of the SLA
policies in force, the connector registry with its parameters, the DMN
decisions and the working-day helpers timer expressions may call.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from engine.deploy import dmn_checks
from engine.deploy.model_xml import XmlDoc, parse_xml
from engine.runtime.connectors import Connectors
from engine.sla.policy import SlaPolicy
from jiuzhu.accounts import LANE_ALIASES

UNIT_LABELS = {"working_days": "工作日", "natural_days": "自然日"}

# One line per helper a timer or script may call (engine/sla/functions.py HELPERS).
HELPER_DESCRIPTIONS = {
    "sla_due": "时限政策中该环节（或 overall 总时限）的届满时间，按本案适用的政策、地区和工作日历计算",
    "sla_warning": "时限政策中该环节的预警时间（届满前 warn_before 天）",
    "add_working_days": "从某日起加 n 个工作日（跳过节假日，计入调休上班日），当日 24:00 届满",
    "add_natural_days": "从某日起加 n 个自然日；默认届满日遇节假日顺延至下一个工作日",
    "today": "今天的日期（北京时间，引擎时钟）",
    "case_region": "经办单位的行政区划代码（决定适用的时限政策）",
}
# What the panel inserts for a helper; the stage is filled in from the task's slaStage when it has one.
HELPER_EXAMPLES = {
    "sla_due": 'sla_due("{stage}")',
    "sla_warning": 'sla_warning("{stage}")',
    "add_working_days": "add_working_days(today(), 5)",
    "add_natural_days": "add_natural_days(today(), 7)",
    "today": "today()",
    "case_region": "case_region()",
}


def roles(role_names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Role codes with their Chinese names; a lane is named by the Chinese name."""
    return [{"code": code, "name": name} for code, name in role_names.items()]


def lanes(role_names: Mapping[str, str]) -> list[dict[str, str]]:
    """Every lane name the engine maps to a role (``Directory.lane_role``), aliases included."""
    found = [{"name": name, "role": code} for code, name in role_names.items()]
    found += [{"name": lane, "role": code} for lane, code in LANE_ALIASES.items() if code in role_names]
    return found


def forms(forms_dir: Path) -> list[dict[str, Any]]:
    """Form files by the name a model refers to them (deploy resolves forms by file name)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(forms_dir.rglob("*.json")) if forms_dir.is_dir() else []:
        kind = "ui" if path.name.endswith("uischema.json") else "schema"
        title = None
        if kind == "schema":
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None
            title = data.get("title") if isinstance(data, dict) and isinstance(data.get("title"), str) else None
        folder = path.parent.relative_to(forms_dir).as_posix()
        found.setdefault(path.name, {"name": path.name, "folder": folder, "kind": kind, "title": title})
    return list(found.values())


def policies(found: Iterable[SlaPolicy]) -> list[dict[str, Any]]:
    return [
        {
            "id": policy.id,
            "version": policy.version,
            "title": policy.title,
            "procedure": policy.procedure,
            "processes": list(policy.processes),
            "regions": list(policy.regions),
            "stages": [
                {
                    "key": key,
                    "name": limit.name,
                    "limit": limit.limit,
                    "unit": limit.unit.value,
                    "unit_label": UNIT_LABELS.get(limit.unit.value, limit.unit.value),
                }
                for key, limit in policy.stages.items()
            ],
        }
        for policy in sorted(found, key=lambda p: p.id)
    ]


def connectors(registry: Connectors) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "title": registry.connectors[name].title,
            "parameters": [
                {"name": p.name, "title": p.title, "type": p.type, "required": p.required}
                for p in registry.connectors[name].parameters
            ],
        }
        for name in registry.names()
    ]


def decisions(processes_dir: Path) -> list[dict[str, Any]]:
    """DMN decisions (the first of each file is the one a deployment registers, as deploy does)."""
    found = []
    for path in sorted(processes_dir.rglob("*.dmn")) if processes_dir.is_dir() else []:
        name = path.relative_to(processes_dir).as_posix()
        doc = parse_xml(name, path.read_bytes(), code="DMN_INVALID")
        if not isinstance(doc, XmlDoc):
            continue
        for decision in dmn_checks.decisions(doc)[:1]:
            found.append({"id": decision.get("id") or "", "name": decision.get("name") or "", "file": name})
    return found


def helpers(available: Mapping[str, Callable[..., Any]]) -> list[dict[str, str]]:
    return [
        {
            "name": name,
            "signature": f"{name}{inspect.signature(function)}",
            "description": HELPER_DESCRIPTIONS.get(name, ""),
            "example": HELPER_EXAMPLES.get(name, f"{name}()"),
        }
        for name, function in available.items()
    ]


def catalog(
    *,
    role_names: Mapping[str, str],
    forms_dir: Path,
    processes_dir: Path,
    in_force: Iterable[SlaPolicy],
    registry: Connectors,
    available_helpers: Mapping[str, Callable[..., Any]],
) -> dict[str, Any]:
    return {
        "roles": roles(role_names),
        "lanes": lanes(role_names),
        "forms": forms(forms_dir),
        "policies": policies(in_force),
        "connectors": connectors(registry),
        "decisions": decisions(processes_dir),
        "helpers": helpers(available_helpers),
    }
