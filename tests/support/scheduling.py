"""Helpers for the timer tests that run ``jiuzhu worker`` processes and count
what fired (tests/jiuzhu/test_scheduler.py, tests/engine/service/test_firing.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.service.facade import Engine
from integrations.sql import SqlStore
from tests.conftest import ROOT


def scalar(store: SqlStore, sql: str) -> int:
    with store.reader() as unit:
        return int(unit.conn.execute(text(sql)).scalar_one())


def pending(store: SqlStore) -> int:
    return scalar(store, "SELECT count(*) FROM timer")


def fired(store: SqlStore) -> int:
    return scalar(store, "SELECT count(*) FROM audit_event WHERE type = 'timer_fired'")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def assert_each_fired_once(engine: Engine, ids: list[str]) -> None:
    for instance_id in ids:
        events = engine.events(instance_id)
        types = [e.type for e in events]
        assert types.count("timer_fired") == 1, (instance_id, types)
        assert types[-1] == "instance_completed", (instance_id, types)
        assert engine.get(instance_id).record.status == "completed"
    verdicts = engine.verify()
    assert verdicts and all(v.ok for v in verdicts), [v.describe() for v in verdicts if not v.ok]


class Worker:
    """A ``jiuzhu worker`` OS process, its output in ``logs/<name>.log``."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.log = logs / f"{name}.log"
        self._sink = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jiuzhu.worker", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=self._sink,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._sink.close()
