"""Faults of the partner channel: failing endpoints and backoff, a worker dying
mid-delivery, replayed signatures, dead letters, Redis lost mid-run, expired
and rotated keys. Time is the injected clock throughout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from engine.clock import FixedClock
from engine.errors import UnauthorizedError
from engine.service.facade import Engine
from integrations.partner import keys, webhooks
from integrations.partner.webhooks import DeliveryPolicy
from integrations.partner_client.receiver import EVENT_HEADER, SIGNATURE_HEADER, Receiver
from jiuzhu.api import create_app
from jiuzhu.cli_partner import http_post
from jiuzhu.settings import Settings
from tests.support.partner_world import GRANTED, Case, client_for, deployed, partner_engine, serve

POLICY = DeliveryPolicy(backoff_base=timedelta(seconds=10), max_attempts=5, claim_for=timedelta(seconds=60))


@pytest.fixture
def engine(make_engine_for: Callable[..., Engine]) -> Engine:
    return deployed(partner_engine(make_engine_for)[0])


class Flaky(Receiver):
    """Answers 500 the first ``failures`` times."""

    def __init__(self, clock: FixedClock, failures: int) -> None:
        super().__init__("", now=lambda: clock.now().timestamp())
        self.failures, self.calls = failures, 0

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            return 500
        return super().receive(headers, body)


def _endpoint(engine: Engine, receiver: Receiver, department: str = "广电网络公司") -> Any:
    server = receiver.serve()
    receiver.secret = webhooks.set_endpoint(
        engine, department, f"http://127.0.0.1:{server.server_port}/", actor="admin"
    )
    return server


def _close(server: Any) -> None:
    server.shutdown()
    server.server_close()


def test_endpoint_fails_three_times_then_backoff_then_success(engine: Engine, clock: FixedClock) -> None:
    receiver = Flaky(clock, failures=3)
    server = _endpoint(engine, receiver)
    try:
        Case(engine, clock).start(["youxian"])
        waits = []
        for _ in range(3):
            assert webhooks.deliver_due(engine, http_post, POLICY) == 0
            [row] = webhooks.outbox(engine, status="pending")
            waits.append(row["next_attempt_at"])
            assert webhooks.deliver_due(engine, http_post, POLICY) == 0  # not due yet: nothing sent
            clock.advance(timedelta(seconds=10 * 2 ** (len(waits) - 1)))
        assert receiver.calls == 3
        assert webhooks.deliver_due(engine, http_post, POLICY) == 1
    finally:
        _close(server)
    [row] = webhooks.outbox(engine, status="delivered")
    assert row["attempts"] == 4 and len(receiver.applied) == 1
    assert "HTTP 500" in str(row["last_error"])


def test_worker_dies_mid_delivery_and_the_event_is_redelivered_and_applied_once(
    engine: Engine, clock: FixedClock
) -> None:
    receiver = Receiver("", now=lambda: clock.now().timestamp())
    server = _endpoint(engine, receiver)

    def dies_after_sending(url: str, body: bytes, headers: dict[str, str]) -> int:
        http_post(url, body, headers)
        raise KeyboardInterrupt  # the worker is killed before it records the delivery

    try:
        case = Case(engine, clock)
        case.start(["youxian"])
        with pytest.raises(KeyboardInterrupt):
            webhooks.deliver_due(engine, dies_after_sending, POLICY)
        assert webhooks.deliver_due(engine, http_post, POLICY) == 0  # still claimed by the dead worker
        clock.advance(POLICY.claim_for)
        assert webhooks.deliver_due(engine, http_post, POLICY) == 1
        assert webhooks.deliver_due(engine, http_post, POLICY) == 0
    finally:
        _close(server)
    assert len(receiver.seen) == 1 and len(receiver.applied) == 1
    assert len(case.events("webhook_delivered")) == 1


def test_receiver_rejects_replayed_and_forged_signatures(engine: Engine, clock: FixedClock) -> None:
    captured: list[tuple[dict[str, str], bytes]] = []

    def capture(_url: str, body: bytes, headers: dict[str, str]) -> int:
        captured.append((headers, body))
        return 200

    webhooks.set_endpoint(engine, "广电网络公司", "http://127.0.0.1:9/", actor="admin")
    secret = webhooks.set_endpoint(engine, "广电网络公司", "http://127.0.0.1:9/", actor="admin")
    Case(engine, clock).start(["youxian"])
    webhooks.deliver_due(engine, capture, POLICY)
    [(headers, body)] = captured
    receiver = Receiver(secret, now=lambda: clock.now().timestamp(), tolerance=300)
    assert receiver.receive(headers, body) == 200
    assert receiver.receive(headers, body) == 200 and len(receiver.applied) == 1  # same event id: not applied again
    assert receiver.receive(headers, body.replace("广电".encode(), "供电".encode())) == 401
    assert receiver.receive({**headers, SIGNATURE_HEADER: "t=1,v1=00"}, body) == 401
    clock.advance(timedelta(seconds=301))
    assert receiver.receive(headers, body) == 401  # replayed after the tolerance
    assert receiver.rejected == 3 and headers[EVENT_HEADER]


def test_dead_letters_are_visible_to_administrators_and_can_be_requeued(engine: Engine, clock: FixedClock) -> None:
    policy = DeliveryPolicy(backoff_base=timedelta(seconds=1), max_attempts=2)
    webhooks.set_endpoint(engine, "广电网络公司", "http://127.0.0.1:9/", actor="admin")  # nothing listens there
    case = Case(engine, clock)
    case.start(["youxian"])
    for _ in range(3):
        webhooks.deliver_due(engine, http_post, policy)
        clock.advance(timedelta(seconds=5))
    with TestClient(create_app(engine, Settings.from_env({"JIUZHU_API_TOKEN": "t"}))) as http:
        auth = {"Authorization": "Bearer t"}
        [dead] = http.get("/api/outbox?status=dead", headers=auth).json()
        assert dead["attempts"] == 2 and dead["type"] == "handoff.created"
        assert http.get("/api/outbox?status=dead").status_code == 401
        assert http.post(f"/api/outbox/{dead['id']}/requeue", headers=auth).json()["status"] == "pending"
    assert len(case.events("webhook_dead_lettered")) == 1
    assert [r["id"] for r in webhooks.outbox(engine, status="pending")] == [dead["id"]]


def test_long_poll_returns_when_a_handoff_appears(engine: Engine, clock: FixedClock) -> None:
    with serve(engine) as url:
        power = client_for(engine, url, "供电公司")
        got: list[Any] = []
        waiting = threading.Thread(target=lambda: got.extend(power.fetch_and_lock(wait_ms=20_000)))
        waiting.start()
        time.sleep(0.2)  # the poll is waiting before the handoff exists
        assert got == []
        Case(engine, clock).start(["dianfei"])
        waiting.join(25)
    assert [t["topic"] for t in got] == ["dianfei"]


def test_redis_wakes_other_processes_and_losing_it_loses_nothing(
    make_engine_for: Callable[..., Engine], clock: FixedClock, redis_client: Redis
) -> None:
    server_engine, server_signal = partner_engine(make_engine_for, redis_client)
    server_signal.listen_to_redis()
    deployed(server_engine)
    worker_engine, _ = partner_engine(make_engine_for, redis_client)  # "another process": its own engine and signal
    try:
        with serve(server_engine) as url:
            power = client_for(server_engine, url, "供电公司")
            got: list[Any] = []
            waiting = threading.Thread(target=lambda: got.extend(power.fetch_and_lock(wait_ms=20_000)))
            waiting.start()
            time.sleep(0.2)
            Case(worker_engine, clock).start(["dianfei", "youxian"])
            waiting.join(25)
            assert [t["topic"] for t in got] == ["dianfei"]
            webhooks.set_endpoint(worker_engine, "广电网络公司", "http://127.0.0.1:9/", actor="admin")
            redis_client.flushdb()  # this test's own database (JIUZHU_TEST_REDIS_URL)
            cable = client_for(server_engine, url, "广电网络公司")
            [task] = cable.fetch_and_lock()
            cable.complete(task, GRANTED)
            power.complete(got[0], GRANTED)
    finally:
        server_signal.close()
    assert len(webhooks.outbox(server_engine)) == 0  # the endpoint was set after the handoffs: pull only


def test_rotated_key_overlaps_then_expires_and_revoked_keys_stop(engine: Engine, clock: FixedClock) -> None:
    old = keys.create(engine, "供电公司", actor="admin")
    new = keys.rotate(engine, "供电公司", overlap=timedelta(hours=1), actor="admin")
    assert keys.authenticate(engine, old).department == keys.authenticate(engine, new).department == "供电公司"
    clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(UnauthorizedError):
        keys.authenticate(engine, old)
    assert keys.authenticate(engine, new).department == "供电公司"
    assert keys.revoke(engine, "供电公司", actor="admin") == 1
    with pytest.raises(UnauthorizedError):
        keys.authenticate(engine, new)
    with pytest.raises(UnauthorizedError):
        keys.authenticate(engine, new[:-2] + "xx")
    with engine.store.reader() as unit:
        kinds = [e.type for e in unit.events("_system") if e.type.startswith("partner_")]
    assert kinds == ["partner_key_created", "partner_keys_rotated", "partner_key_created", "partner_keys_revoked"]
