"""The worker processes of a timer benchmark, and the CPU they, PostgreSQL
and Redis spend (Linux /proc; empty elsewhere)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Worker:
    def __init__(self, name: str, env: dict[str, str], workdir: Path, batch: int | None) -> None:
        self.log = workdir / f"{name}.log"
        self._sink = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jiuzhu.worker", *(["--batch", str(batch)] if batch else [])],
            cwd=ROOT,
            env=env,
            stdout=self._sink,
            stderr=subprocess.STDOUT,
        )

    def started(self) -> bool:
        if self.proc.poll() is not None:
            raise SystemExit(f"worker exited early:\n{self.log.read_text(errors='replace')}")
        return "已启动" in self.log.read_text(errors="replace")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._sink.close()
        return self.log.read_text(errors="replace")


def worker_env(url: str, redis_url: str | None, prefix: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "JIUZHU_REDIS_URL")}
    env.update({"DATABASE_URL": url, "PYTHONPATH": str(ROOT)})
    if redis_url and prefix:
        env.update({"REDIS_URL": redis_url, "JIUZHU_REDIS_PREFIX": prefix})
    return env


# -- CPU accounting (Linux /proc; empty elsewhere) ---------------------------------------------------


def cpu_by_group(worker_pids: list[int]) -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by each worker, PostgreSQL and Redis process."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out: dict[int, tuple[str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if pid in worker_pids:
            out[pid] = ("workers", seconds)
        elif comm.startswith("postgres"):
            out[pid] = ("postgres", seconds)
        elif comm.startswith("redis-server"):
            out[pid] = ("redis", seconds)
    return out


def cpu_spent(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds by group between two samples; a process that started in
    between counts from zero, one that ended is lost (PostgreSQL backends)."""
    totals = {"workers": 0.0, "postgres": 0.0, "redis": 0.0}
    for pid, (group, seconds) in after.items():
        totals[group] += seconds - before.get(pid, (group, 0.0))[1]
    return totals
