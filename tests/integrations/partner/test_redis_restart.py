"""Redis restarted under a running partner channel: a Redis server of this
test's own is killed and started again while long polls wait and the
delivery worker runs. Redis only wakes; the database is the truth, so every
handoff is still fetched or delivered, exactly once."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis

from engine.clock import FixedClock
from engine.service.facade import Engine
from integrations.partner import webhooks
from integrations.partner.webhooks import DeliveryPolicy
from integrations.partner_client.receiver import Receiver
from jiuzhu.cli_partner import deliver_loop
from tests.support.partner_world import GRANTED, Case, client_for, deployed, free_port, partner_engine, serve


class RedisServer:
    """A throw-away redis-server on a free port that can be killed and restarted."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is required for the Redis restart test")
        self.binary, self.port = binary, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        with Redis(port=self.port) as probe:
            while True:
                try:
                    probe.ping()
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


def _wait_for(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_redis_restart_mid_run_loses_no_handoff_and_applies_none_twice(
    make_engine_for: Callable[..., Engine], clock: FixedClock, redis_server: RedisServer
) -> None:
    redis = Redis(port=redis_server.port, socket_timeout=5)
    server_engine, signal = partner_engine(make_engine_for, redis)
    signal.listen_to_redis()
    deployed(server_engine)
    worker_engine, _ = partner_engine(make_engine_for, redis)  # the process that steps the cases
    receiver = Receiver("", now=lambda: clock.now().timestamp())
    hook = receiver.serve()
    receiver.secret = webhooks.set_endpoint(
        server_engine, "广电网络公司", f"http://127.0.0.1:{hook.server_port}/", actor="admin"
    )
    stop = threading.Event()
    policy = DeliveryPolicy()
    delivering = threading.Thread(target=deliver_loop, args=(worker_engine, policy), daemon=True,
                                  kwargs={"interval": 0.3, "redis": redis, "stop": stop})  # fmt: skip
    delivering.start()
    fetched: list[dict[str, Any]] = []
    try:
        with serve(server_engine) as url:
            power = client_for(server_engine, url, "供电公司")

            def poll_once() -> threading.Thread:
                thread = threading.Thread(target=lambda: fetched.extend(power.fetch_and_lock(wait_ms=20_000)))
                thread.start()
                time.sleep(0.2)  # waiting before the handoff exists
                return thread

            cases = []
            for phase in ("before", "down", "after"):
                if phase == "down":
                    redis_server.kill()
                if phase == "after":
                    redis_server.start()
                waiting = poll_once()
                case = Case(worker_engine, clock)
                case.start(["dianfei", "youxian"])
                cases.append(case)
                waiting.join(25)
                assert not waiting.is_alive(), phase
                expected = len(cases)
                _wait_for(lambda: len(receiver.applied) == expected)  # noqa: B023 (called at once)
            for task in fetched:
                power.complete(task, GRANTED)
    finally:
        stop.set()
        delivering.join(10)
        signal.close()
        hook.shutdown()
        hook.server_close()
        redis.close()

    assert [t["topic"] for t in fetched] == ["dianfei"] * 3
    assert Counter(e["type"] for e in receiver.applied) == {"handoff.created": 3}
    assert all(row["status"] == "delivered" for row in webhooks.outbox(server_engine))
    for case in cases:
        events = Counter(e.type for e in server_engine.events(case.instance_id))
        assert events["handoff_opened"] == 2 and events["webhook_delivered"] == 1
        assert events["partner_leased"] == 1 and events["partner_result"] == 1
        assert server_engine.verify(case.instance_id)[0].ok
