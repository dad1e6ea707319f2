"""One open application per applicant, enforced by the database: racing starts,
an application form that changes the 身份证号, and the end of a case."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.core import InstanceView
from engine.service.facade import Engine
from engine.service.starting import DuplicateApplication
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from integrations.sql.store import SqlUnit
from jiuzhu.demo_cases import application, load_households, opening
from jiuzhu.wiring import default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT
from tests.support.at_once import at_once

HOUSEHOLDS = load_households()
LIU, WANG, CHEN = HOUSEHOLDS["刘桂芳"], HOUSEHOLDS["王德顺"], HOUSEHOLDS["陈小燕"]


def id_of(household: dict[str, Any]) -> str:
    number: str = household["application"]["applicant"]["id_number"]
    return number


@pytest.fixture
def make_engine(make_store: Callable[[], SqlStore], clock: FixedClock) -> Callable[[], Engine]:
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")

    def factory() -> Engine:
        return Engine(make_store(), clock, Sandbox(helpers=HELPERS), connectors=connectors)

    return factory


@pytest.fixture
def engine(make_engine: Callable[[], Engine]) -> Engine:
    made = make_engine()
    deploy_paths(made, [PROCESSES], FORMS, actor="designer")
    return made


def start(engine: Engine, household: dict[str, Any], key: str | None = None) -> InstanceView:
    return engine.start(
        "dibao", opening(household), actor="xl", business_key=key, org_unit=household["org_unit"], strict=True
    )


def refusal(call: Callable[[], object]) -> DuplicateApplication:
    with pytest.raises(DuplicateApplication) as raised:
        call()
    return raised.value


def open_count(engine: Engine) -> int:
    return len([r for r in engine.list_instances(process_id="dibao") if r.status in ("running", "incident")])


@contextmanager
def check_misses_once() -> Iterator[None]:
    """The check before the insert finds nothing once, as it does for the
    second of two starts that both read before either committed."""
    original = SqlUnit.open_cases_of
    calls: list[int] = []

    def blind(self: SqlUnit, process_id: str, id_number: str) -> list[Any]:
        calls.append(1)
        return [] if len(calls) == 1 else original(self, process_id, id_number)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SqlUnit, "open_cases_of", blind)
        yield
    assert len(calls) >= 2  # the refusal asked again, to name the case holding the number


def test_the_database_refuses_the_start_the_check_let_through_and_names_the_open_case(engine: Engine) -> None:
    first = start(engine, LIU, "DB-0001")
    with check_misses_once():
        refused = refusal(lambda: start(engine, LIU))
    assert refused.code == "DUPLICATE_APPLICATION" and refused.location is not None
    assert refused.location.element_id == "db_start"
    [problem] = refused.field_errors
    assert problem.path == "applicant/id_number" and first.record.id in problem.message and "DB-0001" in problem.message
    assert open_count(engine) == 1


def test_two_starts_for_one_applicant_at_once_make_exactly_one_case(
    engine: Engine, make_engine: Callable[[], Engine]
) -> None:
    outcomes = at_once(lambda each: start(each, LIU).record.id, [engine, make_engine()])  # two servers
    started = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, DuplicateApplication)]
    assert len(started) == 1 and len(refused) == 1, outcomes
    assert started[0] in refused[0].field_errors[0].message
    assert [r.id for r in engine.list_instances(process_id="dibao")] == started


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_on_postgresql_the_loser_waits_for_the_winner_and_is_refused_by_the_index(
    engine: Engine, make_engine: Callable[[], Engine]
) -> None:
    """Interleaved for certain: A has inserted its row and not committed while B
    checks (and finds nothing), then B's insert waits for A's commit and fails."""
    a_inserted, b_checked = threading.Event(), threading.Event()
    other = make_engine()
    original = SqlUnit.open_cases_of

    def hold(*_args: Any) -> list[Any]:
        a_inserted.set()
        assert b_checked.wait(30)
        return []

    def watched(self: SqlUnit, process_id: str, id_number: str) -> list[Any]:
        found = original(self, process_id, id_number)
        if threading.current_thread().name == "B":
            b_checked.set()
        return found

    engine.commit_hooks.append(hold)
    outcome: dict[str, Any] = {}

    def run(name: str, each: Engine) -> None:
        try:
            outcome[name] = start(each, LIU).record.id
        except BaseException as exc:  # compared below
            outcome[name] = exc

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SqlUnit, "open_cases_of", watched)
        a = threading.Thread(target=run, args=("A", engine), name="A")
        a.start()
        assert a_inserted.wait(30)
        b = threading.Thread(target=run, args=("B", other), name="B")
        b.start()
        a.join()
        b.join()
    assert isinstance(outcome["A"], str)
    assert isinstance(outcome["B"], DuplicateApplication)
    assert outcome["A"] in outcome["B"].field_errors[0].message
    assert [r.id for r in engine.list_instances(process_id="dibao")] == [outcome["A"]]


def test_a_changed_id_number_on_the_application_form_is_checked_again(engine: Engine, clock: FixedClock) -> None:
    liu = start(engine, LIU, "DB-LIU")
    wang = start(engine, WANG)
    [apply_task] = wang.ready
    assert apply_task.element_id == "db_apply"
    on = clock.now().date().isoformat()

    # 王德顺's case, filled in with 刘桂芳's 身份证号: she has an open case.
    before = engine.get(wang.record.id).record
    refused = refusal(lambda: engine.complete_task(wang.record.id, apply_task.id, application(LIU, on), actor="xl"))
    assert refused.location is not None and refused.location.element_id == "db_apply"
    [problem] = refused.field_errors
    assert problem.path == "applicant/id_number" and liu.record.id in problem.message and "DB-LIU" in problem.message
    after = engine.get(wang.record.id)
    assert after.record.revision == before.revision and [t.id for t in after.ready] == [apply_task.id]

    # Filled in for 陈小燕 instead: accepted, and the case now holds her number, not 王德顺's.
    engine.complete_task(wang.record.id, apply_task.id, application(CHEN, on), actor="xl")
    assert engine.get(wang.record.id).data["applicant"]["id_number"] == id_of(CHEN)
    refused = refusal(lambda: start(engine, CHEN))
    assert wang.record.id in refused.field_errors[0].message
    assert start(engine, WANG).record.status == "running"


def test_a_case_that_ends_no_longer_blocks(engine: Engine) -> None:
    first = start(engine, LIU)
    refusal(lambda: start(engine, LIU))
    engine.terminate(first.record.id, "申请人撤回申请", actor="jb")
    second = start(engine, LIU)
    with check_misses_once():  # the index too lets the new case through, and then holds it
        refused = refusal(lambda: start(engine, LIU))
    assert second.record.id in refused.field_errors[0].message
