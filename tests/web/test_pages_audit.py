"""审计查询 (/audit) over real 低保 cases: every search term, the scope of a
county and a township auditor, who may not search, and the 入户抽查 sample:
drawn from a recorded seed, stored, audited on the system chain, and drawn
again the same."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from engine.audit import AuditEvent
from engine.clock import FixedClock
from engine.service.core import SYSTEM_CHAIN
from engine.service.facade import Engine
from integrations.sql.audit_queries import CaseFilter, find_cases
from integrations.sql.store import SqlStore
from jiuzhu import cli
from jiuzhu.audit_policy import load_audit_policy
from jiuzhu.audit_sample import SAMPLE_EVENT, draw
from jiuzhu.audit_search import Terms, search
from jiuzhu.timefmt import day_of
from tests.support.audit_world import TOWNSHIP_AUDITOR, WANG, ZHAO, ZHOU, ZHOU_JOINT, AuditWorld, audit_world
from tests.support.page_text import raw_codes, visible_text
from tests.support.web_support import WebWorld, make_world

CASES = (
    ("qinghe.dongcheng.yangliu", "张三", "330102199001011234"),
    ("qinghe.dongcheng.hepan", "王五", "330102199001015678"),
    ("qinghe.xiwan.shangzhuang", "李四", "33010219900101567X"),
)
MEMBER = {"name": "钱小七", "id_number": "33010220100101002X"}
ROW = re.compile(r'<td><a href="/audit/cases/([0-9a-f-]+)">')


@pytest.fixture
def make_world_over(make_engine_for: Callable[..., Engine], db_url: str) -> Callable[[], WebWorld]:
    return lambda: make_world(make_engine_for, db_url)


@pytest.fixture
def world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> AuditWorld:
    return audit_world(make_store, clock, db_url)


# Driving 低保 to 审核确认 takes most of this module's time: the real cases run on SQLite, and the
# database's part of the search (scope, dates, 身份证号, actor) runs on both databases below.
REAL_CASES = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def system_events(world: AuditWorld, kind: str) -> list[AuditEvent]:
    with world.web.engine.store.reader() as unit:
        return [e for e in unit.events(SYSTEM_CHAIN) if e.type == kind]


def found(world: AuditWorld, user: str = "audit", **terms: str) -> set[str]:
    """The families a search lists."""
    r = world.client(user).get("/audit", params=terms)
    assert r.status_code == 200, r.text
    assert raw_codes(r.text) == []
    families = {iid: family for family, iid in world.ids.items()}
    return {families[i] for i in ROW.findall(r.text)}


@REAL_CASES
def test_every_search_term_and_the_scope_of_each_auditor(
    world: AuditWorld, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    zhou, zhao = world.ids[ZHOU], world.ids[ZHAO]
    assert found(world, id_number=world.id_number(ZHOU)) == {ZHOU, ZHOU_JOINT}  # his 一件事 case too
    page = world.client("audit").get("/audit", params={"id_number": world.id_number(ZHOU), "process": "dibao"})
    assert f'href="/audit/cases/{zhou}"' in page.text and f'href="/cases/{zhou}"' in page.text
    text = visible_text(page.text)
    assert "共 1 件" in text and "同意（纳入救助）" in text and "1399**********0178" in text
    assert world.id_number(ZHOU) not in text  # the list shows numbers masked

    assert found(world, id_number=world.id_number(ZHAO).lower()) == {ZHAO}
    # A household member's 身份证号 finds the case as well: 孙秀梅, in 赵大勇's household; 周秀兰, in 周明's.
    assert found(world, id_number=world.id_number(ZHAO, "孙秀梅")) == {ZHAO}
    assert found(world, id_number=world.id_number(ZHOU, "周秀兰")) == {ZHOU, ZHOU_JOINT}
    assert found(world, name="大勇") == {ZHAO}
    assert found(world, name="赵婷") == {ZHAO}  # any member of the household
    assert found(world, org_unit="qinghe.xiwan") == {ZHAO, WANG}
    assert found(world, org_unit="qinghe.nanshan.shiqiao", process="dibao") == {ZHOU}
    assert found(world, outcome="纳入") == {ZHOU}
    assert found(world, outcome="不予确认") == set()
    assert found(world, outcome="pending") == {ZHAO, WANG, ZHOU_JOINT}
    decided_on = day_of(world.web.engine.events(zhou)[-1].occurred_at)
    assert found(world, decided_from=decided_on.isoformat()) == {ZHOU}
    assert found(world, decided_until=(decided_on - timedelta(days=1)).isoformat()) == set()
    assert found(world, started_until=(decided_on - timedelta(days=1)).isoformat()) == {ZHAO, WANG, ZHOU}
    assert found(world, started_from=decided_on.isoformat()) == {ZHOU_JOINT}
    assert found(world, relatives="yes") == {ZHAO}
    assert found(world, relatives="no", process="dibao") == {WANG, ZHOU}
    assert found(world, overdue="yes") == {ZHAO}  # 启动调查 ran out while 周明's 公示 went on
    assert any(e.type == "sla_overdue" for e in world.web.engine.events(zhao))
    assert found(world, overdue="no", process="dibao") == {WANG, ZHOU}
    assert found(world, handled_by="mz_county", process="dibao") == {ZHOU}
    assert found(world, handled_by="jb_xiwan") == {ZHAO}
    assert found(world, handled_by="jb_xiwan", relatives="no") == set()

    # A township's auditor sees the township's villages only; the county officer the county.
    assert found(world, TOWNSHIP_AUDITOR, process="dibao") == {ZHAO, WANG}
    assert found(world, TOWNSHIP_AUDITOR, id_number=world.id_number(ZHOU)) == set()
    assert found(world, TOWNSHIP_AUDITOR, id_number=world.id_number(ZHOU, "周秀兰")) == set()
    assert found(world, TOWNSHIP_AUDITOR, id_number=world.id_number(ZHAO, "赵婷")) == {ZHAO}
    assert found(world, "mz_county", process="dibao") == {ZHAO, WANG, ZHOU}
    # A village assistant works cases and does not audit them.
    assistant = world.client("xl_yangliu")
    assert assistant.get("/audit").status_code == 403
    bad = world.client("audit").get("/audit", params={"decided_from": "2026-13-01"})
    assert bad.status_code == 422 and "决定起始日「2026-13-01」无效" in visible_text(bad.text)
    sample_is_drawn_from_a_recorded_seed_stored_audited_and_drawn_again_the_same(world)

    # The command line draws the same sample from the same seed, and records it as well.
    monkeypatch.setenv("DATABASE_URL", db_url)
    capsys.readouterr()
    assert cli.main(["audit", "sample", "--seed", "20261207", "--process", "dibao", "--actor", "mz_county"]) == 0
    out = capsys.readouterr().out
    assert "清河县，比例 30%，种子 20261207" in out and out.endswith(f"  {world.ids[ZHOU]}\n")
    assert [e.actor for e in system_events(world, SAMPLE_EVENT)] == ["audit", "audit", "mz_county"]


def sample_is_drawn_from_a_recorded_seed_stored_audited_and_drawn_again_the_same(world: AuditWorld) -> None:
    """On the same cases as the search (one world: building it is the slow part)."""
    client = world.client("audit")
    form = {"org_unit": "qinghe", "process": "dibao", "share_percent": "30", "seed": "20261207"}
    page = client.get("/audit")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token and "不低于 30%" in visible_text(page.text) and "特困人员认定办法" in visible_text(page.text)
    too_few = client.post("/audit/samples", data={**form, "share_percent": "10", "csrf_token": token.group(1)})
    assert too_few.status_code == 422 and "抽取比例应在 30% 至 100% 之间" in visible_text(too_few.text)
    drawn = client.post("/audit/samples", data={**form, "csrf_token": token.group(1)})
    assert drawn.status_code == 303, drawn.text
    where = drawn.headers["location"]
    sample_id = where.rsplit("/", 1)[1]

    [event] = system_events(world, SAMPLE_EVENT)
    assert event.actor == "audit" and event.payload["sample_id"] == sample_id
    assert event.payload["seed"] == "20261207" and event.payload["population"] == 1
    assert event.payload["selected"] == [world.ids[ZHOU]]  # the one case decided 纳入
    assert event.payload["parameters"]["share_percent"] == 30 and event.payload["parameters"]["org_unit"] == "qinghe"

    shown = client.get(where)
    text = visible_text(shown.text)
    assert shown.status_code == 200 and raw_codes(shown.text) == []
    assert "20261207" in text and "清河县" in text and "抽中 1 件" in text
    assert f'href="/audit/cases/{world.ids[ZHOU]}"' in shown.text
    again = visible_text(client.get(where, params={"recheck": 1}).text)
    assert "复核一致" in again
    assert sample_id in client.get("/audit").text  # listed under the form

    # Drawn again with the same seed over the same population: the same list, a new record.
    redrawn = client.post("/audit/samples", data={**form, "csrf_token": token.group(1)})
    events = system_events(world, SAMPLE_EVENT)
    assert redrawn.status_code == 303 and len(events) == 2
    assert events[1].payload["selected"] == events[0].payload["selected"]

    township = world.client(TOWNSHIP_AUDITOR)
    assert township.get(where).status_code == 404  # the county's sample is outside 西湾镇
    token2 = re.search(r'name="csrf_token" value="([^"]+)"', township.get("/audit").text)
    assert token2
    refused = township.post("/audit/samples", data={**form, "csrf_token": token2.group(1)})
    assert refused.status_code == 403
    assistant = world.client("xl_yangliu")
    assert assistant.get(where).status_code == 403


def test_the_draw_depends_on_the_seed_and_the_population_only() -> None:
    population = [f"case-{n:03d}" for n in range(100)]
    chosen = draw(population, 30, 7)
    assert len(chosen) == 30 and len(set(chosen)) == 30 and set(chosen) <= set(population)
    assert draw(list(reversed(population)), 30, 7) == chosen  # the order the database returned does not matter
    assert draw(population, 30, 8) != chosen
    assert len(draw(population[:7], 30, 7)) == 3  # a share of a small population rounds up
    assert draw([], 30, 7) == []


def test_paging_the_bound_and_the_databases_own_terms(
    make_world_over: Callable[[], WebWorld], clock: FixedClock
) -> None:
    world = make_world_over()
    policy = load_audit_policy(world.context.settings.audit_file)
    ids = []
    for unit, name, number in CASES:
        ids.append(world.start(unit, name=name, id_number=number))
        clock.advance(timedelta(minutes=1))
    world.engine.complete_task(ids[0], world.task_of(ids[0]), {"materials_complete": True}, actor="jb_dongcheng")

    def listed(scope: list[str] | None = None, **terms: object) -> list[str]:
        result = search(world.context, scope, Terms(process_id="sla_skeleton", **terms), policy)  # type: ignore[arg-type]
        return [h.instance_id for h in result.hits]

    assert listed() == list(reversed(ids))  # newest first
    assert listed(id_number="330102199001011234".lower()[:-1] + "x") == []
    assert listed(id_number=CASES[2][2].lower()) == [ids[2]]  # the X of a 身份证号 in either case
    assert listed(handled_by="jb_dongcheng") == [ids[0]]
    assert listed(org_unit="qinghe.dongcheng") == [ids[1], ids[0]]
    assert listed(["qinghe.xiwan.shangzhuang"]) == [ids[2]]  # the viewer's scope bounds everything
    assert listed(["qinghe.xiwan.shangzhuang"], org_unit="qinghe.dongcheng") == []
    today = day_of(world.engine.clock.now())
    assert listed(started_from=today, started_until=today) == list(reversed(ids))
    assert listed(started_until=today - timedelta(days=1)) == []
    assert listed(name="李") == [ids[2]]
    assert listed(name="%") == listed(name="_") == []  # a name, never a pattern

    first = search(world.context, None, Terms(process_id="sla_skeleton"), policy, page=1, page_size=2)
    second = search(world.context, None, Terms(process_id="sla_skeleton"), policy, page=2, page_size=2)
    assert (first.total, first.pages, second.page) == (3, 2, 2)
    assert [h.instance_id for h in first.hits + second.hits] == list(reversed(ids))
    cut = search(world.context, None, Terms(process_id="sla_skeleton"), policy, limit=2)
    assert cut.truncated and cut.total == 2 and not first.truncated

    # A household member's 身份证号 finds the case (the X in either case); a number the chain carries
    # elsewhere than in the household (here in a 受理 remark) does not.
    household = {"applicant": {"name": "钱七", "id_number": "330102198001011110"}, "members": [MEMBER]}
    family = world.engine.start("sla_skeleton", household, actor="system", org_unit=CASES[0][0], region="CN")
    remark = {"materials_complete": True, "missing_materials": "330102198001012222"}
    world.engine.complete_task(family.record.id, world.task_of(family.record.id), remark, actor="jb_dongcheng")
    assert listed(id_number=MEMBER["id_number"].lower()) == listed(id_number=MEMBER["id_number"]) == [family.record.id]
    remarked = find_cases(world.engine, CaseFilter(id_number="330102198001012222"), limit=10)
    assert [h.id for h in remarked] == [family.record.id]  # the database narrows; the household decides
    assert listed(id_number="330102198001012222") == []
    assert listed(["qinghe.xiwan.shangzhuang"], id_number=MEMBER["id_number"]) == []
