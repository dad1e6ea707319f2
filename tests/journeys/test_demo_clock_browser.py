"""In a real browser against ``jiuzhu serve --demo``: the administrator moves the
演示时钟 forward and the 低保 case in 公示 (周明, seeded by the demo) sees its
公示 end — 登记公示结果 is ready — without waiting seven real days."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT
from tests.support.browser_support import chromium, free_port, screenshot_path, sign_in


def test_admin_moves_the_demo_clock_and_the_publicity_ends(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "JIUZHU_API_TOKEN": "t"}
    env.pop("REDIS_URL", None)
    log = tmp_path / "serve.log"  # a file, not a pipe: an unread pipe that fills stalls the server
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jiuzhu.cli", "serve", "--demo", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "jiuzhu serve --demo did not start"
            time.sleep(0.3)
        with chromium() as browser:
            page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
            page.set_default_timeout(90_000)  # two shared cores: the case page's diagram scripts can be slow
            sign_in(page, base, "admin")
            page.goto(f"{base}/cases")
            page.click("[data-testid=ledger] tr:has-text('周明') a")
            case_url = page.url
            assert "登记公示结果" not in page.inner_text(".case-head")  # waiting for the 公示 to end
            assert page.locator("nav a[href='/admin/demo-clock']").inner_text() == "演示时钟"
            page.goto(f"{base}/admin/demo-clock", wait_until="domcontentloaded")
            before = page.inner_text("[data-testid=demo-now]")
            page.click("[data-testid=plus-week]")
            assert "演示时钟已拨到" in page.inner_text("[data-testid=flash]")
            assert page.inner_text("[data-testid=demo-now]") != before
            # 公示 started today runs to 24:00 of the seventh day (起算日不计入), and a last day
            # on a holiday rolls to the next working day: one working day more at most a few times.
            for _ in range(5):
                page.goto(case_url, wait_until="domcontentloaded")
                if "登记公示结果" in page.inner_text(".case-head"):
                    break
                page.goto(f"{base}/admin/demo-clock", wait_until="domcontentloaded")
                page.click("[data-testid=plus-workday]")
            head = page.inner_text(".case-head")
            assert "办理「登记公示结果」" in head, head
            sla = page.inner_text("[data-testid=sla-panel]")
            assert "公示" in sla and "按时办结" in sla
            page.screenshot(path=screenshot_path("demo-clock-publicity-ended"), full_page=True)
            page.goto(f"{base}/admin/demo-clock", wait_until="domcontentloaded")
            page.screenshot(path=screenshot_path("demo-clock"), full_page=True)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    output = log.read_text(encoding="utf-8")
    assert "演示时钟：管理员登录后打开 /admin/demo-clock" in output, output
