"""From a 低保 approval through the partner channel, end to end, on SQLite and
on PostgreSQL with Redis: the approval starts the household's 联办 case
through the built-in start_process connector, the caseworker confirms the
items, and the partners work them — two over the API with the reference
client (one returns its item, the caseworker corrects and resends it), two by
signed webhooks from the delivery worker, acknowledged over the API. The
幸福清单 ends complete and the audit log holds every handoff, lease, delivery
and result exactly once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis

from engine.clock import FixedClock
from engine.service.facade import Engine
from integrations.partner import webhooks
from integrations.partner.handoffs import OUT, H
from integrations.partner.keys import conn
from integrations.partner_client.client import PartnerClient
from integrations.partner_client.receiver import Receiver
from integrations.sql import SqlStore
from jiuzhu.cli_partner import deliver_loop, http_post
from tests.support.partner_world import (
    CASEWORKER,
    GRANTED,
    ITEMS,
    Case,
    approved_dibao,
    client_for,
    dibao_engine,
    serve,
)
from tests.support.yijianshi_world import CORRECT

PUSHED = ("教育局", "广电网络公司")  # by webhook; 医保局 and 供电公司 pull over the API
NOT_GRANTED = {"granted": False, "reason": "本户已在其他渠道享受同类补助"}
RETURN_REASON = "户主身份证号与医保登记不一致"
# What no partner of these items may see (their catalogue entries do not list it).
PRIVATE = ("monthly_income", "per_capita_income", "benefit_amount", "bank_account")
WAIT = 20.0


@pytest.fixture
def backend(
    db_url: str, make_store: Callable[[], SqlStore], clock: FixedClock, request: pytest.FixtureRequest
) -> Iterator[tuple[Engine, Redis | None]]:
    """SQLite alone, or PostgreSQL with Redis (the wake-up index and the outbox stream)."""
    redis = request.getfixturevalue("redis_client") if db_url.startswith("postgresql") else None
    prefix = request.getfixturevalue("prefix") if redis is not None else "jiuzhu"
    engine, signal = dibao_engine(make_store, clock, redis, prefix)
    yield engine, redis
    signal.close()


def _until(what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not ready():
        assert time.monotonic() < deadline, f"等待超时：{what}"
        time.sleep(0.05)


def _rows(engine: Engine, table: Any, instance_id: str) -> list[Any]:
    with engine.store.reader() as unit:
        return list(conn(unit).execute(table.select().where(table.c.instance_id == instance_id)).all())


def _once_each(events: list[dict[str, Any]], key: str) -> set[str]:
    counts = Counter(e[key] for e in events)
    assert all(n == 1 for n in counts.values()), counts
    return set(counts)


def test_dibao_approval_to_a_complete_happiness_list_through_api_and_webhooks(
    backend: tuple[Engine, Redis | None], clock: FixedClock
) -> None:
    engine, redis = backend
    dibao_id = approved_dibao(engine, "刘桂芳", "QH-DB-2026-0001")
    assert engine.get(dibao_id).record.status == "completed"
    case = Case.of_dibao(engine, clock, dibao_id)
    household = engine.get(case.instance_id).data["household"]
    assert (household["status"], household["certificate_no"]) == ("低保", "QH-DB-2026-0001")
    assert set(ITEMS) <= set(engine.get(case.instance_id).data["derived_items"])  # 政策找人

    stop = threading.Event()
    with serve(engine) as url:
        power, medical = client_for(engine, url, "供电公司"), client_for(engine, url, "医保局")
        pushed: dict[str, PartnerClient] = {d: client_for(engine, url, d, f"push-{d}") for d in PUSHED}
        acknowledged: list[str] = []

        def on_event(event: dict[str, Any]) -> None:
            # A push partner acknowledges over the API: it locks exactly that handoff, then reports.
            client = pushed[event["department"]]
            [task] = client.fetch_and_lock(handoff_ids=[event["handoff_id"]])
            client.complete(task, {"granted": True, "benefit": "按政策减免"})
            acknowledged.append(event["handoff_id"])

        receivers = {}
        for department in PUSHED:
            receiver = Receiver("", on_event, now=lambda: clock.now().timestamp())  # signed on the engine's clock
            server = receiver.serve()
            endpoint = f"http://127.0.0.1:{server.server_port}/"
            receiver.secret = webhooks.set_endpoint(engine, department, endpoint, actor="admin")
            receivers[department] = (receiver, server)
        worker = threading.Thread(
            target=deliver_loop,
            args=(engine, webhooks.DeliveryPolicy()),
            kwargs={"interval": 0.1, "redis": redis, "stop": stop},
            daemon=True,
        )
        worker.start()
        try:
            case.review(ITEMS)  # the caseworker confirms the list: the handoffs open

            [electric] = power.fetch_and_lock(topics=["dianfei"])
            visible = set(case.catalogue.by_code("dianfei")["visible_fields"])
            assert set(electric["payload"]["household"]) == visible & set(household)
            assert not any(field in json.dumps(electric, ensure_ascii=False) for field in PRIVATE)
            power.complete(electric, GRANTED)

            [first] = medical.fetch_and_lock()
            medical.return_(first, RETURN_REASON)
            [correct] = case.ready(CORRECT)
            fixed = {
                "correction_note": "已核实户籍信息，身份证号无误，请按此更新医保登记",
                "corrected_fields": {"applicant_id_number": household["applicant_id_number"]},
            }
            engine.complete_task(case.instance_id, correct.id, fixed, actor=CASEWORKER)
            [again] = medical.fetch_and_lock()
            assert again["round"] == 2 and again["payload"]["returns"][0]["reason"] == RETURN_REASON
            medical.complete(again, NOT_GRANTED)

            _until("推送部门确认办结", lambda: len(acknowledged) == len(PUSHED))
            _until(
                "推送事件均已投递", lambda: all(r.status == "delivered" for r in _rows(engine, OUT, case.instance_id))
            )
        finally:
            stop.set()
            worker.join(WAIT)
            for _, server in receivers.values():
                server.shutdown()
                server.server_close()
    assert webhooks.deliver_due(engine, http_post) == 0  # nothing left to (re)deliver

    # The 幸福清单: every selected item, each with its partner's result.
    data = engine.get(case.instance_id).data
    listing = {row["code"]: row for row in data["happiness_list"]}
    assert sorted(listing) == sorted(ITEMS)
    assert all(row["reported_on"] and row["status"] in ("已享受", "未享受") for row in listing.values())
    assert listing["dianfei"]["status"] == "已享受" and listing["yiliao"]["status"] == "未享受"
    assert listing["yiliao"]["rounds"] == 2 and data["happiness_summary"]["total"] == len(ITEMS)
    case.notify()
    assert engine.get(case.instance_id).record.status == "completed"

    # The audit log: each handoff (a round is a handoff of its own) opened, leased and ended once.
    handoffs = {r.id: r for r in _rows(engine, H, case.instance_id)}
    assert Counter(r.item_code for r in handoffs.values()) == {"yiliao": 2, "jiaoyu": 1, "dianfei": 1, "youxian": 1}
    assert _once_each(case.events("handoff_opened"), "handoff_id") == set(handoffs)
    leases = case.events("partner_leased")
    assert _once_each(leases, "handoff_id") == set(handoffs)
    ended = case.events("partner_result") + case.events("partner_returned")
    assert _once_each(ended, "handoff_id") == set(handoffs)
    assert [e["handoff_id"] for e in case.events("partner_returned")] == [first["id"]]
    # Every outbox event delivered once, each applied once by its receiver.
    outbox = _rows(engine, OUT, case.instance_id)
    assert sorted((r.department, r.type) for r in outbox) == sorted((d, "handoff.created") for d in PUSHED)
    assert _once_each(case.events("webhook_delivered"), "event_id") == {r.id for r in outbox}
    for department, (receiver, _) in receivers.items():
        [event] = receiver.applied
        assert event["department"] == department and len(receiver.seen) == 1
        assert not any(field in json.dumps(event, ensure_ascii=False) for field in PRIVATE)
    # Every partner read is audited with exactly the fields it was shown.
    for lease in leases:
        shown = json.loads(handoffs[lease["handoff_id"]].payload)["household"]
        assert set(lease["fields_read"]) == set(shown)
    assert all(v.ok for v in engine.verify(case.instance_id) + engine.verify(dibao_id))
