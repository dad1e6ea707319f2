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
from typing import Any

import uvicorn

from engine.clock import FixedClock
from engine.service import Engine
from integrations.partner import attach, keys
from integrations.partner.wake import HandoffSignal
from integrations.partner_client.client import PartnerClient
from jiuzhu.api import create_app
from jiuzhu.settings import Settings
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS
from tests.yijianshi_world import HOUSEHOLDS, MODELS, NOTIFY, POLICY, REVIEW, Catalogue

ITEMS = ["yiliao", "jiaoyu", "dianfei", "youxian"]  # 医保局, 教育局, 供电公司, 广电网络公司
CASEWORKER = "jb_dongcheng"


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


def deployed(engine: Engine) -> Engine:
    deploy_paths(engine, [POLICY, MODELS], FORMS, actor="designer")
    return engine


def client_for(engine: Engine, base_url: str, department: str, worker: str = "w1") -> PartnerClient:
    return PartnerClient(base_url, keys.create(engine, department, actor="admin"), worker_id=worker)


GRANTED = {"granted": True, "benefit": "每月电费减免10千瓦时", "amount": 5.0, "amount_unit": "元/月"}
