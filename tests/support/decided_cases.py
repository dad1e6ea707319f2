"""Real 低保 cases driven through the engine to 审核确认 (and beyond), for the
decision, notice, case-page and dashboard tests. The family is 周明 of the
demo county (石桥村, 南山镇), whose 核对 record is eligible."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.clock import SHANGHAI, FixedClock
from engine.ports import Store
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from jiuzhu.demo_cases import (
    ACCEPT,
    CHECK_INTAKE,
    INITIAL_REVIEW,
    START_INVESTIGATION,
    application,
    home_visit,
    load_households,
    opening,
)
from jiuzhu.wiring import default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT
from tests.support.web_support import WebWorld, web_over

FAMILY = "周明"
VILLAGE = "qinghe.nanshan.shiqiao"
APPROVE = {"decision": "同意", "certificate_no": "QH-DB-2026-0031", "confirm_opinion": "符合条件，予以确认"}
REJECT = {"decision": "不予确认", "rejection_reasons": "家庭人均月收入高于当地低保标准"}


def dibao_engine(store: Store, clock: FixedClock) -> Engine:
    """An engine with the app's connectors (the simulated 核对 centre) and 低保 deployed."""
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(store, clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_paths(engine, [PROCESSES / "sla", PROCESSES / "dibao", PROCESSES / "yijianshi"], FORMS, actor="designer")
    return engine


def dibao_web(engine: Engine, db_url: str) -> WebWorld:
    return web_over(engine, db_url)


def do(engine: Engine, iid: str, element_id: str, form: dict[str, Any], actor: str, *, claim: bool = False) -> None:
    """``actor`` submits the ready task; with ``claim``, claims it from the lane's pool first, as officers do."""
    task = next(t for t in engine.get(iid).ready if t.element_id == element_id)
    if claim:
        engine.assign_task(task.id, actor, actor=actor)
    engine.complete_task(iid, task.id, form, actor=actor)


def start(engine: Engine, *, region: str = "CN", start_data: dict[str, Any] | None = None, family: str = FAMILY) -> str:
    """Open the family's 低保 case in 石桥村 (its start form), with ``start_data`` on top. One open
    application per applicant: a second case at once is of another family."""
    data = opening(load_households()[family]) | dict(start_data or {})
    view = engine.start("dibao", data, actor="xl_shiqiao", org_unit=VILLAGE, region=region)
    return view.record.id


def to_publicity(engine: Engine, clock: FixedClock, iid: str, family: str = FAMILY, *, claim: bool = False) -> None:
    """受理 → 调查与核对 → 初审: the 公示 timer is armed. With ``claim``, each officer claims
    the task before submitting it."""
    today = clock.now().astimezone(SHANGHAI).date().isoformat()
    household = load_households()[family]
    do(engine, iid, "db_apply", application(household, today), "申请人")
    do(engine, iid, "db_accept", ACCEPT, "jb_nanshan", claim=claim)
    do(engine, iid, "db_start_investigation", START_INVESTIGATION, "jb_nanshan", claim=claim)
    do(engine, iid, "db_check_intake", CHECK_INTAKE, "hd_center", claim=claim)
    do(engine, iid, "db_home_visit", home_visit(today), "jb_nanshan", claim=claim)
    do(engine, iid, "db_initial_review", INITIAL_REVIEW, "sh_nanshan", claim=claim)


def to_confirmation(engine: Engine, clock: FixedClock, iid: str, family: str = FAMILY, *, claim: bool = False) -> str:
    """受理 → 调查与核对 → 初审 → 公示 (7 days, fired by the timer) → 无异议: the
    审核确认 task (county, or township where devolved) is ready; returns its element id."""
    to_publicity(engine, clock, iid, family, claim=claim)
    clock.advance(timedelta(days=12))
    engine.fire_due_timers()
    do(engine, iid, "db_publicity_result", {"objection": False}, "jb_nanshan", claim=claim)
    [ready] = engine.get(iid).ready
    return ready.element_id


def decided(engine: Engine, clock: FixedClock, form: dict[str, Any], **kwargs: Any) -> str:
    iid = start(engine, **kwargs)
    confirm = to_confirmation(engine, clock, iid)
    do(engine, iid, confirm, form, "mz_county")
    return iid
