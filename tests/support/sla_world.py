"""The world behind the SLA Gherkin scenarios (``features/sla_*.feature``).

One 低保 case, a clock that only moves when a step says so, and engines on a
real database. Backends: a SQLite file with the embedded scheduler (the
database timer index), or PostgreSQL with the Redis wake-up index. In the
"restart" lifecycle every step, and every scheduler run within a time jump,
gets a brand-new Engine (new store, new Redis client, same database), so
nothing survives in memory between them.

Time jumps behave like a prompt scheduler: on the way to the target moment the
scheduler runs (``fire_due_timers``) at every wake-up moment the database
index names, then once more at the target moment. So a warning or a breach is
recorded at the exact moment the policy sets, however far a step jumps.
"""

from __future__ import annotations

import functools
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
import redis
from sqlalchemy import text

from engine.audit import AuditEvent
from engine.clock import SHANGHAI, FixedClock
from engine.errors import JiuzhuError
from engine.sandbox.scripts import Sandbox
from engine.service.facade import ClockStatus, Engine
from engine.sla.functions import HELPERS
from integrations.redis_wakeups import RedisWakeups
from integrations.sql import SqlStore, make_engine
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, POSTGRES_URL, PROCESSES, REDIS_URL, ROOT, _postgres_available

FEATURES = ROOT / "features"
SKELETON = PROCESSES / "sla_skeleton" / "sla_skeleton.bpmn"

OVERALL = "总时限"
PROCESS_ID = "sla_skeleton"

# -- Chinese dates and times ------------------------------------------------------------

_WEEKDAYS = "一二三四五六日"
_DATE = r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日"
_WEEKDAY = r"(?:\s*[（(]?\s*(?:星期|周)(?P<wd>[一二三四五六日天])\s*[）)]?)?"
_TIME = r"(?:\s*(?P<ampm>凌晨|上午|中午|下午|晚上)?(?P<h>\d{1,2})点(?:(?P<mi>\d{1,2})分)?(?:(?P<s>\d{1,2})秒)?)"
_DAY_RE = re.compile(_DATE + _WEEKDAY)
_MOMENT_RE = re.compile(_DATE + _WEEKDAY + _TIME)


def _day(match: re.Match[str], text: str) -> date:
    day = date(int(match["y"]), int(match["m"]), int(match["d"]))
    if match["wd"] is not None:
        said = "日" if match["wd"] == "天" else match["wd"]
        actual = _WEEKDAYS[day.weekday()]
        assert said == actual, f"「{text}」：{day} 是星期{actual}，不是星期{said}"
    return day


def parse_day(text: str) -> date:
    """``2026年9月24日`` or ``2026年9月24日（星期四）`` (a stated weekday is checked)."""
    match = _DAY_RE.fullmatch(text.strip())
    assert match is not None, f"看不懂的日期：「{text}」（应为 2026年9月24日 或 2026年9月24日（星期四））"
    return _day(match, text)


def parse_moment(text: str) -> datetime:
    """``2026年9月21日 星期一 上午9点``, ``2026年9月23日 23点59分59秒``, ``2026年9月24日 24点`` (Beijing time)."""
    match = _MOMENT_RE.fullmatch(text.strip())
    assert match is not None, f"看不懂的时刻：「{text}」（应为 2026年9月21日 星期一 上午9点 之类）"
    day = _day(match, text)
    hour, minute, second = int(match["h"]), int(match["mi"] or 0), int(match["s"] or 0)
    if match["ampm"] in ("下午", "晚上") and hour < 12:
        hour += 12
    if hour == 24 and minute == 0 and second == 0:  # 24点: the end of the day
        return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)
    assert hour < 24 and minute < 60 and second < 60, f"「{text}」不是有效的时刻"
    return datetime.combine(day, time(hour, minute, second), SHANGHAI)


def show(moment: datetime) -> str:
    local = moment.astimezone(SHANGHAI)
    return f"{local:%Y-%m-%d %H:%M:%S}（星期{_WEEKDAYS[local.weekday()]}，北京时间）"


def show_day(day: date) -> str:
    return f"{day.isoformat()}（星期{_WEEKDAYS[day.weekday()]}）"


# -- the process model: element names and SLA stages ------------------------------------

_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


@dataclass(frozen=True)
class Model:
    names: dict[str, str]  # element id -> BPMN name
    stages: dict[str, str]  # element id -> slaStage

    @classmethod
    def read(cls, path: Path) -> Model:
        root = ET.parse(path).getroot()  # our own model file
        names, stages = {}, {}
        for element in root.iter():
            if not element.tag.startswith(_BPMN) or "id" not in element.attrib:
                continue
            if "name" in element.attrib:
                names[element.attrib["id"]] = element.attrib["name"]
            for prop in element.findall(f"{_BPMN}extensionElements/{_SPIFF}properties/{_SPIFF}property"):
                if prop.attrib.get("name") == "slaStage":
                    stages[element.attrib["id"]] = prop.attrib["value"]
        return cls(names, stages)


# -- engines --------------------------------------------------------------------------------


class Engines:
    """Hands out the engine: always the same one, or (restart) a new one after every restart point."""

    def __init__(
        self, url: str, clock: FixedClock, *, restart: bool, redis_prefix: str | None, connectors: Any = None
    ) -> None:
        self.url = url
        self.connectors = connectors  # service-task connectors every engine gets (engine.runtime.connectors.Connectors)
        self.clock = clock
        self.restart = restart
        self.redis_prefix = redis_prefix
        self.built = 0
        self.mismatches: list[str] = []
        self._current: tuple[Engine, SqlStore, redis.Redis | None, RedisWakeups | None] | None = None

    def restart_point(self) -> None:
        """A step (or a scheduler run) begins: in the restart lifecycle, the next operation gets a new engine."""
        if self.restart:
            self._retire()

    def __call__(self) -> Engine:
        if self._current is not None:
            return self._current[0]
        store = SqlStore.from_url(self.url)
        store.create_schema()
        client = index = None
        if self.redis_prefix is not None:
            client = redis.Redis.from_url(REDIS_URL)
            # No fallback: if Redis failed, claims would come back empty and the scenario would fail.
            index = RedisWakeups(client, key_prefix=self.redis_prefix)
        engine = Engine(store, self.clock, Sandbox(helpers=HELPERS), wakeups=index, connectors=self.connectors)
        if index is not None and self.built == 0:
            engine.rebuild_wakeups()  # the scheduler's start: index built from the database, sentinel set
        self.built += 1
        self._current = (engine, store, client, index)
        return engine

    def reconnect(self, connectors: Any) -> None:
        """From the next operation on, engines call ``connectors`` (an adapter went down or came back)."""
        self.connectors = connectors
        self._retire()

    def index(self) -> RedisWakeups | None:
        """The Redis wake-up index of the current engine (None on the database path)."""
        return None if self._current is None else self._current[3]

    def _retire(self) -> None:
        if self._current is None:
            return
        _, store, client, _ = self._current
        self._current = None
        store.close()
        if client is not None:
            client.close()

    def close(self) -> None:
        self._retire()
        assert not self.mismatches, "\n".join(self.mismatches)


@dataclass
class World:
    engines: Engines
    clock: FixedClock
    model: Model
    instance_id: str | None = None
    region: str | None = None
    last_events: list[AuditEvent] = field(default_factory=list)
    refusal: Exception | None = None

    # -- the case --------------------------------------------------------------------

    @property
    def iid(self) -> str:
        assert self.instance_id is not None, "还没有受理案件"
        return self.instance_id

    def engine(self) -> Engine:
        return self.engines()

    def deploy(self) -> None:
        paths = [PROCESSES / "sla", PROCESSES / "sla_skeleton"]
        deploy_paths(self.engine(), paths, FORMS, actor="流程设计员")

    def start(self, region: str, org_unit: str) -> None:
        view = self.engine().start(PROCESS_ID, {}, actor="乡镇经办人", region=region, org_unit=org_unit)
        self.instance_id, self.region = view.record.id, region

    def start_with(self, process_id: str, data: dict[str, Any], *, region: str, org_unit: str | None) -> None:
        """Start ``process_id`` with the given start data, as the studio's 试运行 does (a client's strict start)."""
        view = self.engine().start(process_id, data, actor="试运行", region=region, org_unit=org_unit, strict=True)
        self.instance_id, self.region = view.record.id, region

    def task_element(self, label: str) -> str:
        """A task named by its label (see :meth:`element`) or, failing that, by its BPMN id."""
        found = self.elements(label)
        if len(found) != 1 and label in self.ready_elements():
            return label
        return self.element(label)

    def policy_id(self) -> str:
        record = self.engine().get(self.iid).record
        assert record.policy is not None, "本案没有适用任何时限政策"
        return record.policy.split("@", 1)[0]

    def ready_elements(self) -> list[str]:
        return [t.element_id for t in self.engine().get(self.iid).ready]

    def complete(self, element_id: str, data: dict[str, Any], actor: str) -> None:
        engine = self.engine()
        tasks = [t for t in engine.get(self.iid).ready if t.element_id == element_id]
        assert tasks, f"「{self.model.names.get(element_id, element_id)}」不在待办中；待办：{self.ready_names()}"
        engine.complete_task(self.iid, tasks[0].id, data, actor=actor)

    def ready_names(self) -> list[str]:
        return [self.model.names.get(e, e) for e in self.ready_elements()]

    def data(self) -> dict[str, Any]:
        return self.engine().get(self.iid).data

    def status(self) -> str:
        return self.engine().get(self.iid).record.status

    def reached(self, label: str) -> bool:
        """Did the case pass the element ``label`` names (e.g. an end event)?"""
        element = self.element(label)
        return any(e.element_id == element for e in self.engine().events(self.iid))

    def try_complete(self, element_id: str, data: dict[str, Any], actor: str) -> None:
        """Complete a task, keeping a refusal (e.g. a form error) for the next step to check."""
        try:
            self.complete(element_id, data, actor)
        except JiuzhuError as exc:
            self.refusal = exc
        else:
            self.refusal = None

    # -- names used in the scenarios ---------------------------------------------------------

    def elements(self, label: str) -> set[str]:
        """Element ids a label names: the BPMN name, or the policy's name for the element's stage."""
        found = {eid for eid, name in self.model.names.items() if name == label}
        if self.instance_id is not None:
            engine = self.engine()
            with engine.store.reader() as unit:
                policy = engine.sla.policy_for(unit, engine.get(self.iid).record)
            if policy is not None:
                for eid, stage in self.model.stages.items():
                    limit = policy.stages.get(stage)
                    if limit is not None and limit.name == label:
                        found.add(eid)
        return found

    def element(self, label: str) -> str:
        found = self.elements(label)
        assert len(found) == 1, f"「{label}」应恰好对应流程中的一个环节，实际：{sorted(found)}"
        return next(iter(found))

    def clocks(self, label: str) -> list[ClockStatus]:
        statuses = self.engine().sla_status(self.iid)
        if label == OVERALL:
            return [s for s in statuses if s.clock.key == "overall"]
        elements = self.elements(label)
        return [
            s
            for s in statuses
            if s.clock.key != "overall" and (s.clock.name == label or s.clock.element_id in elements)
        ]

    def clock_of(self, label: str) -> ClockStatus:
        found = self.clocks(label)
        assert found, f"「{label}」没有计时（现有：{[s.clock.name for s in self.engine().sla_status(self.iid)]}）"
        return found[-1]  # the latest, if the stage ran more than once

    def events(self, type_: str | None = None, label: str | None = None) -> list[AuditEvent]:
        events = self.engine().events(self.iid)
        if type_ is not None:
            events = [e for e in events if e.type == type_]
        if label is not None:
            keys = {s.clock.key for s in self.clocks(label)}
            events = [e for e in events if e.payload.get("clock") in keys]
        return events

    def overdue_alerts(
        self, label: str | None = None, role: str | None = None, *, open_only: bool = False
    ) -> list[dict[str, Any]]:
        """督办 raised on the case (those resolved since included, unless ``open_only``)."""
        rows = self.engine().overdue_alerts(role=role, instance_id=self.iid, open_only=open_only)
        if label is not None:
            keys = {s.clock.key for s in self.clocks(label)}
            rows = [s for s in rows if s["clock"] in keys]
        return rows

    # -- time ------------------------------------------------------------------------------

    def _next_wakeup(self) -> datetime | None:
        engine = self.engine()
        index = self.engines.index()
        if index is not None and index.needs_rebuild():
            # What the scheduler does before each run (jiuzhu.scheduler): an index that Redis lost
            # (e.g. another test's FLUSHDB on the shared database 15) is rebuilt from the database.
            engine.rebuild_wakeups()
        with engine.store.reader() as unit:
            moments = [at for _, at in unit.wakeups()]
        upcoming = min(moments, default=None)
        if index is not None:
            in_redis = index.next_due()
            said = f"Redis 最早 {in_redis and show(in_redis)}，数据库最早 {upcoming and show(upcoming)}"
            # Later (or missing) in Redis: a wake-up would be lost or late. Fail at once.
            lost = upcoming is not None and (in_redis is None or in_redis > upcoming)
            assert not lost, f"Redis 唤醒索引漏了唤醒：{said}"
            if in_redis != upcoming and not any(said in m for m in self.engines.mismatches):
                # Earlier in Redis: a harmless spurious wake-up, but the index should mirror the
                # database. Let the scenario run on and fail when it ends (see Engines.close).
                self.engines.mismatches.append(f"{show(self.clock.now())} 时 Redis 唤醒索引与数据库不一致：{said}")
        return upcoming

    def advance_to(self, target: datetime) -> None:
        now = self.clock.now()
        assert target >= now, f"时间不能倒流：现在是 {show(now)}，目标 {show(target)}"
        fired_at: datetime | None = None
        while True:
            upcoming = self._next_wakeup()
            if upcoming is None or upcoming > target:
                break
            assert fired_at is None or upcoming > fired_at, (
                f"调度器在 {show(fired_at)} 运行后，仍有 {show(upcoming)} 到期的唤醒未处理"
            )
            fired_at = max(upcoming, self.clock.now())
            self.clock.set(fired_at)
            self.engines.restart_point()  # each scheduler run is a process of its own
            self.engine().fire_due_timers()
        self.clock.set(target)
        self.engines.restart_point()
        self.engine().fire_due_timers()

    def add_working_days(self, n: int) -> datetime:
        local = self.clock.now().astimezone(SHANGHAI)
        result = self.engine().calendar().add_working_days(local.date(), n, region=self.region)
        return datetime.combine(result.date, local.timetz())


# -- backends ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    database: str  # "sqlite" | "postgres"
    redis: bool
    restart: bool


_PG = [pytest.mark.postgres, pytest.mark.redis]
BACKENDS = [
    pytest.param(Backend("sqlite", redis=False, restart=False), id="sqlite"),
    pytest.param(Backend("postgres", redis=True, restart=False), id="postgres+redis", marks=_PG),
    pytest.param(Backend("sqlite", redis=False, restart=True), id="sqlite-restart"),
    pytest.param(Backend("postgres", redis=True, restart=True), id="postgres+redis-restart", marks=_PG),
]

StepFunc = TypeVar("StepFunc", bound=Callable[..., None])


def restarts(func: StepFunc) -> StepFunc:
    """Every step begins with a restart point: in the restart lifecycle it runs on a brand-new engine."""

    @functools.wraps(func)
    def step(world: World, **kwargs: Any) -> None:
        world.engines.restart_point()
        func(world, **kwargs)

    return cast(StepFunc, step)


def _redis_available() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:  # a missing service is a failure, never a skip
        pytest.fail(f"Redis is required at {REDIS_URL}: {exc}")


def open_world(
    backend: Backend, tmp_path: Path, *, make: Any = None, model: Model | None = None, connectors: Any = None
) -> Iterator[Any]:
    """A world on ``backend``: a :class:`World`, or what ``make(engines, clock, model)`` builds."""
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=SHANGHAI))
    schema = prefix = None
    if backend.database == "sqlite":
        url = f"sqlite:///{tmp_path / 'jiuzhu.db'}"
    else:
        _postgres_available()
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in POSTGRES_URL else "?"
        url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    if backend.redis:
        _redis_available()
        prefix = f"jiuzhu-test-sla-{uuid.uuid4().hex[:12]}"
    engines = Engines(url, clock, restart=backend.restart, redis_prefix=prefix, connectors=connectors)
    try:
        yield (make or World)(engines, clock, model or Model.read(SKELETON))
    finally:
        try:
            engines.close()
        finally:
            if prefix is not None:
                client = redis.Redis.from_url(REDIS_URL)
                keys = list(client.scan_iter(f"{prefix}:*"))
                if keys:
                    client.delete(*keys)
                client.close()
            if schema is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
