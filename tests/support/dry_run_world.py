"""A studio web with the real 低保 published (v1, as shipped) for the 试运行 tests, and
the inputs of a dry run that walks a 刘桂芳 case up to 公示."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from integrations.sql.tables import AuditEventRow, Instance
from jiuzhu.demo_cases import (
    ACCEPT,
    CHECK_INTAKE,
    INITIAL_REVIEW,
    START_INVESTIGATION,
    application,
    home_visit,
    load_households,
    opening,
)
from jiuzhu.wiring import default_connectors
from tests.conftest import PROCESSES, ROOT, START
from tests.support.studio_versions import deploy_v1
from tests.support.web_support import WebWorld, web_over

API = "/api/studio/drafts/dibao/dry-run"
DAY = "2026-09-28"
UNIT = "qinghe.dongcheng.yangliu"
FAMILY = load_households()["刘桂芳"]


def dibao_studio(tmp_path_factory: pytest.TempPathFactory, **settings: str) -> Iterator[WebWorld]:
    """For a module fixture: the web over a SQLite file with 低保 v1 (and 一件事联办) published."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dry-run') / 'studio.db'}"
    store = SqlStore.from_url(url)
    store.create_schema()
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(store, FixedClock(START), Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_v1(engine)
    yield web_over(engine, url, **settings)
    store.engine.dispose()


def run_through(day: str = DAY) -> list[dict[str, Any]]:
    """Apply, accept, investigate, check, visit and review: the case then waits for 公示."""
    steps = [("db_apply", application(FAMILY, day) | {"apply_channel": "窗口"}), ("db_accept", ACCEPT),
             ("db_start_investigation", START_INVESTIGATION), ("db_check_intake", CHECK_INTAKE),
             ("db_home_visit", home_visit(day)), ("db_initial_review", INITIAL_REVIEW)]  # fmt: skip
    return [{"kind": "complete", "task": task, "data": data} for task, data in steps]


def body(steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    start = opening(FAMILY) | {"apply_channel": "窗口"}
    return {"accepted_on": DAY, "region": "CN", "org_unit": UNIT, "start": start, "steps": steps, **extra}


def counts(world: WebWorld) -> tuple[int, int, int]:
    store = world.engine.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as conn:
        instances = conn.execute(select(func.count()).select_from(Instance)).scalar()
        events = conn.execute(select(func.count()).select_from(AuditEventRow)).scalar()
    return int(instances or 0), int(events or 0), len(world.engine.versions())


def designer(world: WebWorld) -> TestClient:
    client = world.signed_in("designer")
    token = re.search(r'data-csrf="([^"]+)"', client.get("/studio/dibao").text)
    assert token, "the editor page carries the CSRF token"
    client.headers["X-CSRF-Token"] = token.group(1)
    assert client.get("/api/studio/drafts/dibao").status_code == 200  # the draft, from the published v1
    return client
