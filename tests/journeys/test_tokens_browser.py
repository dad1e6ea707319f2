"""In a real browser: a village 协理员 opens API 令牌 from her menu, creates a
token (shown once), uses it as herself against the same server, and revokes it."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from engine.service.facade import Engine
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in
from tests.support.web_support import make_world


def test_a_village_assistant_creates_uses_and_revokes_her_token(
    make_engine_for: Callable[..., Engine], db_url: str
) -> None:
    world = make_world(make_engine_for, db_url)
    mine = world.start("qinghe.dongcheng.yangliu", name="林大山")
    theirs = world.start("qinghe.xiwan.shangzhuang", name="邻镇李四")
    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        sign_in(page, base, "xl_yangliu")
        page.click("[data-testid=my-tokens]")
        page.wait_for_url(f"{base}/account/tokens")
        assert "还没有 API 令牌" in page.inner_text("[data-testid=tokens]")
        page.fill("input[name=name]", "台账导出脚本")
        page.click("[data-testid=create-token] button[type=submit]")
        token = page.inner_text("[data-testid=token-secret]").strip()
        assert token.startswith("jzt_")
        assert "无法再次查看" in page.inner_text("[data-testid=new-token]")
        page.screenshot(path=screenshot_path("tokens"), full_page=True)

        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=auth) as api:
            assert api.get(f"/api/instances/{mine}").status_code == 200
            assert api.get(f"/api/instances/{theirs}").status_code == 403  # another township's case
            listed = {r["id"] for r in api.get("/api/instances").json()}
            assert mine in listed and theirs not in listed

        page.goto(f"{base}/account/tokens")
        assert token not in page.content()  # shown once
        row = page.locator("[data-testid=tokens] tbody tr", has_text="台账导出脚本")
        assert "有效" in row.inner_text() and "—" not in row.locator("td").nth(3).inner_text()  # last used
        row.locator("[data-testid=revoke]").click()
        page.wait_for_url(f"{base}/account/tokens")
        assert "已吊销 API 令牌「台账导出脚本」" in page.inner_text("main")
        refused = httpx.get(f"{base}/api/processes", headers=auth)
        assert refused.status_code == 401 and refused.json()["code"] == "API_TOKEN_INVALID"
