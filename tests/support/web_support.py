"""A caseworker web on a real database: demo org units and users, the
低保 skeleton and sample processes deployed, and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.service.facade import Engine
from integrations.ports import OrgUnit, User
from jiuzhu.accounts import load_demo_users, load_org_units
from jiuzhu.api import create_app
from jiuzhu.settings import Settings
from jiuzhu.web.context import WebContext
from jiuzhu.wiring import build_web_context, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT

DEMO = ROOT / "demo"
PASSWORD = "jiuzhu-demo"
TOKEN = "machine-token"


@lru_cache(maxsize=1)
def demo_accounts() -> tuple[tuple[OrgUnit, ...], tuple[User, ...]]:
    # Hashing is slow on purpose (argon2): once per test session.
    _roles, users = load_demo_users(DEMO / "users.json")
    return tuple(load_org_units(DEMO / "org_units.json")), tuple(u for u, _ in users)


# Worlds move the clock by days and weeks while a caseworker's client stays signed in; sessions
# last that long here unless a test sets the limits (tests/hostile/test_sessions.py does).
LONG_SESSIONS = {"JIUZHU_SESSION_HOURS": str(24 * 366), "JIUZHU_SESSION_IDLE_MINUTES": str(60 * 24 * 366)}


def web_settings(db_url: str, **extra: str) -> Settings:
    return Settings.from_env(
        {"DATABASE_URL": db_url, "JIUZHU_API_TOKEN": TOKEN, "JIUZHU_SECRET_KEY": "k" * 32, **LONG_SESSIONS, **extra}
    )


@dataclass
class WebWorld:
    engine: Engine
    app: FastAPI
    context: WebContext

    def client(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=False, follow_redirects=False)

    def signed_in(self, username: str) -> TestClient:
        client = self.client()
        page = client.get("/signin")
        r = client.post("/signin", data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)})
        assert r.status_code == 303, r.text
        return client

    def start(self, org_unit: str, *, name: str = "张三", id_number: str = "330102199001011234", key: str = "") -> str:
        data = {"applicant": {"name": name, "id_number": id_number}}
        view = self.engine.start(
            "sla_skeleton", data, actor="system", org_unit=org_unit, region="CN", business_key=key or None
        )
        return view.record.id

    def task_of(self, instance_id: str) -> str:
        return self.engine.get(instance_id).ready[0].id


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def web_over(engine: Engine, db_url: str, **settings: str) -> WebWorld:
    """The web and API over ``engine``, with the demo org units and users."""
    config = web_settings(db_url, **settings)
    context = build_web_context(engine, config)
    units, users = demo_accounts()
    context.accounts.save_org_units(list(units))
    context.accounts.save_users(list(users))
    return WebWorld(engine, create_app(engine, config, web_context=context), context)


def make_world(make_engine_for: Callable[..., Engine], db_url: str, **settings: str) -> WebWorld:
    engine = make_engine_for()
    deploy_paths(
        engine,
        [PROCESSES / "sla", PROCESSES / "sla_skeleton", PROCESSES / "sample"],
        FORMS,
        actor="designer",
    )
    return web_over(engine, db_url, **settings)
