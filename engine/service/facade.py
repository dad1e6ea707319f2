"""The engine facade: deploy, start, complete, fire timers, verify.

Every change to an instance is one transaction: load the state, run one step
in memory, then write state, audit events, timer index and ready-task index
together, guarded by the instance's revision (optimistic concurrency: of two
writers that read the same revision, exactly one commits).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from threading import Lock
from typing import Any

from engine.audit import GENESIS, AuditEvent, Verdict, seal, verify_chain
from engine.clock import Clock
from engine.deploy.builder import build_deployment
from engine.deploy.definitions import definition_from_dict, definition_to_dict
from engine.deploy.model import FormResolver, ProcessDefinition, SourceFile
from engine.errors import ConflictError, DeploymentRefused, InvalidRequestError, NotFoundError
from engine.events import EventDraft
from engine.ports import DeploymentRecord, InstanceRecord, Store, TaskRow, TimerRow, Unit, VersionRecord, WakeupIndex
from engine.runtime.connectors import Connectors, StartProcess, StartRequest, collecting_starts
from engine.runtime.incidents import Incident
from engine.runtime.run import InstanceRun
from engine.runtime.send_back import send_back
from engine.runtime.serialization import RestoredSpec, spec_from_dict
from engine.runtime.tasks import ReadyTask, WaitingTimer
from engine.sandbox.scripts import Sandbox
from engine.service.firing import fire_batch, ready_rows, stepped
from engine.sla import clocks as sla
from engine.sla.clocks import SlaClock
from engine.sla.desk import SlaDesk, policy_key
from engine.sla.functions import SlaContext, sla_context
from engine.sla.policy import SlaPolicy, load_policy, stage_problems, stage_references
from engine.workcal.calendar import WorkCalendar
from engine.workcal.schedule import Schedule, load_schedule

SYSTEM_CHAIN = "_system"
MAX_START_DEPTH = 3  # a process that starts one that starts one…: a modelling loop, refused

# Called inside the commit transaction of every step whose ready tasks changed,
# with (unit, instance, run, tasks that became ready, ids of tasks that left,
# now). What it writes commits or rolls back with the step; the audit events
# it returns join the step's events on the instance's chain.
CommitHook = Callable[
    [Unit, InstanceRecord, InstanceRun, Sequence[ReadyTask], Sequence[str], datetime], list[EventDraft]
]
Extra = Callable[[Unit, InstanceRecord], list[EventDraft]]


def _revision_conflict() -> ConflictError:
    return ConflictError("实例已被他人修改，请刷新后重试", code="REVISION_MISMATCH")


def _latest(versions: Sequence[VersionRecord]) -> list[VersionRecord]:
    newest: dict[str, VersionRecord] = {}
    for v in versions:
        if v.process_id not in newest or v.version > newest[v.process_id].version:
            newest[v.process_id] = v
    return list(newest.values())


@dataclass(frozen=True)
class DeployResult:
    content_hash: str
    created: bool
    versions: list[VersionRecord]
    documentation_only: tuple[str, ...]


@dataclass(frozen=True)
class ClockStatus:
    clock: SlaClock
    state: str
    working_days_left: int


@dataclass(frozen=True)
class InstanceView:
    record: InstanceRecord
    ready: list[ReadyTask]
    data: dict[str, Any]
    changed: bool = True

    @property
    def incident(self) -> Incident | None:
        return Incident.from_dict(self.record.incident)


class Engine:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        sandbox: Sandbox,
        *,
        wakeups: WakeupIndex | None = None,
        connectors: Connectors | None = None,
        cache_size: int = 256,
        fire_batch: int = 50,
        commit_hooks: Sequence[CommitHook] = (),
        after_commit: Sequence[Callable[[InstanceView], None]] = (),
    ) -> None:
        self.store = store
        self.commit_hooks = list(commit_hooks)
        self.after_commit_hooks = list(after_commit)
        self.wakeups = wakeups
        self.clock = clock
        self.sandbox = sandbox
        self.connectors = (connectors or Connectors()).including(StartProcess(lambda: str(uuid.uuid4())))
        self._script_engine = sandbox.script_engine(self.connectors)
        self._specs: OrderedDict[tuple[str, int], tuple[ProcessDefinition, RestoredSpec]] = OrderedDict()
        self._specs_lock = Lock()
        self.sla = SlaDesk()
        self._cache_size = cache_size
        self.fire_batch = fire_batch  # due instances stepped per transaction

    # -- deployments -----------------------------------------------------------

    def deploy(self, files: Sequence[SourceFile], resolve_form: FormResolver, *, actor: str | None) -> DeployResult:
        deployment = build_deployment(
            files, sandbox=self.sandbox, resolve_form=resolve_form, connectors=self.connectors
        )
        now = self.clock.now()
        with self.store.unit() as unit:
            policies = self.sla.book(unit).policies
            problems = [
                problem
                for pid, definition in sorted(deployment.processes.items())
                for problem in stage_problems(pid, definition.file, stage_references(definition.spec), policies)
            ]
            if problems:
                raise DeploymentRefused(problems)
            existing = unit.find_deployment(deployment.content_hash)
            if existing is not None:
                versions = [v for v in unit.list_versions() if v.deployment_hash == existing.content_hash]
                return DeployResult(existing.content_hash, False, versions, existing.documentation_only)
            versions = []
            for pid, definition in sorted(deployment.processes.items()):
                latest = unit.latest_version(pid)
                versions.append(
                    VersionRecord(
                        pid,
                        (latest.version if latest else 0) + 1,
                        deployment.content_hash,
                        definition.name,
                        now,
                        definition_to_dict(definition),
                    )
                )
            record = DeploymentRecord(
                deployment.content_hash,
                now,
                actor,
                tuple((f.name, f.content) for f in deployment.files),
                deployment.documentation_only,
            )
            unit.add_deployment(record, versions)
            self._append_system(
                unit,
                EventDraft(
                    "deployment_created",
                    {
                        "content_hash": deployment.content_hash,
                        "files": [f.name for f in deployment.files],
                        "versions": {v.process_id: v.version for v in versions},
                        "documentation_only": list(deployment.documentation_only),
                    },
                    actor=actor,
                ),
            )
        return DeployResult(deployment.content_hash, True, versions, deployment.documentation_only)

    def versions(self, process_id: str | None = None) -> list[VersionRecord]:
        with self.store.reader() as unit:
            return unit.list_versions(process_id)

    # -- instances -------------------------------------------------------------

    def start(
        self,
        process_id: str,
        data: Mapping[str, Any],
        *,
        actor: str | None,
        version: int | None = None,
        business_key: str | None = None,
        org_unit: str | None = None,
        region: str | None = None,
    ) -> InstanceView:
        now = self.clock.now()
        with self.store.unit() as unit:
            started = self._start_in(
                unit,
                process_id,
                data,
                actor=actor,
                version=version,
                business_key=business_key,
                org_unit=org_unit,
                region=region,
                now=now,
            )
        for view, run, clocks in started:
            self._after_commit(view, run, clocks)
        return started[0][0]

    def _start_in(
        self,
        unit: Unit,
        process_id: str,
        data: Mapping[str, Any],
        *,
        actor: str | None,
        now: datetime,
        version: int | None = None,
        business_key: str | None = None,
        org_unit: str | None = None,
        region: str | None = None,
        instance_id: str | None = None,
        depth: int = 0,
    ) -> list[tuple[InstanceView, InstanceRun, list[SlaClock]]]:
        """Start an instance inside ``unit``, then whatever its first step asked to start."""
        record = unit.latest_version(process_id) if version is None else unit.get_version(process_id, version)
        if record is None:
            raise NotFoundError(
                f"流程 {process_id} 未部署" + (f"版本 {version}" if version else ""), code="PROCESS_NOT_FOUND"
            )
        definition, restored = self._spec(record)
        policy = self.sla.book(unit).select(process_id, region)
        calendar = self.sla.calendar(unit)
        instance = InstanceRecord(
            id=instance_id or str(uuid.uuid4()),
            process_id=process_id,
            version=record.version,
            status="running",
            state="",
            revision=0,
            created_at=now,
            updated_at=now,
            started_by=actor,
            head_hash=GENESIS,
            business_key=business_key,
            org_unit=org_unit,
            region=region,
            policy=policy_key(policy) if policy else None,
        )
        unit.add_instance(instance)
        run = InstanceRun.new(definition, restored, self._script_engine)
        with (
            sla_context(SlaContext(calendar, policy, region, now)),
            collecting_starts(self._deployed(unit)) as requests,
        ):
            drafts = run.start(data, actor=actor, now=now)
        drafts[0].payload.update(
            version=record.version,
            org_unit=org_unit,
            region=region,
            policy=instance.policy,
            policy_source=policy.source if policy else None,
            calendar_version=calendar.version(region),
        )
        sla_events, clocks = self.sla.step(unit, instance, run, now)
        view = self._commit(unit, instance, run, drafts + sla_events, now, clocks=clocks)
        return [(view, run, clocks), *self._start_requested(unit, view.record, requests, now, depth)]

    @staticmethod
    def _deployed(unit: Unit) -> Callable[[str], bool]:
        return lambda process_id: unit.latest_version(process_id) is not None

    def _start_requested(
        self, unit: Unit, parent: InstanceRecord, requests: Sequence[StartRequest], now: datetime, depth: int
    ) -> list[tuple[InstanceView, InstanceRun, list[SlaClock]]]:
        """Instances a step's ``start_process`` service tasks asked for, in the parent's org unit and region."""
        if requests and depth >= MAX_START_DEPTH:
            raise InvalidRequestError(f"关联流程嵌套启动超过 {MAX_START_DEPTH} 层", code="START_PROCESS_DEPTH")
        started = []
        for request in requests:
            started += self._start_in(
                unit,
                request.process_id,
                {**request.data, "parent_instance_id": parent.id},
                actor=f"流程 {parent.process_id}",
                business_key=request.business_key,
                org_unit=parent.org_unit,
                region=parent.region,
                instance_id=request.instance_id,
                now=now,
                depth=depth + 1,
            )
        return started

    def get(self, instance_id: str) -> InstanceView:
        with self.store.reader() as unit:
            record = self._instance(unit, instance_id)
            run = self._load(unit, record)
            return InstanceView(record, run.ready_tasks(), run.data())

    def list_instances(
        self, *, process_id: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[InstanceRecord]:
        with self.store.reader() as unit:
            return unit.list_instances(process_id=process_id, status=status, limit=limit)

    def complete_task(
        self,
        instance_id: str,
        task_id: str,
        data: Any,
        *,
        actor: str | None,
        expected_revision: int | None = None,
        guard: Callable[[TaskRow, InstanceRecord], None] | None = None,
        extra: Extra | None = None,
    ) -> InstanceView:
        """``guard`` (authorization) sees the task's index row and the instance
        in the step's own transaction, and raises to refuse; ``extra`` writes
        more in the same transaction (and may refuse it by raising)."""

        def op(run: InstanceRun, now: datetime) -> list[EventDraft]:
            return run.complete_task(task_id, data, actor=actor, now=now)

        def check(unit: Unit, record: InstanceRecord) -> None:
            row = unit.get_ready_task(task_id)
            if row is None or row.instance_id != instance_id:
                raise NotFoundError(f"待办任务 {task_id} 不存在或已办理", code="TASK_NOT_FOUND")
            if guard is not None:
                guard(row, record)

        return self._step(
            instance_id, op, expected_revision=expected_revision, check=check if guard else None, extra=extra
        )

    def annotate(self, instance_id: str, extra: Extra) -> InstanceView:
        """Record something about an instance on its audit chain, with whatever
        ``extra`` writes, in one transaction; the process itself does not move."""
        return self._step(instance_id, lambda _run, _now: [], extra=extra)

    def task_data(self, instance_id: str, task_id: str) -> dict[str, Any]:
        with self.store.reader() as unit:
            return self._load(unit, self._instance(unit, instance_id)).task_data(task_id)

    def retry_incident(self, instance_id: str, data_patch: Mapping[str, Any], *, actor: str | None) -> InstanceView:
        return self._step(instance_id, lambda run, now: run.retry(data_patch, actor=actor, now=now))

    def terminate(self, instance_id: str, reason: str, *, actor: str | None) -> InstanceView:
        return self._step(instance_id, lambda run, _now: run.terminate(reason, actor=actor))

    def fire_due_timers(self, now: datetime | None = None, *, limit: int = 500) -> int:
        """Refresh exactly the instances whose timers are due; returns how many changed."""
        moment = now or self.clock.now()
        if self.wakeups is not None:
            due = self.wakeups.claim_due(moment, limit)
        else:
            with self.store.reader() as unit:
                due = unit.due_instances(moment, limit)
        return self.wake_many(due, moment)

    def wake_many(self, instance_ids: Sequence[str], now: datetime | None = None) -> int:
        """:meth:`wake` for many instances, ``fire_batch`` of them per
        transaction (see engine.service.firing); returns how many changed."""
        moment = now or self.clock.now()
        fired = 0
        for start in range(0, len(instance_ids), self.fire_batch):
            chunk = instance_ids[start : start + self.fire_batch]
            try:
                outcome = fire_batch(self, chunk, moment)
            except Exception:  # rolled back; one by one, a failure surfaces where it belongs
                fired += sum(1 for instance_id in chunk if self.wake(instance_id, moment))
                continue
            if self.wakeups is not None and outcome.schedule:
                self.wakeups.schedule_many(outcome.schedule)
            fired += outcome.fired + sum(1 for instance_id in outcome.alone if self.wake(instance_id, moment))
        return fired

    def wake(self, instance_id: str, now: datetime | None = None) -> bool:
        """Fire whatever is due on one instance. Safe to call twice, or from
        two workers at once: the second finds nothing due, or loses the
        revision race, and changes nothing."""
        moment = now or self.clock.now()
        try:
            view = self._step(instance_id, lambda run, at: run.fire_timers(now=at), now=moment, timer_step=True)
        except ConflictError:
            return False
        except NotFoundError:
            if self.wakeups is not None:
                self.wakeups.schedule(instance_id, None)
            return False
        return view is not None and view.changed

    def rebuild_wakeups(self) -> int:
        """Refill the wake-up index from the database (after Redis lost it)."""
        if self.wakeups is None:
            return 0
        with self.store.reader() as unit:
            entries = unit.wakeups()
        self.wakeups.rebuild(entries)
        return len(entries)

    # -- assignment, 回退 and access records ----------------------------------------

    def instance_record(self, instance_id: str) -> InstanceRecord:
        """The instance's row only (org unit, status): cheap, no workflow load."""
        with self.store.reader() as unit:
            return self._instance(unit, instance_id)

    def ready_task(self, task_id: str) -> TaskRow:
        with self.store.reader() as unit:
            row = unit.get_ready_task(task_id)
        if row is None:
            raise NotFoundError(f"待办任务 {task_id} 不存在或已办理", code="TASK_NOT_FOUND")
        return row

    def assign_task(
        self, task_id: str, assignee: str | None, *, actor: str | None, reason: str | None = None
    ) -> TaskRow:
        """Claim (assignee = actor), unclaim (None) or 转交 (someone else, with a
        reason). A claim of a task someone else holds is a conflict."""
        with self.store.unit() as unit:
            row = unit.get_ready_task(task_id)
            if row is None:
                raise NotFoundError(f"待办任务 {task_id} 不存在或已办理", code="TASK_NOT_FOUND")
            if assignee == row.assignee:
                return row
            if assignee is None:
                kind = "task_unclaimed"
            elif assignee == actor:
                if row.assignee is not None:
                    raise ConflictError(f"任务已由 {row.assignee} 认领", code="TASK_CLAIMED")
                kind = "task_claimed"
            else:
                if not reason:
                    raise InvalidRequestError("转交须填写原因", code="REASSIGN_REASON")
                kind = "task_reassigned"
            payload = {"name": row.name, "lane": row.lane, "from": row.assignee, "to": assignee, "reason": reason}
            self._annotate(unit, row.instance_id, EventDraft(kind, payload, task_id, row.element_id, actor))
            unit.set_assignee(task_id, assignee)
            return replace(row, assignee=assignee)

    def send_back(self, instance_id: str, task_id: str, *, reason: str, actor: str | None) -> InstanceView:
        """回退: reopen the user task before this one, where the model allows it."""
        if not reason:
            raise InvalidRequestError("回退须填写原因", code="SEND_BACK_REASON")
        return self._step(instance_id, lambda run, now: send_back(run, task_id, reason=reason, actor=actor, now=now))

    def record_access(self, instance_id: str, what: str, *, actor: str | None, detail: Mapping[str, Any]) -> None:
        """An administrative/read event on the instance's chain, e.g. a full
        身份证号 shown on the case page."""
        with self.store.unit() as unit:
            self._annotate(unit, instance_id, EventDraft(what, dict(detail), actor=actor))

    def _annotate(self, unit: Unit, instance_id: str, draft: EventDraft) -> None:
        """Chain an event that changes no workflow state."""
        self._chain(unit, self._instance(unit, instance_id), draft, self.clock.now(), _revision_conflict)

    def version_source(self, process_id: str, version: int) -> SourceFile:
        """The model file a version was deployed from, byte for byte (its diagram)."""
        with self.store.reader() as unit:
            record = unit.get_version(process_id, version)
            deployment = unit.find_deployment(record.deployment_hash) if record else None
        if record is not None and deployment is not None:
            wanted = record.definition.get("file")
            for name, content in deployment.files:
                if name == wanted:
                    return SourceFile(name, content)
        raise NotFoundError(f"流程版本 {process_id} v{version} 的模型文件缺失", code="VERSION_NOT_FOUND")

    # -- SLA ---------------------------------------------------------------------

    def extend_sla(
        self, instance_id: str, *, reason: str, approver: str, approver_role: str, actor: str | None
    ) -> InstanceView:
        """延期: the overall limit becomes the policy's extended limit (30 → 45)."""

        def extend(unit: Unit, record: InstanceRecord) -> list[EventDraft]:
            drafts = self.sla.extend(unit, record, reason=reason, approver=approver, approver_role=approver_role)
            for draft in drafts:
                draft.actor = actor
            return drafts

        return self._step(instance_id, lambda _run, _now: [], extra=extend)

    def sla_status(self, instance_id: str) -> list[ClockStatus]:
        now = self.clock.now()
        with self.store.reader() as unit:
            self._instance(unit, instance_id)
            calendar = self.sla.calendar(unit)
            return [
                ClockStatus(c, sla.state(c, now), sla.working_days_left(c, now, calendar))
                for c in unit.clocks(instance_id)
            ]

    def supervisions(
        self,
        *,
        role: str | None = None,
        partner: str | None = None,
        instance_id: str | None = None,
        org_units: Sequence[str] | None = None,
        open_only: bool = True,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """督办 records, newest first; ``partner`` narrows to one 联办 department's,
        ``org_units`` to the cases of those units."""
        with self.store.reader() as unit:
            return unit.supervisions(role=role, partner=partner, instance_id=instance_id, org_units=org_units,
                                     open_only=open_only, limit=limit)  # fmt: skip

    def sla_report(
        self, since: datetime, until: datetime, *, process_id: str | None = None, org_unit: str | None = None
    ) -> list[dict[str, Any]]:
        """On-time rate of closed limits per process, org unit and stage."""
        with self.store.reader() as unit:
            closed = unit.closed_clocks(since, until)
        groups: dict[tuple[str, str | None, str], list[bool]] = {}
        for record, clock in closed:
            if (process_id and record.process_id != process_id) or (org_unit and record.org_unit != org_unit):
                continue
            key = (record.process_id, record.org_unit, clock.stage)
            groups.setdefault(key, []).append(sla.state(clock, until) == sla.CLOSED_ON_TIME)
        return [
            {
                "process_id": pid,
                "org_unit": org,
                "stage": stage,
                "closed": len(flags),
                "on_time": sum(flags),
                "late": len(flags) - sum(flags),
                "on_time_rate": round(sum(flags) / len(flags), 4),
            }
            for (pid, org, stage), flags in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2]))
        ]

    def load_calendar(self, text: str, *, source: str, actor: str | None) -> tuple[Schedule, int]:
        """Load a year's State Council schedule; recompute provisional deadlines."""
        schedule = load_schedule(text, source=source)
        now = self.clock.now()
        with self.store.unit() as unit:
            unit.add_schedule(
                year=schedule.year,
                region=schedule.region,
                version=schedule.version,
                source=source,
                body=text,
                actor=actor,
                at=now,
            )
            self.sla.invalidate()
            calendar = self.sla.calendar(unit)
            payload = {
                "year": schedule.year,
                "region": schedule.region,
                "version": schedule.version,
                "source": source,
                "calendar_version": calendar.version(schedule.region),
            }
            self._append_system(unit, EventDraft("calendar_loaded", payload, actor=actor))
            affected = unit.provisional_instances()
        for instance_id in affected:
            self._step(instance_id, lambda _run, _now: [], recompute=True)
        return schedule, len(affected)

    def load_policies(self, files: Sequence[tuple[str, bytes]], *, actor: str | None) -> list[SlaPolicy]:
        """Validate and store SLA policy files (``*.sla.json``); every stage a
        deployed process names must exist in the policies that govern it."""
        policies = [(name, body, load_policy(body, source=name)) for name, body in files]
        now = self.clock.now()
        loaded = []
        with self.store.unit() as unit:
            problems = []
            for version in _latest(unit.list_versions()):
                references = stage_references(version.definition["spec"])
                file = version.definition.get("file", version.process_id)
                problems += stage_problems(version.process_id, file, references, [p for _, _, p in policies])
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
                    self._append_system(unit, EventDraft("sla_policy_loaded", payload, actor=actor))
            self.sla.invalidate()
        return loaded

    def calendar(self) -> WorkCalendar:
        with self.store.reader() as unit:
            return self.sla.calendar(unit)

    # -- audit -----------------------------------------------------------------

    def audit_system(self, draft: EventDraft, write: Callable[[Unit], None] | None = None) -> None:
        """An event on the system chain (keys issued, endpoints set), in one
        transaction with what ``write`` stores."""
        with self.store.unit() as unit:
            if write is not None:
                write(unit)
            self._append_system(unit, draft)

    def events(self, instance_id: str) -> list[AuditEvent]:
        with self.store.reader() as unit:
            self._instance(unit, instance_id)
            return list(unit.events(instance_id))

    def verify(self, chain_id: str | None = None) -> list[Verdict]:
        with self.store.reader() as unit:
            ids = [chain_id] if chain_id else unit.chain_ids()
            verdicts = []
            for cid in ids:
                head = unit.get_instance(cid)
                events = list(unit.events(cid))
                if head is None and not events:
                    raise NotFoundError(f"实例 {cid} 不存在", code="INSTANCE_NOT_FOUND")
                if head is None:
                    verdicts.append(Verdict(cid, False, len(events), 1, "实例记录已被删除，但其审计事件仍在"))
                    continue
                verdicts.append(verify_chain(cid, events, head_count=head.event_count, head_hash=head.head_hash))
            return verdicts

    # -- internals ---------------------------------------------------------------

    def _instance(self, unit: Unit, instance_id: str) -> InstanceRecord:
        record = unit.get_instance(instance_id)
        if record is None or record.id == SYSTEM_CHAIN:
            raise NotFoundError(f"实例 {instance_id} 不存在", code="INSTANCE_NOT_FOUND")
        return record

    def _spec(self, version: VersionRecord) -> tuple[ProcessDefinition, RestoredSpec]:
        key = (version.process_id, version.version)
        with self._specs_lock:
            cached = self._specs.get(key)
            if cached is not None:
                self._specs.move_to_end(key)
                return cached
        definition = definition_from_dict(version.definition)
        entry = (definition, spec_from_dict(definition.spec))
        with self._specs_lock:
            self._specs[key] = entry
            while len(self._specs) > self._cache_size:
                self._specs.popitem(last=False)
        return entry

    def _load(self, unit: Unit, record: InstanceRecord) -> InstanceRun:
        # Versions are immutable, so a cached spec never needs the database.
        with self._specs_lock:
            cached = self._specs.get((record.process_id, record.version))
        if cached is None:
            version = unit.get_version(record.process_id, record.version)
            if version is None:
                raise NotFoundError(f"流程版本 {record.process_id} v{record.version} 缺失", code="VERSION_NOT_FOUND")
            cached = self._spec(version)
        definition, restored = cached
        return InstanceRun.load(
            record.state,
            definition,
            restored,
            self._script_engine,
            status=record.status,
            incident=Incident.from_dict(record.incident),
        )

    def _step(
        self,
        instance_id: str,
        op: Callable[[InstanceRun, datetime], list[EventDraft]],
        *,
        expected_revision: int | None = None,
        now: datetime | None = None,
        recompute: bool = False,
        extra: Extra | None = None,
        timer_step: bool = False,
        check: Callable[[Unit, InstanceRecord], None] | None = None,
    ) -> InstanceView:
        moment = now or self.clock.now()
        with self.store.unit() as unit:
            record = self._instance(unit, instance_id)
            if check is not None:
                check(unit, record)
            if expected_revision is not None and record.revision != expected_revision:
                raise _revision_conflict()
            run = self._load(unit, record)
            ready_before = {t.id for t in run.ready_tasks()}
            timers_before = run.waiting_timers()
            # What a timer sets off happened when the timer was due, not when
            # a busy scheduler got round to it: stages it starts count from then.
            due = [t.due_at for t in timers_before if t.due_at <= moment]
            event_time = min(due) if timer_step and due else moment
            with (
                sla_context(self.sla.context(unit, record, event_time)),
                collecting_starts(self._deployed(unit)) as requests,
            ):
                drafts = op(run, moment)
            sla_events, clocks = self.sla.step(unit, record, run, event_time, recompute=recompute)
            if extra is not None:
                sla_events += extra(unit, record)
                clocks = unit.clocks(record.id)
            view = self._commit(
                unit, record, run, drafts + sla_events, moment, ready_before, timers_before, clocks=clocks
            )
            children = self._start_requested(unit, view.record, requests, moment, 0)
        self._after_commit(view, run, clocks)
        for child, child_run, child_clocks in children:
            self._after_commit(child, child_run, child_clocks)
        return view

    def _after_commit(self, view: InstanceView, run: InstanceRun, clocks: Sequence[SlaClock] = ()) -> None:
        for hook in self.after_commit_hooks:
            hook(view)
        if self.wakeups is not None:
            moments = [t.due_at for t in run.waiting_timers()]
            moments += [m for m in (c.next_check() for c in clocks) if m is not None]
            self.wakeups.schedule(view.record.id, min(moments, default=None))

    def _commit(
        self,
        unit: Unit,
        record: InstanceRecord,
        run: InstanceRun,
        drafts: list[EventDraft],
        now: datetime,
        ready_before: set[str] | None = None,
        timers_before: list[WaitingTimer] | None = None,
        *,
        clocks: Sequence[SlaClock] = (),
    ) -> InstanceView:
        state = run.dump()
        if not drafts and state == record.state and run.status == record.status:
            return InstanceView(record, run.ready_tasks(), run.data(), changed=False)
        ready = run.ready_tasks()
        before = ready_before or set()
        after = {t.id for t in ready}
        if after != before:
            for hook in self.commit_hooks:
                drafts = drafts + hook(
                    unit, record, run, [t for t in ready if t.id not in before], sorted(before - after), now
                )
        events = seal(record.id, drafts, after_seq=record.event_count, prev_hash=record.head_hash or GENESIS, at=now)
        updated = stepped(record, run, state, events, now)
        if not unit.update_instance(updated, expected_revision=record.revision):
            raise _revision_conflict()
        unit.append_events(events)
        timers = run.waiting_timers()
        if timers != (timers_before or []):
            rows = [TimerRow(record.id, t.task_id, t.element_id, t.due_at) for t in timers]
            unit.replace_timers(record.id, rows)
        data = run.data()
        added, removed, kept = ready_rows(record, run, ready, data, before, clocks, now)
        if added or removed:
            unit.update_ready_tasks(record.id, added=added, removed=removed)
        if kept:
            unit.refresh_task_facts(kept)
        return InstanceView(updated, ready, data)

    def _append_system(self, unit: Unit, draft: EventDraft) -> None:
        now = self.clock.now()
        head = unit.get_instance(SYSTEM_CHAIN)
        if head is None:
            head = InstanceRecord(SYSTEM_CHAIN, SYSTEM_CHAIN, 0, "system", "", 0, now, now, head_hash=GENESIS)
            unit.add_instance(head)
        self._chain(
            unit, head, draft, now, lambda: ConflictError("系统审计链并发写入冲突，请重试", code="REVISION_MISMATCH")
        )

    @staticmethod
    def _chain(
        unit: Unit, head: InstanceRecord, draft: EventDraft, now: datetime, conflict: Callable[[], ConflictError]
    ) -> None:
        """Append one event to a chain whose workflow state does not change."""
        events = seal(head.id, [draft], after_seq=head.event_count, prev_hash=head.head_hash or GENESIS, at=now)
        count, last = head.event_count + 1, events[-1].hash
        updated = replace(head, revision=head.revision + 1, updated_at=now, event_count=count, head_hash=last)
        if not unit.update_instance(updated, expected_revision=head.revision):
            raise conflict()
        unit.append_events(events)
