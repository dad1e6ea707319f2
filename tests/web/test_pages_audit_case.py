"""案件历史 (/audit/cases/{id}): a real 低保 case in 公示, its event list with the
chain's state, one event's snapshot (data, diff, ready tasks, clocks, diagram
facts), who may open it, the access event a full 身份证号 leaves, the replay
button only when its route exists, and one changed byte named on the page."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy import text

from engine.clock import FixedClock
from integrations.sql.store import SqlStore
from tests.support import decided_cases as dc
from tests.support.page_text import visible_text
from tests.support.web_support import WebWorld, demo_accounts


@pytest.fixture
def in_publicity(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> tuple[WebWorld, str]:
    """周明's 低保 case through 初审: the 公示 timer is running."""
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    iid = dc.start(engine)
    dc.to_publicity(engine, clock, iid)
    return world, iid


def _seq(world: WebWorld, iid: str, kind: str, element: str) -> int:
    return next(e.seq for e in world.engine.events(iid) if e.type == kind and e.element_id == element)


def _facts(page: str) -> dict[str, list[str]]:
    found = re.search(r"data-facts='([^']*)'", page)
    assert found, "no diagram on the page"
    facts: dict[str, list[str]] = json.loads(found.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    return facts


def test_the_history_lists_every_event_and_shows_the_case_as_it_stood(in_publicity: tuple[WebWorld, str]) -> None:
    world, iid = in_publicity
    client = world.signed_in("audit")
    page = client.get(f"/audit/cases/{iid}")
    assert page.status_code == 200, page.text
    shown = visible_text(page.text)
    assert "记录完整" in shown
    assert "部署版本 v1" in shown
    assert "周明" in shown and "139931198306060178" not in page.text  # the header masks the number
    events = world.engine.events(iid)
    assert f"/audit/cases/{iid}/events/{events[-1].seq}" in page.text
    review = _seq(world, iid, "task_completed", "db_initial_review")
    row = re.search(rf'<tr data-seq="{review}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = visible_text(row.group(1))
    assert "提交办理" in cells and "乡镇审核人" in cells and events[review - 1].hash[:12] in cells
    assert re.search(r"2026-11-02 09:00", cells)  # 01:00 UTC is 09:00 in Beijing

    page = client.get(f"/audit/cases/{iid}/events/{review}")
    assert page.status_code == 200, page.text
    shown = visible_text(page.text)
    # The diff of the submission itself, with its JSON path and the form's title.
    changes = visible_text(re.search(r'data-testid="changes">(.*?)</section>', page.text, re.S).group(1))  # type: ignore[union-attr]
    assert "$.initial_opinion" in changes and "新增" in changes and "拟纳入低保" in changes
    assert "monthly_amount" not in changes  # computed after it, in the same step: not this event's change
    # The state after the step: the amount computed, the 公示 timer holding the token, no user task ready.
    assert "monthly_amount" in shown and "此时没有待办的人工任务" in shown
    assert "公示" in visible_text(re.search(r'data-testid="tokens">(.*?)<', page.text).group(1))  # type: ignore[union-attr]
    facts = _facts(page.text)
    assert facts["current"] == ["db_publicity"]
    assert {"db_apply", "db_accept", "db_initial_review", "db_check"} <= set(facts["completed"])
    assert facts["xml"] == f"/cases/{iid}/diagram.bpmn"
    assert "初审" in shown and "入户调查与初审" in shown  # the clocks as recorded then
    # The household as it stood, with the full number for an auditor: an access event names the view.
    assert "周秀兰" in shown and "139931198306060178" in page.text
    viewed = [e for e in world.engine.events(iid) if e.type == "id_number_viewed"]
    assert viewed and viewed[-1].actor == "audit" and viewed[-1].payload["field"] == "audit_history"
    assert viewed[-1].payload["seq"] == review

    # An earlier event: 受理审查 submitted, the investigation task then ready for the township, unheld.
    accept = _seq(world, iid, "task_completed", "db_accept")
    earlier = visible_text(client.get(f"/audit/cases/{iid}/events/{accept}").text)
    ready = re.search(r"待办与办理人(.*?)令牌所在", earlier, re.S)
    assert ready is not None and "启动家庭经济状况调查" in ready.group(1) and "乡镇(街道)经办人" in ready.group(1)
    assert "initial_opinion" not in earlier

    # Who may open it: auditors and the county in scope, not a township caseworker.
    assert world.signed_in("mz_county").get(f"/audit/cases/{iid}/events/1").status_code == 200
    assert world.signed_in("jb_nanshan").get(f"/audit/cases/{iid}").status_code == 403
    auditor = next(u for u in demo_accounts()[1] if u.username == "audit")
    world.context.accounts.save_users([dataclasses.replace(auditor, username="audit_xiwan", org_unit="qinghe.xiwan")])
    assert world.signed_in("audit_xiwan").get(f"/audit/cases/{iid}").status_code == 403
    assert client.get(f"/audit/cases/{iid}/events/9999").status_code == 404
    assert client.get(f"/audit/cases/{iid}/events/0").status_code == 422

    # The 校验 button of the re-execution check (jiuzhu/web/pages_replay.py).
    first = client.get(f"/audit/cases/{iid}/events/1").text
    form = re.search(r'<form method="post" action="([^"]+)">.*?data-testid="replay">([^<]+)<', first, re.S)
    assert form is not None and form.group(1) == f"/audit/cases/{iid}/replay" and form.group(2) == "校验"


def test_one_changed_byte_of_a_stored_event_is_named_in_red(in_publicity: tuple[WebWorld, str]) -> None:
    world, iid = in_publicity
    review = _seq(world, iid, "task_completed", "db_initial_review")
    store = world.engine.store
    assert isinstance(store, SqlStore)
    with store.engine.begin() as conn:
        body = conn.execute(
            text("SELECT body FROM audit_event WHERE chain_id = :c AND seq = :s"), {"c": iid, "s": review}
        ).scalar_one()
        forged = body.replace('"type":"task_completed"', '"type":"task_complete_"', 1)
        assert len(forged) == len(body) and forged != body
        conn.execute(
            text("UPDATE audit_event SET body = :b WHERE chain_id = :c AND seq = :s"),
            {"b": forged, "c": iid, "s": review},
        )
    client = world.signed_in("audit")
    page = client.get(f"/audit/cases/{iid}")
    state = re.search(r'class="chain broken" data-testid="chain-state" data-seq="(\d+)">([^<]+)<', page.text)
    assert state is not None, page.text
    assert int(state.group(1)) == review
    assert f"第 {review} 条事件「提交办理」被篡改" in state.group(2)
    assert f'<tr data-seq="{review}" class="tampered">' in page.text
    # Every event page says it too.
    assert f"第 {review} 条事件「提交办理」被篡改" in client.get(f"/audit/cases/{iid}/events/1").text
