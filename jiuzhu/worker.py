"""``jiuzhu worker``: a process that only fires timers.

Run as many as you like against the same database; with ``REDIS_URL`` they
share one wake-up index and each due instance goes to exactly one of them.
``python -m jiuzhu.worker`` is the same command without the CLI.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from engine.service.facade import Engine
from jiuzhu.scheduler import DATABASE_BATCH, DEFAULT_BATCH, Scheduler, build_wakeups
from jiuzhu.settings import Settings
from jiuzhu.shutdown import HARD_EXIT_MARGIN, exit_hard_after, stop_in_flight
from jiuzhu.wiring import build_engine


def _shown(url: str) -> str:
    """The URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def run_worker(
    engine: Engine,
    settings: Settings,
    *,
    interval: float | None = None,
    batch: int | None = None,
    reconcile_every: float = 5.0,
    stop: threading.Event | None = None,
) -> int:
    """Run the scheduler loop until SIGTERM/SIGINT (or ``stop``)."""
    if engine.wakeups is None and settings.redis_url:
        engine.wakeups = build_wakeups(settings, store=engine.store)  # until wiring passes wakeups=
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()
            stop_in_flight()  # a firing stuck in a step rolls back now
            exit_hard_after(settings.shutdown_seconds + HARD_EXIT_MARGIN)

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    index = f"Redis 唤醒索引 {_shown(settings.redis_url)}" if settings.redis_url else "数据库定时器索引"
    print(f"救助 Jiuzhu 定时器工作进程已启动：{index}，数据库 {_shown(settings.database_url)}", flush=True)  # noqa: T201
    scheduler = Scheduler(
        engine, interval=interval or settings.timer_interval, reconcile_every=reconcile_every, batch=batch
    )
    scheduler.run(stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jiuzhu worker", description="只运行定时器调度的工作进程")
    parser.add_argument("--interval", type=float, default=None, help="最长扫描间隔（秒），默认 JIUZHU_TIMER_INTERVAL")
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help=f"每次认领的实例数（默认：Redis {DEFAULT_BATCH}，数据库 {DATABASE_BATCH}）",
    )
    parser.add_argument("--reconcile-every", type=float, default=5.0, help="按数据库核对唤醒索引的间隔（秒）")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        # Our own notices at INFO; libraries (SpiffWorkflow logs every task
        # state change at INFO) only from WARNING up.
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        logging.getLogger("jiuzhu").setLevel(logging.INFO)
    settings = Settings.from_env()
    engine = build_engine(settings)
    try:
        return run_worker(
            engine, settings, interval=args.interval, batch=args.batch, reconcile_every=args.reconcile_every
        )
    finally:
        engine.store.close()


if __name__ == "__main__":
    sys.exit(main())
