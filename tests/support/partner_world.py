"""Factories for the partner-channel tests: a 联办 case on a real database, the
API on a real HTTP port, partner keys and webhook receivers."""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import uvicorn

from engine.clock import SHANGHAI, FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.partner import attach, keys
from integrations.partner.wake import HandoffSignal
from integrations.partner_client.client import PartnerClient
from integrations.redis_wakeups import RedisWakeups
from integrations.sql import SqlStore
from jiuzhu.api import create_app
from jiuzhu.demo_cases import (
    ACCEPT,
    CHECK_INTAKE,
    INITIAL_REVIEW,
    START_INVESTIGATION,
    application,
    home_visit,
    load_households,
    load_org_units,
    opening,
)
from jiuzhu.settings import Settings
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, PROCESSES
from tests.support.dibao_world import connectors as dibao_connectors
from tests.support.yijianshi_world import HOUSEHOLDS, MODELS, NOTIFY, POLICY, REVIEW, Catalogue

ITEMS = ["yiliao", "jiaoyu", "dianfei", "youxian"]  # 医保局, 教育局, 供电公司, 广电网络公司
CASEWORKER = "jb_dongcheng"
PUBLICITY = timedelta(days=12)  # past the 公示 timer of a 低保 case


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(engine: Engine) -> Iterator[str]:
    """The real app on a real port, in this process."""
    settings = Settings.from_env({"DATABASE_URL": "sqlite:///:memory:"})
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine, settings), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Case:
    engine: Engine
    clock: FixedClock
    instance_id: str = ""
    catalogue: Catalogue = field(default_factory=Catalogue.read)

    def start(self, items: list[str] = ITEMS) -> str:
        household = copy.deepcopy(HOUSEHOLDS["张秀英"])
        data = {"household": household, "catalogue_version": self.catalogue.raw["version"],
                "catalogue": self.catalogue.items}  # fmt: skip
        view = self.engine.start("yijianshi", data, actor="mz_county", region="CN", org_unit="qinghe.dongcheng")
        self.instance_id = view.record.id
        return self.review(items)

    @classmethod
    def of_dibao(cls, engine: Engine, clock: FixedClock, dibao_id: str) -> Case:
        """The 联办 case an approved 低保 case started for its household."""
        return cls(engine, clock, engine.get(dibao_id).data["yijianshi_case"]["instance_id"])

    def review(self, items: list[str] = ITEMS) -> str:
        """The caseworker confirms the items (yjs_review): the handoffs open."""
        review = self.ready(REVIEW)[0]
        self.engine.complete_task(self.instance_id, review.id, {"selected_items": items, "adjust_reason": "按本户实际"},
                                  actor=CASEWORKER)  # fmt: skip
        return self.instance_id

    def ready(self, element_id: str) -> list[Any]:
        return [t for t in self.engine.get(self.instance_id).ready if t.element_id == element_id]

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e.payload for e in self.engine.events(self.instance_id) if e.type == kind]

    def notify(self) -> dict[str, Any]:
        task = self.ready(NOTIFY)[0]
        return self.engine.complete_task(self.instance_id, task.id, {"notify_channel": "短信"}, actor=CASEWORKER).data


def partner_engine(make_engine_for: Callable[..., Engine], redis: Any = None) -> tuple[Engine, HandoffSignal]:
    engine = make_engine_for()
    signal = attach(engine, redis)
    return engine, signal


def dibao_engine(
    make_store: Callable[[], SqlStore], clock: FixedClock, redis: Any = None, prefix: str = "jiuzhu"
) -> tuple[Engine, HandoffSignal]:
    """An engine as the app builds one (the simulated 核对 centre, the 联办
    catalogue; with Redis also its wake-up index), the partner channel attached,
    低保 and 联办 deployed."""
    wakeups = None if redis is None else RedisWakeups(redis, key_prefix=prefix)
    engine = Engine(make_store(), clock, Sandbox(helpers=HELPERS), wakeups=wakeups, connectors=dibao_connectors())
    if wakeups is not None:
        engine.rebuild_wakeups()
    signal = attach(engine, redis)
    deploy_paths(engine, [PROCESSES / "sla", PROCESSES / "dibao", PROCESSES / "yijianshi"], FORMS, actor="designer")
    return engine, signal


def approved_dibao(engine: Engine, household: str = "刘桂芳", certificate_no: str = "QH-DB-2026-0001") -> str:
    """A demo household's 低保 case walked from application to 县级审核确认 同意
    (the case ends, and starts the household's 联办 case); returns its id."""
    home = load_households()[household]
    unit = load_org_units()[home["org_unit"]]
    start = opening(home)
    dibao_id = engine.start("dibao", start, actor="申请人", org_unit=unit["code"], region=unit["region"]).record.id

    def do(element_id: str, data: dict[str, Any], actor: str = CASEWORKER) -> None:
        [task] = [t for t in engine.get(dibao_id).ready if t.element_id == element_id]
        engine.complete_task(dibao_id, task.id, data, actor=actor)

    today = engine.clock.now().astimezone(SHANGHAI).date().isoformat()
    do("db_apply", application(home, today), "申请人")
    do("db_accept", ACCEPT)
    do("db_start_investigation", START_INVESTIGATION)
    do("db_check_intake", CHECK_INTAKE, "核对中心")
    do("db_home_visit", home_visit(today))
    do("db_initial_review", INITIAL_REVIEW)
    clock = engine.clock
    assert isinstance(clock, FixedClock)
    clock.advance(PUBLICITY)
    engine.fire_due_timers()  # 公示 is over
    do("db_publicity_result", {"objection": False})
    do("db_county_confirm", {"decision": "同意", "certificate_no": certificate_no}, "mz_county")
    return dibao_id


def deployed(engine: Engine) -> Engine:
    deploy_paths(engine, [POLICY, MODELS], FORMS, actor="designer")
    return engine


def client_for(engine: Engine, base_url: str, department: str, worker: str = "w1") -> PartnerClient:
    return PartnerClient(base_url, keys.create(engine, department, actor="admin"), worker_id=worker)


GRANTED = {"granted": True, "benefit": "每月电费减免10千瓦时", "amount": 5.0, "amount_unit": "元/月"}
