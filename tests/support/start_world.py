"""A caseworker web over the real procedures (低保 with its 核对 connector, 一件事联办,
临时救助, 一事一议), demo org units and users: for 新建申请 and the start gate."""

from __future__ import annotations

from collections.abc import Callable

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.api import create_app
from jiuzhu.wiring import build_web_context, default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT
from tests.support.web_support import WebWorld, demo_accounts, web_settings


def real_world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> WebWorld:
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(make_store(), clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_paths(engine, [PROCESSES], FORMS, actor="designer")
    config = web_settings(db_url)
    context = build_web_context(engine, config)
    units, users = demo_accounts()
    context.accounts.save_org_units(list(units))
    context.accounts.save_users(list(users))
    return WebWorld(engine, create_app(engine, config, web_context=context), context)
