"""The partner channel's Redis keys live under ``JIUZHU_REDIS_PREFIX``, like
the wake-up index's: two deployments sharing one Redis do not wake each
other's long polls or delivery workers. On a real Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from redis import Redis

from integrations.partner import attach, webhooks
from integrations.partner.wake import HandoffSignal, channel_key, stream_key
from jiuzhu import cli_partner
from jiuzhu.settings import Settings
from jiuzhu.wiring import build_engine
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis


def _until(condition: Callable[[], bool], act: Callable[[], None] = lambda: None, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        act()
        time.sleep(0.05)


def test_the_keys_are_named_under_the_prefix() -> None:
    assert (channel_key("site-a"), stream_key("site-a")) == ("site-a:handoffs", "site-a:outbox")
    assert (channel_key(), stream_key()) == ("jiuzhu:handoffs", "jiuzhu:outbox")  # the default deployment


def test_the_built_engine_pokes_its_own_prefix(
    redis_client: Redis, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIUZHU_REDIS_PREFIX", prefix)
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'j.db'}", "REDIS_URL": REDIS_URL})
    engine = build_engine(settings)
    listener = redis_client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(f"{prefix}:handoffs")
    try:
        _until(lambda: listener.get_message(timeout=0.1) is None)  # the subscription is in place
        attach(engine).poke()  # the signal build_engine attached, as after a commit
        _until(lambda: redis_client.xlen(f"{prefix}:outbox") >= 1)
        message = None

        def read() -> None:
            nonlocal message
            message = listener.get_message(timeout=0.1)

        _until(lambda: message is not None, read)
        assert message is not None and message["channel"] == f"{prefix}:handoffs".encode()
    finally:
        listener.close()
        engine.store.close()


def test_the_delivery_worker_wakes_on_its_own_prefix(
    redis_client: Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds: list[int] = []

    def deliver_due(*_args: object) -> int:
        rounds.append(1)
        return 0

    monkeypatch.setattr(webhooks, "deliver_due", deliver_due)
    stop = threading.Event()
    # An interval far past the test: only a message on the stream can start a second round.
    worker = threading.Thread(
        target=cli_partner.deliver_loop,
        args=(None, webhooks.DeliveryPolicy()),
        kwargs={"interval": 600.0, "redis": redis_client, "stop": stop, "prefix": prefix},
        daemon=True,
    )
    worker.start()
    try:
        _until(lambda: len(rounds) == 1)
        signal = HandoffSignal(redis_client, prefix=prefix)
        _until(lambda: len(rounds) >= 2, signal.poke)  # poked until the worker is reading the stream
    finally:
        stop.set()
        redis_client.xadd(stream_key(prefix), {"w": "1"})  # let the worker out of its read
        worker.join(10)
    assert not worker.is_alive()
