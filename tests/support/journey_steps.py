"""Page steps for the caseworker journeys (tests/journeys/test_journey_*.py): what
a person does in the browser — sign in, find the task in the inbox, fill the
task's form, submit it, download a notice from the case page. Nothing here
calls the engine or the API: a journey moves its case only through these pages."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page
from pypdf import PdfReader

from tests.support.browser_support import ARTIFACTS
from tests.support.web_support import PASSWORD

SCREENS = ARTIFACTS / "journeys"
VIEWPORT = {"width": 1366, "height": 900}


@dataclass
class Desk:
    """One browser per journey; a page per person, each signed in once."""

    browser: Browser
    base: str
    pages: dict[str, Page] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_user(self, username: str) -> Page:
        if username not in self.pages:
            page = self.browser.new_context(locale="zh-CN", viewport=VIEWPORT).new_page()  # type: ignore[arg-type]
            page.on("pageerror", lambda exc: self.errors.append(f"{username}: {exc}"))
            sign_in(page, self.base, username)
            self.pages[username] = page
        return self.pages[username]


def sign_in(page: Page, base: str, username: str) -> None:
    """The sign-in form; a caseworker lands on 待办, a partner department on 联办待办."""
    page.goto(f"{base}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/signin" not in url)


def open_task(page: Page, base: str, task_name: str, applicant: str, *, of: int = 1) -> str:
    """Open the named task of the applicant's case from the inbox and claim it
    when nobody has; returns the task's id (from the page's address). ``of``:
    how many such tasks the inbox must list (the instances of a multi-instance
    task, e.g. one opinion per attending unit); the first is opened."""
    page.goto(f"{base}/inbox")
    row = page.locator("table[data-testid=inbox] tbody tr[data-task]").filter(has_text=applicant)
    row = row.filter(has=page.locator(f"a:text-is('{task_name}')"))
    found = row.count()
    assert found == of, f"「{task_name}」({applicant}) 在 {page.url} 的待办中有 {found} 件：\n{page.inner_text('main')}"
    row.first.locator("a").click()
    page.wait_for_url(f"{base}/tasks/*")
    assert page.inner_text("[data-testid=task-name]") == task_name
    claim = page.locator("form[action$='/claim'] button:has-text('认领')")
    if claim.count():
        claim.click()
        page.wait_for_selector("form[action$='/unclaim']")
    return page.url.rsplit("/", 1)[1]


def start_case(page: Page, base: str, process_id: str, data: Mapping[str, Any], org_unit: str | None = None) -> str:
    """新建申请 → the procedure → its start form (and the 经办单位 when given); lands
    on the case's first task. Returns that task's id."""
    page.goto(f"{base}/inbox")
    page.click("nav a:has-text('新建申请')")
    page.click(f"a[data-process={process_id}]")
    page.wait_for_url(f"{base}/cases/new/{process_id}")
    if org_unit is not None:
        page.select_option("#org_unit", org_unit)
    fill_form(page, data)
    page.click("[data-testid=start-form] button[value=submit]")
    page.wait_for_url(f"{base}/tasks/*")
    return page.url.rsplit("/", 1)[1]


def open_case(page: Page, base: str, applicant: str, assistance_type: str) -> str:
    """Open the applicant's case of that 救助类别 from 案件 (the ledger); returns its id."""
    page.goto(f"{base}/cases")
    row = page.locator("table[data-testid=ledger] tbody tr").filter(has_text=applicant)
    row = row.filter(has=page.locator(f"td:has-text('{assistance_type}')"))
    assert row.count() == 1, f"案件台账中没有{applicant}的{assistance_type}案件：\n{page.inner_text('main')}"
    row.locator("a").first.click()
    page.wait_for_url(f"{base}/cases/*")
    return page.url.rsplit("/", 1)[1]


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fill_form(page: Page, data: Mapping[str, Any], prefix: str = "f") -> None:
    """Type ``data`` into the rendered form as a person would: text into inputs,
    options chosen, boxes ticked, 添加 clicked for each array row still missing."""
    for key, value in data.items():
        name = f"{prefix}/{_escape(key)}"
        if isinstance(value, Mapping):
            fill_form(page, value, name)
        elif isinstance(value, list) and page.locator(f"button.jz-add[value='add:{name[2:]}']").count():
            for index, row in enumerate(value):
                if page.locator(f"[name='{name}/@'][value='{index}']").count() == 0:
                    page.click(f"button.jz-add[value='add:{name[2:]}']")
                    page.wait_for_selector(f"[name='{name}/@'][value='{index}']", state="attached")
                if isinstance(row, Mapping):
                    fill_form(page, row, f"{name}/{index}")
                else:
                    set_field(page, f"{name}/{index}", row)
        else:
            set_field(page, name, value)


def set_field(page: Page, name: str, value: Any) -> None:
    controls = page.locator(f"[name='{name}']:not([type=hidden])")
    assert controls.count(), f"表单中没有字段 {name}"
    first = controls.first
    tag = first.evaluate("el => el.tagName.toLowerCase()")
    kind = (first.get_attribute("type") or "").lower()
    if tag == "select":
        first.select_option(_text(value))
    elif kind == "radio":
        page.check(f"input[type=radio][name='{name}'][value='{_text(value)}']")
    elif kind == "checkbox" and controls.count() == 1 and isinstance(value, bool):
        first.set_checked(value)
    elif kind == "checkbox":  # a choice of several: exactly these ticked
        wanted = {_text(v) for v in (value if isinstance(value, list) else [value])}
        for box in controls.all():
            box.set_checked(box.get_attribute("value") in wanted)
        for v in wanted:
            assert page.locator(f"input[type=checkbox][name='{name}'][value='{v}']").count(), f"{name} 没有选项 {v}"
    else:
        first.fill(_text(value))


def fill_by_label(page: Page, label: str, value: str) -> None:
    """One field by the label a person reads on the form."""
    page.get_by_label(label, exact=True).fill(value)


def submit(page: Page, base: str, done: str) -> None:
    """提交 the task's form; it must land back on 待办 with the 已办理 message."""
    page.click("[data-testid=task-form] button[value=submit]")
    page.wait_for_load_state()
    if not page.url.startswith(f"{base}/inbox"):
        errors = page.locator(".jz-error").evaluate_all("els => els.map(e => e.id + ': ' + e.textContent)")
        raise AssertionError(f"「{done}」未能提交：{errors or page.inner_text('main')[:2000]}")
    assert f"已办理「{done}」" in page.inner_text("main")


def do_task(page: Page, base: str, task_name: str, applicant: str, data: Mapping[str, Any], *, of: int = 1) -> str:
    task = open_task(page, base, task_name, applicant, of=of)
    fill_form(page, data)
    submit(page, base, task_name)
    return task


def shot(page: Page, name: str) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def pdf_text(page: Page, link: str, name: str) -> str:
    """The notice a link on the case page downloads, fetched with the page's own
    session (the PDF is served inline, which a headless browser may not save as a
    download); it must be a PDF. Kept next to the screenshots; returns its text."""
    anchor = page.locator(link)
    assert anchor.is_visible(), f"案件页上没有 {link}"
    response = page.request.get(page.url.split("/cases/")[0] + str(anchor.get_attribute("href")))
    assert response.status == 200, response.text()[:500]
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF"), body[:100]
    SCREENS.mkdir(parents=True, exist_ok=True)
    (SCREENS / f"{name}.pdf").write_bytes(body)
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages)


@contextmanager
def collecting(desk: Desk) -> Iterator[Desk]:
    yield desk
    assert desk.errors == [], json.dumps(desk.errors, ensure_ascii=False)
