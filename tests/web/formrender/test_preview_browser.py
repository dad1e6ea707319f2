"""Headless Chromium on the form preview: rows added and removed, a conditional field, errors with values kept."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from integrations.attachments_fs import FileAttachmentStore
from jiuzhu.web.formrender.preview import preview_app
from tests.conftest import FIXTURES, ROOT
from tests.support.formrender_forms import FORMS

ARTIFACTS = ROOT / "test-artifacts"
DEMO_DIR = FIXTURES / "formrender"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = preview_app([DEMO_DIR, FORMS], FileAttachmentStore(tmp_path_factory.mktemp("attachments")))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
        assert thread.is_alive(), "preview server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def rows(page: Page) -> list[str]:
    return page.locator("#jz-f-members > .jz-rows > .jz-row input[name$='/name']").evaluate_all(
        "els => els.map(e => e.value)"
    )


def test_rows_conditions_and_errors_in_chromium(browser: Browser, base_url: str) -> None:
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{base_url}/forms/demo")
    employer = page.locator("#jz-f-employer")
    expect(employer).to_be_hidden()
    page.get_by_label("工资").check()
    expect(employer).to_be_visible()  # the conditional field opens without a round trip
    page.get_by_label("无固定收入").check()
    expect(employer).to_be_hidden()
    page.get_by_label("工资").check()
    employer.fill("清河县某厂")

    add = page.get_by_role("button", name="＋ 添加家庭成员")
    for _ in range(3):
        add.click()
    names = page.locator("#jz-f-members input[name$='/name']:visible")
    expect(names).to_have_count(3)
    names.nth(0).fill("张三")
    names.nth(1).fill("要删掉的")
    names.nth(2).fill("李四")
    page.locator("#jz-f-members .jz-row").nth(1).get_by_role("button", name="删除此项").click()
    assert rows(page) == ["张三", "李四"]
    relationship = page.locator("#jz-f-members select[name$='/relationship']")
    relationship.nth(0).select_option("本人")
    page.locator("#jz-f-members input[name$='/monthly_income']").nth(1).fill("１２００.５")

    page.get_by_label("申请人姓名").fill("张")  # too short
    page.get_by_role("button", name="提交").click()

    # Back from the server: the errors at their fields, everything typed still there.
    expect(page.locator(".jz-summary")).to_contain_text("表单有 2 处需要修改")
    expect(page.locator("#jz-f-applicant_name-err")).to_have_text("至少需要 2 个字符")
    expect(page.locator("#jz-f-members-1-relationship-err")).to_have_text("此项为必填")
    assert rows(page) == ["张三", "李四"]
    expect(page.get_by_label("申请人姓名")).to_have_value("张")
    expect(employer).to_have_value("清河县某厂")
    expect(page.locator("#jz-f-members-1-monthly_income")).to_have_value("1200.5")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "formrender-errors.png"), full_page=True)

    page.get_by_label("申请人姓名").fill("张三丰")
    page.locator("#jz-f-members-1-relationship").select_option("配偶")
    page.get_by_role("button", name="提交").click()
    result = json.loads(page.locator("#result").inner_text())
    assert result == {
        "applicant_name": "张三丰",
        "income_source": "工资",
        "employer": "清河县某厂",
        "members": [
            {"name": "张三", "relationship": "本人"},
            {"name": "李四", "relationship": "配偶", "monthly_income": 1200.5},
        ],
    }
    page.close()


def test_rows_without_javascript_go_through_the_server(browser: Browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base_url}/forms/demo")
    page.get_by_role("button", name="＋ 添加家庭成员").click()
    page.locator("input[name='f/members/0/name']").fill("王五")
    page.get_by_role("button", name="＋ 添加家庭成员").click()
    expect(page.locator("input[name='f/members/0/name']")).to_have_value("王五")
    expect(page.locator("input[name='f/members/1/name']")).to_be_visible()
    page.locator(".jz-row").nth(0).get_by_role("button", name="删除此项").click()
    expect(page.locator("input[name='f/members/0/name']")).to_have_value("")
    expect(page.locator("input[name='f/members/1/name']")).to_have_count(0)
    expect(page.locator(".jz-summary")).to_have_count(0)  # changing rows is not submitting
    context.close()


def test_a_refused_form_shows_its_reason_not_an_error_page(browser: Browser, base_url: str) -> None:
    page = browser.new_page()
    response = page.goto(f"{base_url}/forms/yijianshi-start")
    assert response is not None and response.status == 200
    expect(page.locator(".jz-summary")).to_contain_text("/properties/catalogue/items")
    page.screenshot(path=str(ARTIFACTS / "formrender-refused.png"))
    missing = page.goto(f"{base_url}/forms/no-such-form")
    assert missing is not None and missing.status == 404
    page.close()


def test_conditions_inside_a_row_added_in_the_browser(browser: Browser, base_url: str) -> None:
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{base_url}/forms/household")
    page.get_by_role("button", name="＋ 添加家庭成员").click()
    row = page.locator("#jz-f-members .jz-row").first
    illness = row.locator("input[name='f/members/0/illness']")
    expect(illness).to_be_hidden()
    expect(row.get_by_label("是", exact=True).nth(0)).to_be_checked()  # 计入 defaults to 是 in the new row
    row.locator("input[name='f/members/0/health'][value='重病']").check()
    expect(illness).to_be_visible()
    illness.fill("尿毒症")
    row.locator("input[name='f/members/0/disability'][value='true']").check()
    expect(row.locator("select[name='f/members/0/disability_level']")).to_be_visible()
    page.get_by_label("村居代办").check()
    expect(page.locator("#jz-f-agent_name")).to_be_visible()
    expect(page.locator("#jz-f-agent_mobile")).to_be_hidden()
    page.locator("#jz-f-agent_name").fill("王小红")
    expect(page.locator("#jz-f-agent_mobile")).to_be_visible()  # dependentRequired opens once the trigger is filled
    page.get_by_role("button", name="提交").click()
    expect(page.locator("input[name='f/members/0/illness']")).to_have_value("尿毒症")
    expect(page.locator("#jz-f-members-0-disability_level-err")).to_have_text("此项为必填")
    expect(page.locator("#jz-f-agent_mobile-err")).to_have_text("填写了「代办人姓名」时此项为必填")
    page.screenshot(path=str(ARTIFACTS / "formrender-household-errors.png"), full_page=True)
    page.close()
