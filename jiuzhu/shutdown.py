"""Stopping on SIGTERM within a few seconds, even with a request stuck in a step.

uvicorn waits for open connections before it exits, without limit unless
told; a request whose step loops in Python never closes its connection, and
its worker thread would keep the process alive anyway. So on SIGTERM:

1. every open transaction is interrupted (:data:`engine.sandbox.interrupt.WATCHDOG`),
   so the steps in flight roll back and answer 503 instead of finishing half-way;
2. uvicorn gets ``timeout_graceful_shutdown``: past it, the requests still
   running are cancelled;
3. a last resort: if the process is still there a few seconds later (a thread
   stuck in C), it exits hard. Nothing is lost: whatever had not committed is
   rolled back by the database.
"""

from __future__ import annotations

import logging
import os
import threading
from types import FrameType
from typing import Any

import uvicorn

from engine.sandbox.interrupt import WATCHDOG

log = logging.getLogger("jiuzhu.shutdown")

HARD_EXIT_MARGIN = 5.0  # seconds after the graceful time-out
HARD_EXIT_CODE = 3


def stop_in_flight() -> int:
    """Roll back every transaction in progress; how many there were."""
    count = WATCHDOG.interrupt_all()
    if count:
        log.warning("正在停止：中止 %d 个进行中的事务（已回滚）", count)
    return count


def exit_hard_after(seconds: float) -> threading.Timer:
    """Exit the process after `seconds` unless it has ended by then."""

    def leave() -> None:
        log.error("停止超时：%.0f 秒后仍有请求未结束，强制退出", seconds)
        logging.shutdown()
        os._exit(HARD_EXIT_CODE)

    timer = threading.Timer(seconds, leave)
    timer.daemon = True
    timer.start()
    return timer


class Server(uvicorn.Server):
    """uvicorn's server, stopping within ``grace`` seconds plus a margin."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._hard_exit: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        stop_in_flight()
        if self._hard_exit is None:
            grace = self.config.timeout_graceful_shutdown or 0
            self._hard_exit = exit_hard_after(grace + HARD_EXIT_MARGIN)


def serve(app: Any, *, host: str, port: int, grace: float, **options: Any) -> None:
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=max(1, round(grace)), **options
    )
    Server(config).run()
