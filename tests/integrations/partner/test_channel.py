"""The partner channel end to end: fetch-and-lock over real HTTP, signed
webhooks to a real receiver, return and resend, the 幸福清单 and the audit log."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.service.facade import Engine
from integrations.partner import external, keys, webhooks
from integrations.partner.idempotency import once
from integrations.partner_client.client import ApiError
from integrations.partner_client.receiver import Receiver
from jiuzhu.cli_partner import http_post
from tests.support.partner_world import GRANTED, Case, client_for, deployed, partner_engine, serve
from tests.support.yijianshi_world import CORRECT

NOT_GRANTED = {"granted": False, "reason": "本户已在其他渠道享受同类补助"}


@pytest.fixture
def engine(make_engine_for: Callable[..., Engine]) -> Engine:
    return deployed(partner_engine(make_engine_for)[0])


def _receiver(engine: Engine, clock: FixedClock, department: str, handle: Callable[[dict[str, Any]], None]) -> Any:
    receiver = Receiver("", handle, now=lambda: clock.now().timestamp())
    server = receiver.serve()
    receiver.secret = webhooks.set_endpoint(
        engine, department, f"http://127.0.0.1:{server.server_port}/", actor="admin"
    )
    return receiver, server


def test_end_to_end_api_webhooks_return_and_resend(engine: Engine, clock: FixedClock) -> None:
    catalogue = Case(engine, clock).catalogue
    with serve(engine) as url:
        power, medical = client_for(engine, url, "供电公司"), client_for(engine, url, "医保局")
        pushed = {d: client_for(engine, url, d, f"push-{d}") for d in ("教育局", "广电网络公司")}

        def on_event(event: dict[str, Any]) -> None:
            # A push partner acknowledges over the API: lock exactly that handoff, then report.
            client = pushed[event["department"]]
            [task] = client.fetch_and_lock(handoff_ids=[event["handoff_id"]])
            client.complete(task, {"granted": True, "benefit": "按政策减免"})

        receivers = [_receiver(engine, clock, d, on_event) for d in pushed]
        case = Case(engine, clock)
        case.start()

        [electric] = power.fetch_and_lock(topics=["dianfei"])
        visible = set(catalogue.by_code("dianfei")["visible_fields"])
        assert set(electric["payload"]["household"]) == visible & set(electric["payload"]["household"]) == visible
        assert "monthly_income" not in json.dumps(electric, ensure_ascii=False)
        power.complete(electric, GRANTED)

        [first] = medical.fetch_and_lock()
        medical.return_(first, "户主身份证号与医保登记不一致")
        [correct] = case.ready(CORRECT)
        fixed = {"correction_note": "已核实并更正", "corrected_fields": {"applicant_mobile": "13905710009"}}
        engine.complete_task(case.instance_id, correct.id, fixed, actor="jb_dongcheng")
        [again] = medical.fetch_and_lock()
        assert again["round"] == 2 and again["payload"]["returns"][0]["reason"] == "户主身份证号与医保登记不一致"
        medical.complete(again, NOT_GRANTED)

        assert webhooks.deliver_due(engine, http_post) == 2
        for _, server in receivers:
            server.shutdown()
            server.server_close()
        assert sorted(e["item_code"] for r, _ in receivers for e in r.applied) == ["jiaoyu", "youxian"]

    data = case.notify()
    assert engine.get(case.instance_id).record.status == "completed"
    listing = {row["code"]: row for row in data["happiness_list"]}
    assert sorted(listing) == sorted(["yiliao", "jiaoyu", "dianfei", "youxian"])
    assert listing["dianfei"]["status"] == "已享受" and listing["yiliao"]["status"] == "未享受"
    assert listing["yiliao"]["rounds"] == 2

    opened = case.events("handoff_opened")
    leases = case.events("partner_leased")
    results = case.events("partner_result")
    assert Counter(e["item"] for e in opened) == {"yiliao": 2, "jiaoyu": 1, "dianfei": 1, "youxian": 1}
    assert len({e["handoff_id"] for e in opened}) == 5
    # Every handoff was leased once and ended once: in a result, or (the first 医保局 round) a return.
    assert sorted(e["handoff_id"] for e in leases) == sorted(e["handoff_id"] for e in opened)
    ended = [e["handoff_id"] for e in results] + [e["handoff_id"] for e in case.events("partner_returned")]
    assert sorted(ended) == sorted(e["handoff_id"] for e in opened)
    delivered = case.events("webhook_delivered")
    assert sorted(e["type"] for e in delivered) == ["handoff.created", "handoff.created"]
    assert engine.verify(case.instance_id)[0].ok


def test_a_push_partner_returns_by_api_and_gets_the_return_and_the_resend_pushed(
    engine: Engine, clock: FixedClock
) -> None:
    with serve(engine) as url:
        cable = client_for(engine, url, "广电网络公司")
        answers = {"handoff.created": "return", "handoff.resent": "complete"}

        def on_event(event: dict[str, Any]) -> None:
            if event["type"] not in answers:
                return  # handoff.returned: the partner's own return, confirmed
            [task] = cable.fetch_and_lock(handoff_ids=[event["handoff_id"]])
            if answers[event["type"]] == "return":
                cable.return_(task, "用户号与户主不符")
            else:
                assert task["payload"]["returns"][0]["reason"] == "用户号与户主不符"
                cable.complete(task, GRANTED)

        receiver, server = _receiver(engine, clock, "广电网络公司", on_event)
        case = Case(engine, clock)
        case.start(["youxian"])
        assert webhooks.deliver_due(engine, http_post) == 1  # created; the partner returns it at once
        [correct] = case.ready(CORRECT)
        fixed = {"correction_note": "已核实", "corrected_fields": {"cable_tv_account": "HS0571889909"}}
        engine.complete_task(case.instance_id, correct.id, fixed, actor="jb_dongcheng")
        assert webhooks.deliver_due(engine, http_post) == 2  # returned, then resent; the partner completes
        assert webhooks.deliver_due(engine, http_post) == 0
        server.shutdown()
        server.server_close()
    assert [e["type"] for e in receiver.applied] == ["handoff.created", "handoff.returned", "handoff.resent"]
    resent = receiver.applied[2]["data"]["household"]
    assert resent["cable_tv_account"] == "HS0571889909" and receiver.applied[2]["data"]["round"] == 2
    delivered = case.events("webhook_delivered")
    assert sorted(e["event_id"] for e in delivered) == sorted(receiver.seen) and len(delivered) == 3
    [row] = engine.get(case.instance_id).data["happiness_list"]
    assert (row["status"], row["rounds"]) == ("已享受", 2)


def test_partner_sees_only_its_own_items_and_fields(engine: Engine, clock: FixedClock) -> None:
    case = Case(engine, clock)
    with serve(engine) as url:
        power, medical = client_for(engine, url, "供电公司"), client_for(engine, url, "医保局")
        case.start()
        assert power.fetch_and_lock(topics=["yiliao"]) == []
        [task] = medical.fetch_and_lock()
        assert task["topic"] == "yiliao"
        visible = set(case.catalogue.by_code("yiliao")["visible_fields"])
        assert set(task["payload"]["household"]) <= visible
        assert "electricity_account" not in task["payload"]["household"]
        with pytest.raises(ApiError) as refused:
            power.complete(task, GRANTED)
        assert (refused.value.status, refused.value.code) == (404, "HANDOFF_NOT_FOUND")
        [read] = case.events("partner_leased")
        assert read["department"] == "医保局" and set(read["fields_read"]) == set(task["payload"]["household"])


def test_expired_lease_goes_to_the_next_fetch_and_the_late_completion_is_refused(
    engine: Engine, clock: FixedClock
) -> None:
    case = Case(engine, clock)
    with serve(engine) as url:
        slow, quick = client_for(engine, url, "供电公司", "slow"), client_for(engine, url, "供电公司", "quick")
        case.start()
        [held] = slow.fetch_and_lock(lock_seconds=60)
        assert quick.fetch_and_lock() == []
        clock.advance(timedelta(seconds=61))
        [taken] = quick.fetch_and_lock()
        assert taken["id"] == held["id"]
        with pytest.raises(ApiError) as late:
            slow.complete(held, GRANTED)
        assert (late.value.status, late.value.code) == (409, "LEASE_LOST")
        quick.complete(taken, GRANTED)
    assert len(case.events("partner_result")) == 1
    assert len(case.events("partner_leased")) == 2


def test_idempotency_keys(engine: Engine, clock: FixedClock) -> None:
    case = Case(engine, clock)
    with serve(engine) as url:
        power = client_for(engine, url, "供电公司")
        case.start()
        [task] = power.fetch_and_lock()
        first = power.complete(task, GRANTED, key="k-1")
        assert power.complete(task, GRANTED, key="k-1") == first
        with pytest.raises(ApiError) as reused:
            power.complete(task, NOT_GRANTED, key="k-1")
        assert (reused.value.status, reused.value.code) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert len(case.events("partner_result")) == 1


def test_result_is_validated_with_chinese_field_errors(engine: Engine, clock: FixedClock) -> None:
    case = Case(engine, clock)
    with serve(engine) as url:
        power = client_for(engine, url, "供电公司")
        case.start()
        [task] = power.fetch_and_lock()
        with pytest.raises(ApiError) as bad:
            power.complete(task, {"granted": True, "amount": -3, "amount_unit": "元/月"})
        assert bad.value.status == 422
        text = json.dumps(bad.value.body, ensure_ascii=False)
        assert "享受内容" in text or "benefit" in text
        power.complete(task, GRANTED)


def test_a_retry_after_a_crash_between_commit_and_answer_gets_the_committed_answer(
    engine: Engine, clock: FixedClock
) -> None:
    case = Case(engine, clock)
    with serve(engine) as url:
        power = client_for(engine, url, "供电公司")
        case.start(["dianfei"])
        [task] = power.fetch_and_lock()
        partner = keys.authenticate(engine, power.api_key)
        body = {"lock_token": task["lock_token"], "result": GRANTED}

        def dies_after_commit(remember: Any) -> dict[str, Any]:
            external.complete(engine, partner, task["id"], task["lock_token"], GRANTED, remember)
            raise RuntimeError("the server died before answering")

        with pytest.raises(RuntimeError):
            once(engine, partner, "k-crash", f"complete/{task['id']}", body, dies_after_commit)
        assert power.complete(task, GRANTED, key="k-crash") == {"id": task["id"], "status": "completed"}
    assert len(case.events("partner_result")) == 1


def test_terminating_the_case_cancels_its_handoffs(engine: Engine, clock: FixedClock) -> None:
    webhooks.set_endpoint(engine, "供电公司", "http://127.0.0.1:9/", actor="admin")
    case = Case(engine, clock)
    case.start(["dianfei"])
    engine.terminate(case.instance_id, "申请人撤回申请", actor="jb_dongcheng")
    kinds = sorted(r["type"] for r in webhooks.outbox(engine))
    assert kinds == ["handoff.cancelled", "handoff.created"]
    partner = keys.authenticate(engine, keys.create(engine, "供电公司", actor="admin"))
    assert external.fetch_and_lock(engine, partner, worker_id="w", lease=timedelta(seconds=60)) == []
