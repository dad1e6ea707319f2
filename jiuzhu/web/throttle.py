"""Login throttling per (username, client address): after too many failures
within the window, further attempts are refused until the window passes.
In memory, per server process; each process throttles on its own."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from threading import Lock

from engine.clock import Clock


class LoginThrottle:
    def __init__(self, clock: Clock, *, max_failures: int, window_seconds: float) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = Lock()

    def _recent(self, key: tuple[str, str]) -> deque[datetime]:
        now = self.clock.now()
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        return failures

    def blocked(self, username: str, address: str) -> bool:
        with self._lock:
            return len(self._recent((username, address))) >= self.max_failures

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            self._recent((username, address)).append(self.clock.now())

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username, address), None)
