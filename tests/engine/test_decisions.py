"""The Decision of a case is read from the engine's record, per procedure's rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.clock import FixedClock
from engine.decisions import GRANTED, REFUSED, TERMINATED, WITHDRAWN, Rules, decide, load_rules, next_month
from engine.errors import InvalidRequestError
from engine.service.starting import StartDataUndeclared
from integrations.sql.store import SqlStore
from tests.conftest import PROCESSES
from tests.support import decided_cases as dc


def rules(process: str) -> Rules:
    [path] = list(PROCESSES.rglob(f"{process}.decisions.json"))
    return load_rules(path.read_text(encoding="utf-8"), source=path.name)


def test_every_procedure_with_a_decision_has_rules_that_load() -> None:
    files = PROCESSES.rglob("*.decisions.json")
    loaded = [load_rules(p.read_text(encoding="utf-8"), source=p.name) for p in files]
    assert {r.process_id for r in loaded} == {"dibao", "linshi_jinan", "linshi_zhichu", "yishiyiyi"}


def test_bad_rules_are_refused_with_a_located_message() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        text = '{"process_id": "x", "decisions": [{"task": "t", "body": "county", "outcome": "批准"}]}'
        load_rules(text, source="x.json")
    assert caught.value.code == "DECISION_RULES_INVALID" and "x.json" in caught.value.message


def test_dibao_county_approval(make_store: Callable[[], SqlStore], clock: FixedClock) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    iid = dc.start(engine)
    assert dc.to_confirmation(engine, clock, iid) == "db_county_confirm"
    assert decide(engine.events(iid), rules("dibao")) is None  # 公示 done, not yet decided
    dc.do(engine, iid, "db_county_confirm", dc.APPROVE, "mz_county")
    d = decide(engine.events(iid), rules("dibao"))
    assert d is not None and d.outcome == GRANTED and d.body == "county" and d.decided_by == "mz_county"
    assert d.element_id == "db_county_confirm" and d.lane == "县级民政局"
    assert d.certificate_no == "QH-DB-2026-0031" and d.reasons == ()
    assert d.amount == engine.get(iid).data["monthly_amount"] and d.amount is not None and d.amount > 0
    assert d.payment_start == next_month(d.decided_at) == engine.get(iid).data["payment_start_month"]


def test_dibao_devolved_rejection_is_the_townships(make_store: Callable[[], SqlStore], clock: FixedClock) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    iid = dc.start(engine, region="CN-FJ-350100")
    assert dc.to_confirmation(engine, clock, iid) == "db_township_confirm"
    dc.do(engine, iid, "db_township_confirm", dc.REJECT, "sh_nanshan")
    d = decide(engine.events(iid), rules("dibao"))
    assert d is not None and d.outcome == REFUSED and d.body == "township" and d.decided_by == "sh_nanshan"
    assert d.reasons == ("家庭人均月收入高于当地低保标准",)
    assert d.amount is None and d.payment_start is None and d.certificate_no is None


def test_start_data_naming_decision_fields_is_refused_and_only_the_decision_task_decides(
    make_store: Callable[[], SqlStore], clock: FixedClock
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    forged = {"approved": True, "decision": "同意", "monthly_amount": 99999, "certificate_no": "X"}
    with pytest.raises(StartDataUndeclared) as refused:
        dc.start(engine, start_data=forged)
    assert sorted(e.path for e in refused.value.field_errors) == sorted(forged)
    assert engine.list_instances(process_id="dibao") == []
    iid = dc.start(engine)
    assert decide(engine.events(iid), rules("dibao")) is None
    dc.to_confirmation(engine, clock, iid)
    assert decide(engine.events(iid), rules("dibao")) is None
    dc.do(engine, iid, "db_county_confirm", dc.APPROVE, "mz_county")
    d = decide(engine.events(iid), rules("dibao"))
    assert d is not None and d.amount != 99999 and d.certificate_no == "QH-DB-2026-0031"


def test_dibao_not_accepted_is_terminated_and_an_engine_termination_can_be_a_withdrawal(
    make_store: Callable[[], SqlStore], clock: FixedClock
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    from jiuzhu.demo_cases import application, load_households

    iid = dc.start(engine)
    dc.do(engine, iid, "db_apply", application(load_households()[dc.FAMILY], "2026-11-02"), "申请人")
    refusal = {"accept_decision": "不予受理", "not_accepted_reasons": "非本乡镇户籍"}
    dc.do(engine, iid, "db_accept", refusal, "jb_nanshan")
    d = decide(engine.events(iid), rules("dibao"))
    assert d is not None and d.outcome == TERMINATED and d.reasons == ("非本乡镇户籍",) and d.body == "township"
    other = dc.start(engine)
    engine.terminate(other, "申请人书面撤回申请", actor="admin")
    w = decide(engine.events(other), rules("dibao"))
    assert w is not None and w.outcome == WITHDRAWN and w.decided_by == "admin"
