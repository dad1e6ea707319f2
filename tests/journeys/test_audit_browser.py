"""Issue 15's first acceptance point, in a real browser, as the 审计员 ``audit``
on a real 低保 case (周明's, decided 纳入 by the county, every officer claiming
the task before submitting it):

find the case by the applicant's 身份证号 on 审计 and open it; open the event
where 初审 was submitted and see the household's data, the ready work and who
held it, and the diagram of the case's own deployed version with the token on
公示, all as they stood then; press 校验 and read 复算一致. Then an insider
changes one byte of that stored event: the page and ``jiuzhu verify`` name it.

Every step is screenshotted (test-artifacts/audit-*.png)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page
from sqlalchemy import text

from engine.clock import FixedClock
from integrations.sql.store import SqlStore
from jiuzhu import cli
from jiuzhu.demo_cases import load_households
from tests.support import decided_cases as dc
from tests.support.browser_support import chromium, screenshot_path, serving, sign_in

INITIAL_REVIEWER = "sh_nanshan"


def change_one_byte(store: SqlStore, chain_id: str, seq: int, old: str, new: str) -> None:
    """What an insider with write access could do: one byte of one stored event's body, nothing else."""
    with store.engine.begin() as conn:
        where = {"c": chain_id, "s": seq}
        body = conn.execute(text("SELECT body FROM audit_event WHERE chain_id = :c AND seq = :s"), where).scalar_one()
        forged = body.replace(old, new, 1)
        before, after = body.encode(), forged.encode()
        assert len(before) == len(after) and sum(a != b for a, b in zip(before, after, strict=True)) == 1
        conn.execute(text("UPDATE audit_event SET body = :b WHERE chain_id = :c AND seq = :s"), {**where, "b": forged})


def classes(page: Page, element_id: str) -> str:
    """The CSS classes the diagram gives one BPMN element (jz-current, jz-done)."""
    return page.locator(f"g.djs-element[data-element-id={element_id}]").get_attribute("class") or ""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the pages' own tests run both databases
def test_an_auditor_replays_a_dibao_case_at_the_initial_review_and_proves_it(
    make_store: Callable[[], SqlStore],
    clock: FixedClock,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = make_store()
    engine = dc.dibao_engine(store, clock)
    world = dc.dibao_web(engine, db_url)
    other = dc.start(engine, family="刘桂芳")
    iid = dc.start(engine)
    confirm = dc.to_confirmation(engine, clock, iid, claim=True)
    dc.do(engine, iid, confirm, dc.APPROVE, "mz_county", claim=True)
    joint = engine.get(iid).data["yijianshi_case"]["instance_id"]  # the 一件事 case the approval started
    events = engine.events(iid)
    review = next(e for e in events if e.type == "task_completed" and e.element_id == "db_initial_review")
    claimed = next(e for e in events if e.type == "task_claimed" and e.element_id == "db_initial_review")
    assert claimed.seq == review.seq - 1 and claimed.actor == INITIAL_REVIEWER
    reviewer = world.context.accounts.find_user(INITIAL_REVIEWER)
    assert reviewer is not None
    applicant = load_households()[dc.FAMILY]["application"]["applicant"]["id_number"]

    with serving(world.app) as base, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        # 1. Signed in, 审计 from the menu, the applicant's 身份证号: his 低保 case and the 一件事 it started.
        sign_in(page, base, "audit")
        page.click("header nav >> text=审计")
        page.fill("[data-testid=q-id-number]", applicant)
        page.click("[data-testid=audit-search-submit]")
        page.wait_for_selector("[data-testid=audit-results]")
        page.screenshot(path=screenshot_path("audit-1-search"), full_page=True)
        assert page.inner_text("[data-testid=audit-total]").startswith("共 2 件")
        results = page.inner_text("[data-testid=audit-results]")
        assert "周明" in results and "最低生活保障审核确认" in results and "刘桂芳" not in results
        assert applicant not in results  # the list shows numbers masked
        for case in (iid, joint):
            assert page.locator(f'[data-testid=audit-open][href="/audit/cases/{case}"]').count() == 1
        assert page.locator(f'a[href="/cases/{other}"]').count() == 0

        # 2. The case page, and its 案件历史: every event, the chain intact.
        page.click(f'[data-testid=case-open][href="/cases/{iid}"]')
        page.wait_for_url(f"{base}/cases/{iid}")
        assert "周明" in page.inner_text("main")
        page.click("[data-testid=history]")
        page.wait_for_url(f"{base}/audit/cases/{iid}")
        page.screenshot(path=screenshot_path("audit-2-history"), full_page=True)
        assert "记录完整" in page.inner_text("[data-testid=chain-state]")
        row = page.locator("[data-testid=events] tr", has_text="提交了「初审」")
        assert row.count() == 1 and reviewer.display_name in row.inner_text() and "乡镇审核人" in row.inner_text()

        # 3. The event where 初审 was submitted: the case as it stood right after it.
        row.locator("a").first.click()
        page.wait_for_url(f"{base}/audit/cases/{iid}/events/{review.seq}")
        page.wait_for_selector("#diagram[data-ready=true]", timeout=20000)
        page.screenshot(path=screenshot_path("audit-3-initial-review"), full_page=True)
        page.locator("#diagram").screenshot(path=screenshot_path("audit-4-diagram"))
        assert "提交办理" in page.inner_text("[data-testid=event-kind]")
        assert "db_initial_review" in page.inner_text("[data-testid=event-kind]")
        assert f"{reviewer.display_name}（乡镇审核人）" == page.inner_text("[data-testid=event-who]")
        assert page.inner_text("[data-testid=case-status]") == "办理中"  # since decided; not then
        # The household's data as it stood: 周明 and his mother, full numbers (the auditor may see them).
        household = page.inner_text("[data-testid=household]")
        assert "周明" in household and "周秀兰" in household and "139931195501250408" in household
        assert "拟纳入低保" in page.inner_text("[data-testid=changes]")
        # The ready work as it stood: no one's task; the 公示 timer waiting and holding the token.
        ready = page.inner_text("[data-testid=ready-tasks]")
        assert "此时没有待办的人工任务" in ready and "公示7天" in page.inner_text("[data-testid=waiting]")
        assert page.inner_text("[data-testid=tokens]").strip() == "公示7天"
        # The diagram of the deployed version: the token on 公示, 初审 done, the path taken lit.
        assert f"部署版本 v{engine.instance_record(iid).version}" in page.inner_text("main")
        assert "jz-current" in classes(page, "db_publicity")
        done = classes(page, "db_initial_review")
        assert "jz-done" in done and "jz-current" not in done
        assert page.locator("g.djs-element.jz-current").count() == 1
        for later in ("db_publicity_result", "db_county_confirm"):  # what came after is not shown as done
            assert "jz-done" not in classes(page, later)
        assert page.locator("g.djs-connection.jz-path").count() >= 8

        # 4. One event earlier: 初审 was the ready task, held by the reviewer who had claimed it.
        page.click("[data-testid=previous]")
        page.wait_for_url(f"{base}/audit/cases/{iid}/events/{claimed.seq}")
        page.wait_for_selector("#diagram[data-ready=true]", timeout=20000)
        page.screenshot(path=screenshot_path("audit-5-initial-review-held"), full_page=True)
        assert "认领任务" in page.inner_text("[data-testid=event-kind]")
        held = page.locator("[data-testid=ready-tasks] tbody tr")
        assert held.count() == 1
        cells = [c.strip() for c in held.locator("td").all_inner_texts()]
        assert cells == ["初审", "乡镇审核人", reviewer.display_name]
        assert page.inner_text("[data-testid=tokens]").strip() == "初审"
        assert "jz-current" in classes(page, "db_initial_review")

        # 5. 校验: the case re-executed from its start on its own version, every event compared.
        page.click("[data-testid=replay]")
        page.wait_for_selector("[data-testid=replay-answer]")
        page.screenshot(path=screenshot_path("audit-6-replay"), full_page=True)
        assert page.inner_text("[data-testid=replay-answer]") == "复算一致"
        assert "条事件逐条相同" in page.inner_text("[data-testid=replay-result]")
        assert engine.events(iid)[-1].type == "case_replayed" and engine.events(iid)[-1].actor == "audit"

        # 6. An insider changes one byte of the stored 初审 event: who submitted it.
        change_one_byte(store, iid, review.seq, f'"actor":"{INITIAL_REVIEWER}"', '"actor":"sh_nanshao"')
        page.goto(f"{base}/audit/cases/{iid}")
        page.screenshot(path=screenshot_path("audit-7-tampered"), full_page=True)
        state = page.locator("[data-testid=chain-state]")
        assert "broken" in (state.get_attribute("class") or "") and state.get_attribute("data-seq") == str(review.seq)
        assert f"第 {review.seq} 条事件「提交办理」被篡改" in state.inner_text()
        tampered = page.locator("[data-testid=events] tr.tampered")
        assert tampered.get_attribute("data-seq") == str(review.seq)
        tampered.screenshot(path=screenshot_path("audit-8-tampered-row"))
        page.goto(f"{base}/audit/cases/{iid}/events/{review.seq}")
        page.screenshot(path=screenshot_path("audit-9-tampered-event"))
        assert f"第 {review.seq} 条事件「提交办理」被篡改" in page.inner_text("[data-testid=chain-state]")
        assert errors == []

    # ... and so does `jiuzhu verify`, for the case and over every chain.
    monkeypatch.setenv("DATABASE_URL", db_url)
    capsys.readouterr()
    assert cli.main(["verify", iid]) == 1
    assert capsys.readouterr().out == f"{iid}: 第 {review.seq} 条事件被篡改：事件内容与其哈希不符\n"
    assert cli.main(["verify"]) == 1
    assert capsys.readouterr().out.splitlines() == [f"{iid}: 第 {review.seq} 条事件被篡改：事件内容与其哈希不符"]
