"""校验（复算） of a finished real 低保 case through every surface: the button on
the case page (auditors only), the page route (CSRF-checked; a fragment for
htmx), the API and the command line; each replay is on the case's chain, and
a rewritten connector response turns every surface's answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.clock import FixedClock
from integrations.sql.store import SqlStore
from jiuzhu import cli
from jiuzhu.replaying import REPLAYED
from tests.support import decided_cases as dc
from tests.support.insider import rewrite_chain
from tests.support.page_text import visible_text
from tests.support.web_support import TOKEN, csrf_of


def test_replay_from_the_case_page_api_and_cli(
    make_store: Callable[[], SqlStore],
    clock: FixedClock,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    iid = dc.decided(engine, clock, dc.APPROVE)

    handler = world.signed_in("jb_nanshan")
    seen = handler.get(f"/cases/{iid}").text
    assert 'data-testid="replay"' not in seen
    assert handler.post(f"/audit/cases/{iid}/replay", data={"csrf_token": csrf_of(seen)}).status_code == 403

    auditor = world.signed_in("audit")
    page = auditor.get(f"/cases/{iid}")
    assert 'data-testid="replay"' in page.text and "校验（复算）" in page.text
    assert auditor.post(f"/audit/cases/{iid}/replay", data={"csrf_token": "forged"}).status_code == 403
    recorded = len(engine.events(iid))  # the page views are on the chain too (full 身份证号 shown)
    answer = auditor.post(f"/audit/cases/{iid}/replay", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 200
    shown = visible_text(answer.text)
    assert "复算一致" in shown and f"按记录的输入重新执行本案，{recorded} 条事件逐条相同" in shown
    fragment = auditor.post(
        f"/audit/cases/{iid}/replay", headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page.text)}
    )
    assert fragment.text.lstrip().startswith('<div class="replay-result"') and "复算一致" in fragment.text
    replays = [e for e in engine.events(iid) if e.type == REPLAYED]
    assert [(e.actor, e.payload["consistent"], e.payload["events"]) for e in replays] == [
        ("audit", True, recorded),
        ("audit", True, recorded + 1),  # the first replay is on the chain: an input, fed as recorded
    ]

    called = next(e for e in engine.events(iid) if e.type == "connector_called" and e.payload["operator"] == "hedui")
    assert isinstance(engine.store, SqlStore)
    rewrite_chain(engine.store.engine, iid, called.seq, {"response": {**called.payload["response"], "eligible": False}})
    api = world.client().post(f"/api/audit/instances/{iid}/replay", headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["consistent"] is False and body["answer"] == "复算不一致"
    first = body["first_difference"]
    assert first["code"] == "REPLAY_MISMATCH" and first["seq"] >= called.seq  # at the call: its data_diff disagrees
    assert first["message"].startswith(f"第 {first['seq']} 条事件（{first['kind']}）复算不一致：{first['field']}")
    assert engine.events(iid)[-1].payload["first_difference"]["seq"] == first["seq"]

    monkeypatch.setenv("DATABASE_URL", db_url)
    assert cli.main(["audit", "replay", iid]) == 1
    assert f"第 {first['seq']} 条事件" in capsys.readouterr().out
    assert cli.main(["verify", "--replay"]) == 1  # the links hold (hashes recomputed); the replay does not
    out = capsys.readouterr().out
    assert out.startswith("ok（") and f"{iid}: 第 {first['seq']} 条事件" in out and "1 / 1 件复算不一致" in out
    assert cli.main(["verify", "--replay", "--max-events", "5"]) == 1  # bounded: refused, named, the sweep goes on
    assert f"未复算 {iid}: 实例 {iid} 有" in capsys.readouterr().out
