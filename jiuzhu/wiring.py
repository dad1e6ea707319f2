"""Building the engine from settings: the one place adapters meet the core."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.clock import Clock, SystemClock
from engine.deployment import load_files
from engine.sandbox import Sandbox
from engine.service import DeployResult, Engine
from integrations.sql import SqlStore
from jiuzhu.settings import Settings


def build_engine(settings: Settings, *, clock: Clock | None = None) -> Engine:
    store = SqlStore.from_url(settings.database_url)
    store.create_schema()
    sandbox = Sandbox(
        cpu_seconds=settings.script_cpu_seconds,
        memory_bytes=settings.script_memory_mb * 1024 * 1024,
    )
    return Engine(store, clock or SystemClock(), sandbox)


def deploy_paths(engine: Engine, paths: Sequence[Path], forms_dir: Path | None, *, actor: str | None) -> DeployResult:
    files, resolve = load_files(list(paths), forms_dir)
    return engine.deploy(files, resolve, actor=actor)
