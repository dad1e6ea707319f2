"""试运行 (dry run): a draft walked on a throw-away engine, step by step.

Stateless: every request carries the whole run as inputs (the acceptance
moment, the start data, then each submitted form and each clock jump) and the
run is replayed from them on a fresh engine: an in-memory SQLite database, a
:class:`~engine.clock.FixedClock` set to the acceptance moment, the server's
sandbox and connectors. Nothing is kept between requests and nothing reaches
the server's database: the only reads of it are the calendars and policies in
force and the versions of the procedures the draft starts (一件事联办, say).

Deployed as publish would deploy it (:func:`jiuzhu.wiring.deploy_sources`),
so a draft that publish refuses is refused here with the same located
problems. Bounded: at most ``max_steps`` inputs and ``seconds`` of work; a
run past either stops with a located Chinese error (the state so far is still
shown). A jump moves the clock as the Gherkin worlds do
(:meth:`tests.support.sla_world.World.advance_to`): the scheduler runs at each
wake-up on the way and once at the target, so a saved scenario replays it
exactly.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from engine.audit import AuditEvent
from engine.clock import SHANGHAI, FixedClock
from engine.deploy.model import SourceFile
from engine.errors import InvalidRequestError, JiuzhuError, Location
from engine.runtime.connectors import Connectors, StartProcess
from engine.service.core import ClockStatus
from engine.service.facade import Engine
from engine.sla.clocks import STATE_LABELS
from integrations.sql import SqlStore
from jiuzhu.studio.lint import sources
from jiuzhu.studio.policy_tools import calendar_notes
from jiuzhu.studio.sample_data import sample
from jiuzhu.web.audit_case_view import kind_label
from jiuzhu.wiring import split_sources

ACTOR = "试运行"
OVERALL = "总时限"
_WEEKDAYS = "一二三四五六日"
# A draft starts another procedure by naming it in a start_process parameter: value='"yijianshi"'.
_NAMED_PROCESS = re.compile(r"""value=(?:'|")(?:&quot;|")([a-z][a-z0-9_]{1,39})(?:&quot;|")(?:'|")""")
_RUNNING = threading.BoundedSemaphore(2)  # each run holds a worker thread and an in-memory database


@dataclass(frozen=True)
class Complete:
    """Submit the form of the ready task at ``task`` (a BPMN element id)."""

    task: str
    data: dict[str, Any]
    actor: str | None = None


@dataclass(frozen=True)
class Jump:
    """Move the clock to ``to`` (跳到期限), firing what falls due on the way."""

    to: datetime


Input = Complete | Jump


@dataclass(frozen=True)
class Plan:
    accepted_at: datetime  # aware; the case is started at this moment
    region: str
    org_unit: str | None
    start: dict[str, Any] | None  # None: only set the run up (the start form and its sample)
    steps: tuple[Input, ...] = ()


@dataclass(frozen=True)
class Bounds:
    max_steps: int
    seconds: float
    max_firings: int = 200  # scheduler runs within one jump


@dataclass
class _Run:
    engine: Engine
    clock: FixedClock
    process_id: str
    names: dict[str, str]
    instance_id: str | None = None
    step_of_event: dict[int, int] = field(default_factory=dict)  # event seq -> input index (-1: the start)


def dry_run(
    real: Engine, process_id: str, files: Mapping[str, str], folder: str, plan: Plan, bounds: Bounds
) -> dict[str, Any]:
    """The run's state after its inputs (as JSON), or after the input that failed, with ``error``."""
    if len(plan.steps) > bounds.max_steps:
        message = f"试运行最多 {bounds.max_steps} 步，本次有 {len(plan.steps)} 步；请从头开始或存为场景"
        raise InvalidRequestError(message, code="DRY_RUN_TOO_MANY_STEPS", location=Location(field="steps"))
    if not _RUNNING.acquire(timeout=bounds.seconds):
        raise InvalidRequestError("其他试运行正在进行，请稍后再试", code="DRY_RUN_BUSY")
    try:
        return _replay(real, process_id, files, folder, plan, bounds)
    finally:
        _RUNNING.release()


def _replay(
    real: Engine, process_id: str, files: Mapping[str, str], folder: str, plan: Plan, bounds: Bounds
) -> dict[str, Any]:
    started = time.monotonic()
    store = SqlStore.from_url("sqlite:///:memory:")  # one connection, this thread's; gone when closed
    try:
        store.create_schema()
        clock = FixedClock(plan.accepted_at)
        core = real.core
        # The server's connectors, less the built-in the new engine adds itself (start_process: onto its own store).
        own = Connectors.of(c for name, c in real.connectors.connectors.items() if name != StartProcess.name)
        engine = Engine(store, clock, real.sandbox, connectors=own, roles=core.roles, time_limits=core.time_limits)
        definition = _prepare(real, engine, process_id, dict(files), folder)
        run = _Run(engine, clock, process_id, dict(definition.get("element_names") or {}))
        start_form = definition.get("start_form") or {}
        if plan.start is None:  # the run is being set up: what the start form asks for
            schema = start_form.get("schema")
            return _state(run, plan, 0, None) | {"start_form": schema, "start_sample": sample(schema) if schema else {}}
        error: dict[str, Any] | None = None
        applied = 0
        try:
            _start(run, plan)
            for index, step in enumerate(plan.steps):
                if time.monotonic() - started > bounds.seconds:
                    message = f"试运行超过时限（{bounds.seconds:.0f} 秒），在第 {index + 1} 步前停止"
                    raise InvalidRequestError(message, code="DRY_RUN_TIME_BUDGET", location=_at(index))
                _apply(run, index, step, bounds)
                applied += 1
        except JiuzhuError as exc:
            error = _error(exc, applied if run.instance_id else None, plan)
        return _state(run, plan, applied, error)
    finally:
        store.close()


def _prepare(real: Engine, engine: Engine, process_id: str, files: dict[str, str], folder: str) -> dict[str, Any]:
    """The calendars and policies in force, the procedures the draft starts, then the draft itself."""
    policies, models, resolve = split_sources(sources(files, folder))
    drafted = {_policy_id(body.decode("utf-8")) for _, body in policies}
    with real.store.reader() as unit:
        schedules = unit.schedules()
        # The draft's own policies replace those in force of the same id.
        in_force = [(s, b.encode("utf-8")) for s, b in unit.policies() if _policy_id(b) not in drafted]
    for source, body in schedules:
        engine.load_calendar(body, source=source, actor=ACTOR)
    if in_force + policies:
        engine.load_policies(in_force + policies, actor=ACTOR)
    text = "\n".join(t for n, t in files.items() if n.endswith(".bpmn"))
    own = {str(v.definition.get("file")) for v in real.versions(process_id)}  # the draft's process, as published
    for other in sorted(set(_NAMED_PROCESS.findall(text)) - {process_id}):
        _copy_version(real, engine, other, own)
    result = engine.deploy(models, resolve, actor=ACTOR)
    version = next((v for v in result.versions if v.process_id == process_id), None)
    if version is None:
        message = f"草稿中没有标识为 {process_id} 的可执行流程"
        raise InvalidRequestError(message, code="STUDIO_PROCESS_MISSING")
    return version.definition


def _policy_id(text: str) -> str | None:
    try:
        found = json.loads(text).get("id")
    except (ValueError, AttributeError):
        return None  # deploy's own check locates what is wrong with it
    return found if isinstance(found, str) else None


def _copy_version(real: Engine, engine: Engine, process_id: str, own: set[str]) -> None:
    """The deployment holding the published version of a procedure the draft starts, into the
    throw-away engine: its models (those it calls as well) but not the draft's own process, whose
    published model might not agree with the draft's policies."""
    with real.store.reader() as unit:
        record = unit.latest_version(process_id)
        deployment = unit.find_deployment(record.deployment_hash) if record is not None else None
    if deployment is None:
        return  # the step that starts it says so, located, when the run gets there
    by_name = {name.rsplit("/", 1)[-1]: SourceFile(name, content) for name, content in deployment.files}
    models = [SourceFile(name, content) for name, content in deployment.files
              if name.endswith((".bpmn", ".dmn")) and name not in own]  # fmt: skip
    engine.deploy(models, lambda _bpmn, form: by_name.get(form), actor=ACTOR)


def _at(index: int) -> Location:
    return Location(field=f"steps/{index}")


def _start(run: _Run, plan: Plan) -> None:
    assert plan.start is not None
    view = run.engine.start(run.process_id, plan.start, actor=ACTOR, region=plan.region, org_unit=plan.org_unit,
                            strict=True)  # fmt: skip
    run.instance_id = view.record.id
    _tag(run, -1)


def _tag(run: _Run, index: int) -> None:
    assert run.instance_id is not None
    for event in run.engine.events(run.instance_id):
        run.step_of_event.setdefault(event.seq, index)


def _apply(run: _Run, index: int, step: Input, bounds: Bounds) -> None:
    assert run.instance_id is not None
    if isinstance(step, Complete):
        ready = [t for t in run.engine.get(run.instance_id).ready if t.element_id == step.task]
        if not ready:
            shown = run.names.get(step.task, step.task)
            raise InvalidRequestError(f"「{shown}」不在待办中，无法提交", code="DRY_RUN_TASK_NOT_READY",
                                      location=Location(element_id=step.task, field=f"steps/{index}"))  # fmt: skip
        run.engine.complete_task(run.instance_id, ready[0].id, step.data, actor=step.actor or ACTOR)
    else:
        _jump(run, index, step.to, bounds)
    _tag(run, index)


def _jump(run: _Run, index: int, target: datetime, bounds: Bounds) -> None:
    now = run.clock.now()
    if target < now:
        message = f"时间不能倒流：现在是 {show_moment(now)}，目标 {show_moment(target)}"
        raise InvalidRequestError(message, code="DRY_RUN_TIME_BACKWARDS", location=_at(index))
    for _ in range(bounds.max_firings):
        with run.engine.store.reader() as unit:
            upcoming = min((at for _, at in unit.wakeups()), default=None)
        if upcoming is None or upcoming > target:
            break
        run.clock.set(max(upcoming, run.clock.now()))
        run.engine.fire_due_timers()
    else:
        message = f"跳转途中定时器触发超过 {bounds.max_firings} 次（可能是循环定时器），已停止"
        raise InvalidRequestError(message, code="DRY_RUN_TOO_MANY_FIRINGS", location=_at(index))
    run.clock.set(target)
    run.engine.fire_due_timers()


def _error(exc: JiuzhuError, index: int | None, plan: Plan) -> dict[str, Any]:
    where = "开始案件" if index is None else f"第 {index + 1} 步"
    if index is not None and index < len(plan.steps):
        step = plan.steps[index]
        where += "（提交表单）" if isinstance(step, Complete) else f"（时间来到 {show_moment(step.to)}）"
    problems = [p.to_dict() for p in exc.problems()]
    return {"code": exc.code, "message": f"{where}：{exc.message}", "step": index, "problems": problems}


# -- the state shown after each step ------------------------------------------------------------


def show_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{_WEEKDAYS[day.weekday()]}）"


def show_moment(moment: datetime) -> str:
    """``2026年3月11日 星期三 9点`` (Beijing time): how the Gherkin steps write a moment."""
    local = moment.astimezone(SHANGHAI)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        day = local.date() - timedelta(days=1)  # midnight is 24点 of the day that ends, as deadlines read
        return f"{day.year}年{day.month}月{day.day}日 星期{_WEEKDAYS[day.weekday()]} 24点"
    text = f"{local.year}年{local.month}月{local.day}日 星期{_WEEKDAYS[local.weekday()]} {local.hour}点"
    if local.minute or local.second:
        text += f"{local.minute}分"
    if local.second:
        text += f"{local.second}秒"
    return text


def _state(run: _Run, plan: Plan, applied: int, error: dict[str, Any] | None) -> dict[str, Any]:
    now = run.clock.now()
    body: dict[str, Any] = {"process_id": run.process_id, "now": now.isoformat(), "now_label": show_moment(now),
                            "applied": applied, "error": error, "started": run.instance_id is not None,
                            "element_names": run.names}  # fmt: skip
    if run.instance_id is None:
        return body | {"status": None, "ready": [], "path": [], "clocks": [], "events": [], "wakeups": []}
    engine = run.engine
    view = engine.get(run.instance_id)
    events = engine.events(run.instance_id)
    with engine.store.reader() as unit:
        wakeups = sorted({at for _, at in unit.wakeups()})
    calendar = engine.calendar()
    return body | {
        "status": view.record.status,
        "region": view.record.region,
        "policy": view.record.policy.split("@", 1)[0] if view.record.policy else None,
        "ready": [_task(t) for t in view.ready],
        "path": _path(events),
        "clocks": [_clock(s, calendar, plan.region) for s in engine.sla_status(run.instance_id)],
        "events": [_event(e, run) for e in events],
        "wakeups": [{"at": w.isoformat(), "label": show_moment(w)} for w in wakeups[:10]],
    }


def _task(task: Any) -> dict[str, Any]:
    form = task.info.form if task.info is not None else None
    return {
        "element_id": task.element_id,
        "name": task.name,
        "lane": task.lane,
        "form_file": form.schema_file if form else None,
        "schema": form.schema if form else None,
        "sample": sample(form.schema) if form else {},
    }


def _path(events: Sequence[AuditEvent]) -> list[str]:
    seen: list[str] = []
    for event in events:
        taken = event.payload.get("taken") if event.type == "gateway_decided" else None
        for element in [event.element_id, *(taken if isinstance(taken, list) else [])]:
            if isinstance(element, str) and element not in seen:
                seen.append(element)
    return seen


def _clock(status: ClockStatus, calendar: Any, region: str) -> dict[str, Any]:
    clock = status.clock
    start = clock.started_at.astimezone(SHANGHAI).date()
    notes = calendar_notes(calendar, start, clock.due_on, clock.region or region)
    return {
        "key": clock.key,
        "stage": clock.stage,
        "name": clock.name,
        "label": OVERALL if clock.key == "overall" else clock.name,  # how a scenario step names it
        "element_id": clock.element_id,
        "limit": clock.limit,
        "unit": clock.unit,
        "started_on": start.isoformat(),
        "due_on": clock.due_on.isoformat(),
        "due_label": show_day(clock.due_on),
        "due_at": clock.due_at.isoformat(),
        "due_at_label": show_moment(clock.due_at),
        "state": status.state,
        "state_label": STATE_LABELS.get(status.state, status.state),
        "days_left": status.days_left,
        "closed": clock.closed_at is not None,
        **notes,
    }


def _event(event: AuditEvent, run: _Run) -> dict[str, Any]:
    element = event.element_id
    name = event.payload.get("name") if isinstance(event.payload.get("name"), str) else None
    return {
        "seq": event.seq,
        "type": event.type,
        "kind": kind_label(event.type),
        "element_id": element,
        "element": name or (run.names.get(element, element) if element else None),
        "actor": event.actor,
        "at": event.occurred_at.isoformat(),
        "at_label": show_moment(event.occurred_at),
        "step": run.step_of_event.get(event.seq),
        "end": event.type == "element_completed" and str(event.payload.get("kind", "")).endswith("EndEvent"),
    }
