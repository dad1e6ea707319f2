"""The demo households and demo cases: valid synthetic data that deploys and seeds."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from engine.clock import FixedClock
from engine.forms.formats import check_bank_card, check_cn_id_number
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from engine.sla.policy import load_policy
from integrations.sql import SqlStore
from jiuzhu.demo_cases import ACCEPT, application, load_households, load_org_units, opening, seed_demo_cases
from jiuzhu.wiring import default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT

HOUSEHOLDS = load_households()
UNITS = load_org_units()


def test_households_are_a_handful_of_valid_fictional_families_in_demo_villages() -> None:
    assert 5 <= len(HOUSEHOLDS) <= 8
    ids = [m["id_number"] for h in HOUSEHOLDS.values() for m in h["application"]["members"]]
    assert len(ids) == len(set(ids)) and all(check_cn_id_number(i) for i in ids)
    for household in HOUSEHOLDS.values():
        assert UNITS[household["org_unit"]]["kind"] == "village"
        assert check_bank_card(household["application"]["bank_account"]["card_number"])
    records = json.loads((ROOT / "demo" / "hedui_records.json").read_text(encoding="utf-8"))["records"]
    assert set(records) <= set(ids)


@pytest.fixture
def engine(make_store: Callable[[], SqlStore], clock: FixedClock) -> Engine:
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(make_store(), clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_paths(engine, [PROCESSES], FORMS, actor="system")
    return engine


def test_the_demo_cases_start_once_at_their_stages_in_their_org_units(engine: Engine) -> None:
    ids = seed_demo_cases(engine)
    stages = {}
    for iid in ids:
        view = engine.get(iid)
        unit = view.record.org_unit or ""
        assert view.record.status == "running" and view.record.region == UNITS[unit]["region"]
        stages[unit] = sorted(t.name for t in view.ready)
    assert stages == {
        "qinghe.xiwan.shangzhuang": ["受理审查"],
        "qinghe.dongcheng.yangliu": ["入户调查", "受理信息核对申请"],
        "qinghe.dongcheng.hepan": ["告知核对结果"],
        "qinghe.xiwan.xiazhuang": ["近亲属单独登记备案"],
        "qinghe.nanshan.shiqiao": [],  # in 公示: waiting for the timer
        "qinghe.nanshan": ["评估并决定先行救助"],
        "qinghe.dongcheng": ["联办部门签收"] * 9,  # 李春梅's 一件事: one handoff per partner item
    }
    [yijianshi] = engine.list_instances(process_id="yijianshi")
    departments = {engine.ready_task(t.id).facts.partner for t in engine.get(yijianshi.id).ready}
    assert {"供电公司", "广电网络公司", "残联", "教育局", "医保局"} <= departments and "民政" not in departments
    assert seed_demo_cases(engine) == []


def test_devolution_in_the_region_table_agrees_with_the_sla_policies(engine: Engine) -> None:
    def devolved(region: str) -> bool:
        view = engine.start("dibao", opening(HOUSEHOLDS["刘桂芳"]), actor="t", org_unit="x", region=region)
        task = view.ready[0].id
        engine.complete_task(view.record.id, task, application(HOUSEHOLDS["刘桂芳"], "2026-11-02"), actor="t")
        task = engine.get(view.record.id).ready[0].id
        devolved = bool(engine.complete_task(view.record.id, task, ACCEPT, actor="t").data["devolved"])
        engine.terminate(view.record.id, "区划核对完毕", actor="t")  # one open application per applicant
        return devolved

    for name, expected in [("devolved", True), ("neimenggu", True), ("national", False), ("zhejiang", False)]:
        policy = load_policy((PROCESSES / "sla" / f"dibao.{name}.sla.json").read_bytes(), source=name)
        assert "dibao" in policy.processes
        assert {r: devolved(r) for r in policy.regions} == dict.fromkeys(policy.regions, expected), name
