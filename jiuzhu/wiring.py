"""Building the engine from settings: the one place adapters meet the core."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from redis import Redis

from engine.clock import Clock, SystemClock
from engine.deployment import load_files
from engine.sandbox import Sandbox
from engine.service import DeployResult, Engine
from engine.sla_helpers import HELPERS
from integrations.partner import attach
from integrations.sql import SqlStore
from jiuzhu.scheduler import build_wakeups
from jiuzhu.settings import Settings


def build_engine(settings: Settings, *, clock: Clock | None = None) -> Engine:
    store = SqlStore.from_url(settings.database_url)
    store.create_schema()
    sandbox = Sandbox(
        cpu_seconds=settings.script_cpu_seconds,
        memory_bytes=settings.script_memory_mb * 1024 * 1024,
        helpers=HELPERS,
    )
    engine = Engine(store, clock or SystemClock(), sandbox, wakeups=build_wakeups(settings, store=store))
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    attach(engine, redis).listen_to_redis()
    return engine


def policy_files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.rglob("*.sla.json"))
        elif path.name.endswith(".sla.json"):
            found.append(path)
    return found


def deploy_paths(engine: Engine, paths: Sequence[Path], forms_dir: Path | None, *, actor: str | None) -> DeployResult:
    """Deploy models and forms; SLA policy files (``*.sla.json``) among the
    paths are loaded first, so processes are checked against them."""
    policies = policy_files(paths)
    if policies:
        engine.load_policies([(str(p), p.read_bytes()) for p in policies], actor=actor)
    models = [p for p in paths if not p.name.endswith(".sla.json")]
    if policies and not models:
        return DeployResult("", False, [], ())
    files, resolve = load_files(models, forms_dir)
    return engine.deploy(files, resolve, actor=actor)
