"""The scheduler writes one signed chain-head digest per Beijing day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from engine.clock import FixedClock
from engine.service.facade import Engine
from integrations.digest_keys import Ed25519Keys
from integrations.sql.digests import SqlDigestArchive
from jiuzhu.scheduler import Scheduler
from jiuzhu.wiring import anchor
from tests.conftest import SAMPLE, deploy

KEYS = Ed25519Keys.generate()


def digest_days(engine: Engine) -> list[str]:
    return [d.day for d in SqlDigestArchive(engine.store.engine).newest_first()]  # type: ignore[attr-defined]


def test_one_digest_per_day_by_the_engines_clock(make_engine_for: Callable[..., Engine], clock: FixedClock) -> None:
    engine = make_engine_for()
    anchor(engine, KEYS)
    deploy(engine, SAMPLE)
    engine.start("material_review", {"case_no": "A-1"}, actor="村协理员")
    scheduler = Scheduler(engine, interval=1.0)
    scheduler.step()
    scheduler.step()
    assert digest_days(engine) == ["2026-11-02"]

    clock.advance(timedelta(hours=12))  # 21:00 Beijing, same day
    restarted = Scheduler(engine, interval=1.0)  # a restart or a second worker
    restarted.step()
    assert digest_days(engine) == ["2026-11-02"]

    clock.advance(timedelta(hours=3))  # past midnight in Beijing
    scheduler.step()
    restarted.step()
    assert digest_days(engine) == ["2026-11-03", "2026-11-02"]
    latest = SqlDigestArchive(engine.store.engine).latest()  # type: ignore[attr-defined]
    assert latest is not None and latest.created_at == clock.now()
    assert all(v.ok for v in engine.verify())


def test_no_key_no_digest(make_engine_for: Callable[..., Engine], clock: FixedClock) -> None:
    engine = make_engine_for()
    Scheduler(engine, interval=1.0).step()
    assert digest_days(engine) == []
