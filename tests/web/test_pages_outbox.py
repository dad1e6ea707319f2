"""推送投递: administrators see the outbox and requeue dead letters from the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from engine.clock import FixedClock
from engine.service.facade import Engine
from integrations.partner import webhooks
from integrations.partner.webhooks import DeliveryPolicy
from jiuzhu.cli_partner import http_post
from tests.support.page_text import raw_codes, visible_text
from tests.support.partner_world import Case, deployed
from tests.support.web_support import csrf_of, make_world


def _system_events(engine: Engine, kind: str) -> list[str]:
    with engine.store.reader() as unit:
        return [e.payload["event_id"] for e in unit.events("_system") if e.type == kind]


def test_an_administrator_sees_a_dead_letter_and_requeues_it(
    make_engine_for: Callable[..., Engine], db_url: str, clock: FixedClock
) -> None:
    world = make_world(make_engine_for, db_url)
    deployed(world.engine)
    webhooks.set_endpoint(world.engine, "广电网络公司", "http://127.0.0.1:9/", actor="admin")  # nothing listens
    Case(world.engine, clock).start(["youxian"])
    for _ in range(2):
        webhooks.deliver_due(world.engine, http_post, DeliveryPolicy(backoff_base=timedelta(seconds=1), max_attempts=2))
        clock.advance(timedelta(seconds=5))
    [dead] = webhooks.outbox(world.engine, status="dead")

    admin = world.signed_in("admin")
    page = admin.get("/outbox").text
    assert 'href="/outbox"' in page and f'data-event="{dead["id"]}"' in page
    assert '<span class="count">1</span>' in page and "广电网络公司" in page and "youxian" in page
    r = admin.post(f"/outbox/{dead['id']}/requeue", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303
    assert [row["id"] for row in webhooks.outbox(world.engine, status="pending")] == [dead["id"]]
    assert "已重新排队投递" in admin.get("/outbox?status=pending").text
    again = admin.post(f"/outbox/{dead['id']}/requeue", data={"csrf_token": csrf_of(page)})  # no longer dead
    refused = admin.get("/outbox").text
    assert again.status_code == 303 and 'data-code="DEAD_LETTER_NOT_FOUND"' in refused
    assert "未能重新排队" in visible_text(refused) and raw_codes(refused) == []  # a sentence, not the code
    assert _system_events(world.engine, "webhook_requeued") == [dead["id"]]  # the refused one left no event

    caseworker = world.signed_in("jb_dongcheng")
    assert caseworker.get("/outbox").status_code == 403 and 'href="/outbox"' not in caseworker.get("/inbox").text
