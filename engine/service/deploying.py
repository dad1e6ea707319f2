"""Deployments, SLA policies and the calendar: what instances run on.

Each is validated against the others before it is stored: a process may name
only stages its policies define, and a policy may not drop a stage a deployed
process names. Each is recorded on the system audit chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.deploy.builder import build_deployment
from engine.deploy.definitions import definition_to_dict
from engine.deploy.model import Deployment, FormResolver, SourceFile
from engine.errors import DeploymentRefused, NotFoundError, Problem
from engine.events import EventDraft
from engine.ports import DeploymentRecord, VersionRecord
from engine.service.core import Core, DeployResult
from engine.service.stepping import Step, append_system, step
from engine.sla.desk import policy_key
from engine.sla.policy import (
    PolicyInvalid,
    SlaPolicy,
    load_policy,
    stage_problems,
    stage_references,
    start_problems,
)
from engine.workcal.schedule import Schedule, load_schedule


def check(
    core: Core,
    files: Sequence[SourceFile],
    resolve_form: FormResolver,
    policies: Sequence[tuple[str, bytes]] = (),
) -> Deployment:
    """Everything :func:`deploy` refuses, without storing anything: the models
    with their forms, the policy files given (each in place of the stored
    policy with its id, as loading it would make it), the models' stages
    against the policies then in force, and the deployed processes against the
    policies given. Raises DeploymentRefused listing every problem. The
    designer's studio lints a draft with this, so it says what deploy says."""
    problems: list[Problem] = []
    drafted: list[SlaPolicy] = []
    for name, body in policies:
        try:
            drafted.append(load_policy(body, source=name))
        except PolicyInvalid as exc:
            problems += exc.problems()
    try:
        deployment = build_deployment(
            files,
            sandbox=core.sandbox,
            resolve_form=resolve_form,
            connectors=core.connectors,
            roles=core.roles,
            time_limits=core.time_limits,
        )
    except DeploymentRefused as exc:
        raise DeploymentRefused(problems + exc.problems()) from None
    with core.store.reader() as unit:
        replaced = {p.id for p in drafted}
        in_force = [p for p in core.sla.book(unit).policies if p.id not in replaced] + drafted
        deployed = _latest(unit.list_versions()) if drafted else []
    for pid, definition in sorted(deployment.processes.items()):
        problems += _process_problems(pid, definition.file, definition.spec, in_force)
    problems += policy_conflicts([v for v in deployed if v.process_id not in deployment.processes], drafted)
    if problems:
        raise DeploymentRefused(problems)
    return deployment


def _process_problems(
    process_id: str, file: str, spec: Mapping[str, Any], policies: Sequence[SlaPolicy]
) -> list[Problem]:
    return stage_problems(process_id, file, stage_references(spec), policies) + start_problems(
        process_id, file, spec, policies
    )


def deploy(
    core: Core, files: Sequence[SourceFile], resolve_form: FormResolver, *, actor: str | None, note: str | None = None
) -> DeployResult:
    """Check, then store a new immutable version of each process; audited on the
    system chain (``deployment_created``: who, when, content hash, the change note)."""
    deployment = check(core, files, resolve_form)
    now = core.clock.now()
    with core.store.unit() as unit:
        existing = unit.find_deployment(deployment.content_hash)
        if existing is not None:
            versions = [v for v in unit.list_versions() if v.deployment_hash == existing.content_hash]
            return DeployResult(
                existing.content_hash, False, versions, existing.documentation_only, deployment.warnings
            )
        versions = []
        for pid, definition in sorted(deployment.processes.items()):
            latest = unit.latest_version(pid)
            number = (latest.version if latest else 0) + 1
            versions.append(
                VersionRecord(
                    pid, number, deployment.content_hash, definition.name, now, definition_to_dict(definition)
                )
            )
        files_stored = tuple((f.name, f.content) for f in deployment.files)
        record = DeploymentRecord(deployment.content_hash, now, actor, files_stored, deployment.documentation_only)
        unit.add_deployment(record, versions)
        payload = {
            "content_hash": deployment.content_hash,
            "files": [f.name for f in deployment.files],
            "versions": {v.process_id: v.version for v in versions},
            "documentation_only": list(deployment.documentation_only),
        }
        if note:
            payload["note"] = note
        append_system(core, unit, EventDraft("deployment_created", payload, actor=actor))
    return DeployResult(deployment.content_hash, True, versions, deployment.documentation_only, deployment.warnings)


def version_source(core: Core, process_id: str, version: int) -> SourceFile:
    """The model file a version was deployed from, byte for byte (its diagram)."""
    with core.store.reader() as unit:
        record = unit.get_version(process_id, version)
        deployment = unit.find_deployment(record.deployment_hash) if record else None
    if record is not None and deployment is not None:
        wanted = record.definition.get("file")
        for name, content in deployment.files:
            if name == wanted:
                return SourceFile(name, content)
    raise NotFoundError(f"流程版本 {process_id} v{version} 的模型文件缺失", code="VERSION_NOT_FOUND")


def _latest(versions: Sequence[VersionRecord]) -> list[VersionRecord]:
    newest: dict[str, VersionRecord] = {}
    for v in versions:
        if v.process_id not in newest or v.version > newest[v.process_id].version:
            newest[v.process_id] = v
    return list(newest.values())


def policy_conflicts(versions: Sequence[VersionRecord], policies: Sequence[SlaPolicy]) -> list[Problem]:
    """What loading ``policies`` would break in the latest deployed versions:
    a stage a process names that the policy governing it drops, or a
    ``starts_at`` the process lacks. The studio's policy check asks the same."""
    problems: list[Problem] = []
    for version in _latest(versions):
        file = version.definition.get("file", version.process_id)
        problems += _process_problems(version.process_id, file, version.definition["spec"], policies)
    return problems


def load_policies(core: Core, files: Sequence[tuple[str, bytes]], *, actor: str | None) -> list[SlaPolicy]:
    """Validate and store SLA policy files (``*.sla.json``); every stage a
    deployed process names must exist in the policies that govern it."""
    policies = [(name, body, load_policy(body, source=name)) for name, body in files]
    now = core.clock.now()
    loaded = []
    with core.store.unit() as unit:
        problems = policy_conflicts(unit.list_versions(), [p for _, _, p in policies])
        if problems:
            raise DeploymentRefused(problems)
        for name, body, policy in policies:
            added = unit.add_policy(
                policy_id=policy.id,
                version=policy.version,
                digest=policy.digest,
                source=name,
                body=body.decode("utf-8"),
                at=now,
            )
            if added:
                loaded.append(policy)
                payload = {"policy": policy_key(policy), "source": name, "title": policy.title}
                append_system(core, unit, EventDraft("sla_policy_loaded", payload, actor=actor))
        core.sla.invalidate()
    return loaded


def load_calendar(core: Core, text: str, *, source: str, actor: str | None) -> tuple[Schedule, int]:
    """Load a year's State Council schedule; recompute provisional deadlines."""
    schedule = load_schedule(text, source=source)
    now = core.clock.now()
    with core.store.unit() as unit:
        unit.add_schedule(
            year=schedule.year,
            region=schedule.region,
            version=schedule.version,
            source=source,
            body=text,
            actor=actor,
            at=now,
        )
        core.sla.invalidate()
        calendar = core.sla.calendar(unit)
        payload = {
            "year": schedule.year,
            "region": schedule.region,
            "version": schedule.version,
            "source": source,
            "calendar_version": calendar.version(schedule.region),
        }
        append_system(core, unit, EventDraft("calendar_loaded", payload, actor=actor))
        affected = unit.provisional_instances()
    for instance_id in affected:
        step(core, Step(instance_id, recompute=True))
    return schedule, len(affected)
