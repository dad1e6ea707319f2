"""A caseworker web over the real procedures (低保 with its 核对 connector, 一件事联办,
临时救助, 一事一议), demo org units and users: for 新建申请 and the start gate."""

from __future__ import annotations

from collections.abc import Callable

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.wiring import default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT
from tests.support.web_support import WebWorld, web_over


def real_world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(make_store(), clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_paths(engine, [PROCESSES], FORMS, actor="designer")
    return web_over(engine, db_url)
