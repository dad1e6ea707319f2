"""Shared fixtures: real databases (SQLite file and PostgreSQL), a movable clock,
and factories for engines, deployments and apps."""

from __future__ import annotations

import faulthandler
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text

from engine.clock import FixedClock
from engine.deploy.model import load_files
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore, make_engine

ROOT = Path(__file__).resolve().parent.parent
# The studio runs a draft's scenarios (jiuzhu/studio/scenarios.py) in a pytest of its own over a copy of
# processes/ and forms/ with the draft written in; these two variables point the feature worlds there.
# Unset (every ordinary run): the checkout's own folders.
PROCESSES = Path(os.environ.get("JIUZHU_SCENARIO_PROCESSES_DIR") or ROOT / "processes")
FORMS = Path(os.environ.get("JIUZHU_SCENARIO_FORMS_DIR") or ROOT / "forms")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# pytest-xdist runs the suite in workers gw0, gw1, …; each flushes its own Redis database (15, 14, …).
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("JIUZHU_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER}")
POSTGRES_URL = os.environ.get("JIUZHU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SAMPLE = PROCESSES / "sample" / "material_review.bpmn"
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


# pytest-timeout raises in the main thread, which a test deadlocked in C (or a
# thread holding the GIL) never gets back to; then the whole run would stall
# until CI kills it, silently. faulthandler's own thread needs no GIL: a
# minute past its timeout, a test prints every thread's stack and ends the run.
HANG_GRACE_SECONDS = 60
_hang_report_fd: list[int] = []


def pytest_configure(config: pytest.Config) -> None:
    _hang_report_fd.append(os.dup(2))  # the terminal's stderr: during a test, fd 2 is captured


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    marker = item.get_closest_marker("timeout")
    limit = float(marker.args[0]) if marker and marker.args else float(item.config.getini("timeout") or 0)
    if limit > 0:
        faulthandler.dump_traceback_later(limit + HANG_GRACE_SECONDS, exit=True, file=_hang_report_fd[-1])
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def _postgres_available() -> None:
    try:
        psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3).close()
    except psycopg.OperationalError as exc:  # a missing service is a failure, never a skip
        pytest.fail(f"PostgreSQL is required at {POSTGRES_URL}: {exc}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jiuzhu.db'}"
        return
    _postgres_available()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def make_store(db_url: str) -> Iterator[Callable[[], SqlStore]]:
    stores: list[SqlStore] = []

    def factory() -> SqlStore:
        store = SqlStore.from_url(db_url)
        store.create_schema()
        stores.append(store)
        return store

    yield factory
    for store in stores:
        store.engine.dispose()


@pytest.fixture
def make_engine_for(make_store: Callable[[], SqlStore], clock: FixedClock) -> Callable[..., Engine]:
    """A new Engine on the same database each call — like a restarted server."""

    def factory(**sandbox_options: float) -> Engine:
        return Engine(make_store(), clock, Sandbox(helpers=HELPERS, **sandbox_options))  # type: ignore[arg-type]

    return factory


def deploy(engine: Engine, *paths: Path, forms_dir: Path | None = FORMS) -> None:
    files, resolve = load_files(list(paths), forms_dir)
    engine.deploy(files, resolve, actor="designer")


@pytest.fixture
def sample_engine(make_engine_for: Callable[..., Engine]) -> Engine:
    engine = make_engine_for()
    deploy(engine, SAMPLE)
    return engine


@pytest.fixture
def redis_client() -> Iterator[Redis]:
    """The Redis test database (db 15), or a failure — never a skip."""
    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except RedisError as exc:
        pytest.fail(f"Redis is required at {REDIS_URL}: {exc}")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: Redis) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(redis_client.scan_iter(match=f"{name}:*", count=1000))
    if keys:
        redis_client.delete(*keys)
