"""``jiuzhu serve`` stops on SIGTERM even while a request is stuck in a step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from integrations.sql import SqlStore
from integrations.sql.tables import Instance
from tests.conftest import FIXTURES
from tests.support.browser_support import free_port

ROOT = Path(__file__).resolve().parents[2]
EXIT_BOUND = 15.0  # generous: the server should be gone in a few seconds


def looping_model(tmp_path: Path) -> Path:
    """A script task that loops within a generous sandbox budget: the start request never answers."""
    source = (FIXTURES / "engine" / "failing_script.bpmn").read_text(encoding="utf-8")
    model = tmp_path / "failing_script.bpmn"
    model.write_text(source.replace("share = total / members", "n = 0\nwhile n &gt;= 0:\n    n = n + 1"), "utf-8")
    return model


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jiuzhu serve ended early: {process.stdout.read() if process.stdout else b''!r}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail("jiuzhu serve did not start")


def test_sigterm_stops_the_server_with_a_request_in_flight(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jiuzhu.db'}",
        "JIUZHU_API_TOKEN": "test-token",
        "JIUZHU_SCRIPT_CPU_SECONDS": "600",  # neither the sandbox nor the transaction budget ends the loop
        "JIUZHU_TRANSACTION_SECONDS": "600",
        "JIUZHU_SHUTDOWN_SECONDS": "2",
        "JIUZHU_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
    }
    cli = [sys.executable, "-m", "jiuzhu.cli"]
    deployed = subprocess.run([*cli, "deploy", str(looping_model(tmp_path))], env=env, capture_output=True, timeout=120)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/signin", server)
        answers: list[int | str] = []

        def start() -> None:
            try:
                response = httpx.post(
                    f"{base}/api/processes/failing_script/instances",
                    json={"data": {}},
                    headers={"Authorization": "Bearer test-token"},
                    timeout=120,
                )
                answers.append(response.status_code)
            except httpx.HTTPError as exc:
                answers.append(type(exc).__name__)

        client = threading.Thread(target=start, daemon=True)
        client.start()
        client.join(timeout=1.5)
        assert client.is_alive(), f"the looping start answered at once: {answers}"  # really in flight
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=EXIT_BOUND)
        except subprocess.TimeoutExpired:
            pytest.fail(f"jiuzhu serve did not exit within {EXIT_BOUND} s of SIGTERM")
        client.join(timeout=10)
        assert answers and answers[0] != 201, answers
        store = SqlStore.from_url(env["DATABASE_URL"])
        try:
            with store.reader() as unit:  # the stuck start was rolled back, not half-written
                table = Instance.__table__  # type: ignore[attr-defined]
                started = select(func.count()).where(table.c.process_id == "failing_script")
                assert unit.conn.execute(started).scalar() == 0
        finally:
            store.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()
