"""A case's decision for the pages: the engine's record read with the
procedure's decision rules (``*.decisions.json``: those its version was
published with from the studio, stored in its deployment; else the checkout's
``processes/<procedure>/``), and
the name of the body that decided (乡镇 where 审核确认 is devolved, else the
county; the coordination mechanism for 一事一议) from the notices file."""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.audit import AuditEvent
from engine.decisions import Decision, Rules, decide, load_rules
from engine.ports import InstanceRecord
from engine.service.facade import Engine
from jiuzhu.accounts import Directory

OUTCOME_LABELS = {"纳入": "同意（纳入救助）", "不予确认": "不予确认（不予救助）", "终止": "终止", "撤回": "撤回"}


@lru_cache(maxsize=8)
def _rules(processes_dir: Path) -> dict[str, Rules]:
    found: dict[str, Rules] = {}
    for path in sorted(processes_dir.rglob("*.decisions.json")):
        rules = load_rules(path.read_text(encoding="utf-8"), source=path.relative_to(processes_dir).as_posix())
        found[rules.process_id] = rules
    return found


# A version is immutable: its deployment is read once per engine, not on every page
# (held weakly, so a cache never keeps an engine and its connections alive).
_READ: weakref.WeakKeyDictionary[Engine, dict[tuple[str, int], Rules | None]] = weakref.WeakKeyDictionary()


def _deployed(engine: Engine, process_id: str, version: int) -> Rules | None:
    known = _READ.setdefault(engine, {})
    if (process_id, version) not in known:
        known[(process_id, version)] = _read_deployed(engine, process_id, version)
    return known[(process_id, version)]


def _read_deployed(engine: Engine, process_id: str, version: int) -> Rules | None:
    with engine.store.reader() as unit:
        record = unit.get_version(process_id, version)
        deployment = unit.find_deployment(record.deployment_hash) if record is not None else None
    for name, content in deployment.files if deployment is not None else ():
        if name.endswith(".decisions.json"):
            rules = load_rules(content.decode("utf-8"), source=name)
            if rules.process_id == process_id:
                return rules
    return None


def rules_for(
    processes_dir: Path, process_id: str, engine: Engine | None = None, version: int | None = None
) -> Rules | None:
    """The rules of the process's ``version`` when it was published with its own
    (the studio deploys them with the version); otherwise the checkout's."""
    found = _deployed(engine, process_id, version) if engine is not None and version is not None else None
    return found or _rules(processes_dir.resolve()).get(process_id)


def case_rules(processes_dir: Path, record: InstanceRecord, engine: Engine | None = None) -> Rules | None:
    """The rules of the case's own version."""
    return rules_for(processes_dir, record.process_id, engine, record.version)


def decision_of(
    processes_dir: Path, record: InstanceRecord, events: Sequence[AuditEvent], engine: Engine | None = None
) -> Decision | None:
    rules = case_rules(processes_dir, record, engine)
    return decide(events, rules) if rules is not None else None


def township_body(township: str) -> str:
    return f"{township}办事处" if township.endswith("街道") else f"{township}人民政府"


def body_name(profile: dict[str, Any], decision: Decision, township: str | None, unit_name: str) -> str:
    """The deciding body's name as a notice names it."""
    bodies: dict[str, Any] = profile.get("bodies") or {}
    if decision.body == "township" and township:
        return township_body(township)
    if decision.body in bodies:
        return str(bodies[decision.body])
    return str(profile.get("issuer") or unit_name)


def issuing_key(decision: Decision, directory: Directory, org_unit: str | None) -> str:
    """Whose 文号 sequence a notice of this decision takes: the township's org unit code
    where the township decided, else the body key (county, coordination)."""
    unit = directory.unit(org_unit)
    if decision.body == "township" and unit is not None:
        return unit.parent if unit.kind == "village" and unit.parent else unit.code
    return decision.body or "county"


def document_prefix(profile: dict[str, Any], key: str, body: str) -> str:
    """The 机关代字 of a 文号 (``清河民救``), from the notices file's ``document_prefixes``
    (keyed by body key or township org unit code); the body's name where none is set."""
    prefixes: dict[str, Any] = profile.get("document_prefixes") or {}
    return str(prefixes.get(key) or body)


def notices_profile(notices_file: Path) -> dict[str, Any]:
    profile: dict[str, Any] = json.loads(notices_file.read_text(encoding="utf-8"))
    return profile
