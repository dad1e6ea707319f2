"""Waking long-polling fetches. In one process an asyncio event per waiter;
across processes a Redis pub/sub channel when REDIS_URL is set. Neither is the
truth: a waiter that missed a poke still re-reads the database every
``poll_seconds``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

PREFIX = "jiuzhu"  # JIUZHU_REDIS_PREFIX's default: several deployments may share one Redis


def channel_key(prefix: str = PREFIX) -> str:
    """The pub/sub channel that wakes long polls in other server processes."""
    return f"{prefix}:handoffs"


def stream_key(prefix: str = PREFIX) -> str:
    """The stream that wakes ``jiuzhu deliver``; the outbox rows are the truth."""
    return f"{prefix}:outbox"


class HandoffSignal:
    def __init__(self, redis: Any = None, *, prefix: str = PREFIX) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()
        self.redis = redis
        self.channel = channel_key(prefix)
        self.stream = stream_key(prefix)
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()

    def poke(self, *_args: Any) -> None:
        """After a commit that may have opened a handoff (an engine after-commit hook)."""
        self._wake_local()
        if self.redis is not None:
            try:
                self.redis.publish(self.channel, "1")
                self.redis.xadd(self.stream, {"w": "1"}, maxlen=1000, approximate=True)
            except Exception:  # Redis only accelerates; waiters still poll the database
                pass

    def _wake_local(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    @asynccontextmanager
    async def listening(self) -> AsyncIterator[asyncio.Event]:
        """Register before reading, so a poke between the read and the wait is not lost."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._waiters.discard(entry)

    def listen_to_redis(self) -> None:
        if self.redis is None or self._listener is not None:
            return

        def run() -> None:
            while not self._stop.is_set():
                try:
                    pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(self.channel)
                    while not self._stop.is_set():
                        if pubsub.get_message(timeout=0.5) is not None:
                            self._wake_local()
                except Exception:  # reconnect after a Redis restart
                    self._stop.wait(0.5)

        self._listener = threading.Thread(target=run, name="handoff-signal", daemon=True)
        self._listener.start()

    def close(self) -> None:
        self._stop.set()
