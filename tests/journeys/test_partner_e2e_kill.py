"""The delivery worker killed for real: ``jiuzhu deliver`` runs as an OS
process against a file-backed SQLite database (or PostgreSQL with Redis),
the receiver takes the POST and the test SIGKILLs the worker before it can
record the delivery. A fresh worker process redelivers once the dead one's
claim (``--claim-seconds``) has run out; the receiver applies the event once.

The worker runs on real time, so the case is made at the real time too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest

from engine.clock import FixedClock
from engine.service.facade import Engine
from integrations.partner import webhooks
from integrations.partner.handoffs import OUT
from integrations.partner.keys import aware, conn
from integrations.partner_client.receiver import Receiver
from tests.conftest import REDIS_URL, ROOT
from tests.support.partner_world import Case, deployed, partner_engine

CLAIM_SECONDS = 2.0  # short, so the fresh worker need not wait long for the dead one's claim
WAIT = 15.0


class AnswersAfterTheKill(Receiver):
    """Applies the first POST, then holds its answer until the test has killed the worker."""

    def __init__(self) -> None:
        super().__init__("")
        self.posts = 0
        self.arrived, self.killed = threading.Event(), threading.Event()

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        status = super().receive(headers, body)
        self.posts += 1
        if self.posts == 1:
            self.arrived.set()
            self.killed.wait(WAIT)
        return status


def _worker(log: IO[str], db_url: str, redis_url: str | None, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {"DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    if redis_url:
        env["REDIS_URL"] = redis_url
    command = [sys.executable, "-m", "jiuzhu.cli", "deliver", "--claim-seconds", str(CLAIM_SECONDS), *args]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def _row(engine: Engine) -> Any:
    with engine.store.reader() as unit:
        [row] = conn(unit).execute(OUT.select()).all()
    return row


def test_a_worker_killed_mid_delivery_is_redelivered_by_a_fresh_process_and_applied_once(
    db_url: str,
    make_engine_for: Callable[..., Engine],
    clock: FixedClock,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    on_postgres = db_url.startswith("postgresql")
    redis = request.getfixturevalue("redis_client") if on_postgres else None
    engine = deployed(partner_engine(make_engine_for, redis)[0])
    clock.set(datetime.now(UTC))  # the worker's clock is the real one
    receiver = AnswersAfterTheKill()
    server = receiver.serve()
    receiver.secret = webhooks.set_endpoint(
        engine, "广电网络公司", f"http://127.0.0.1:{server.server_port}/", actor="admin"
    )
    redis_url = REDIS_URL if on_postgres else None
    log = tmp_path / "workers.log"
    try:
        with open(log, "w") as output:
            case = Case(engine, clock)
            case.start(["youxian"])
            first = _worker(output, db_url, redis_url, "--interval", "0.2")
            try:
                assert receiver.arrived.wait(WAIT), log.read_text()
            finally:
                os.kill(first.pid, signal.SIGKILL)
                first.wait(WAIT)
                receiver.killed.set()
            assert first.returncode == -signal.SIGKILL
            held = _row(engine)
            assert (held.status, held.attempts) == ("pending", 0)
            assert case.events("webhook_delivered") == []
            # The dead worker's claim keeps a second worker off until it runs out.
            left = (aware(held.claimed_until) - datetime.now(UTC)).total_seconds()
            time.sleep(max(left, 0) + 0.2)
            fresh = _worker(output, db_url, redis_url, "--once")
            assert fresh.wait(WAIT) == 0, log.read_text()
            assert log.read_text().strip().endswith("已投递 1 条"), log.read_text()
    finally:
        server.shutdown()
        server.server_close()
    assert receiver.posts == 2 and len(receiver.applied) == 1  # delivered twice, applied once
    done = _row(engine)
    assert (done.status, done.attempts) == ("delivered", 1)
    [delivered] = case.events("webhook_delivered")
    assert delivered["event_id"] == receiver.applied[0]["id"] == done.id
    assert engine.verify(case.instance_id)[0].ok
