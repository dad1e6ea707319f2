"""A web world with 低保 as shipped deployed (v1), or with a second real
version beside it (tests/support/studio_versions.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.wiring import default_connectors
from tests.conftest import PROCESSES, ROOT, START
from tests.support.studio_versions import deploy_v1, deploy_v2
from tests.support.web_support import WebWorld, web_over


def shipped_dibao(tmp: Path) -> tuple[WebWorld, FixedClock]:
    url = f"sqlite:///{tmp / 'studio.db'}"
    store = SqlStore.from_url(url)
    store.create_schema()
    clock = FixedClock(START)
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(store, clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_v1(engine)
    return web_over(engine, url), clock


def two_versions(tmp: Path) -> WebWorld:
    world, clock = shipped_dibao(tmp)
    clock.advance(timedelta(hours=1))
    deploy_v2(world.engine, tmp)
    return world
