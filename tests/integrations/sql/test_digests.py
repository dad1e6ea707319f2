"""Signed chain-head digests on real databases: a chain rewritten with
recomputed hashes passes its own links but not the digest; a forged digest is
refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import text

from engine.clock import FixedClock
from engine.digest import FORGED, MISMATCH, Digest, make_digest
from engine.service.auditing import chain_heads
from engine.service.facade import Engine
from integrations.digest_keys import Ed25519Keys
from integrations.sql.digests import SqlDigestArchive
from jiuzhu.wiring import anchor
from tests.conftest import SAMPLE, deploy
from tests.engine.test_audit import run_sample
from tests.support.insider import rewrite_chain, truncate_chain

KEYS = Ed25519Keys.generate()


def anchored(make_engine_for: Callable[..., Engine], keys: Ed25519Keys = KEYS) -> Engine:
    engine = make_engine_for()
    anchor(engine, keys)
    return engine


def digested_sample(make_engine_for: Callable[..., Engine], clock: FixedClock) -> tuple[Engine, str, Digest]:
    """A finished sample case and a digest covering it."""
    engine = anchored(make_engine_for)
    deploy(engine, SAMPLE)
    iid = run_sample(engine, clock)
    return engine, iid, engine.write_digest()


def test_a_rewritten_chain_passes_its_links_but_not_the_digest(
    make_engine_for: Callable[..., Engine], clock: FixedClock
) -> None:
    engine = anchored(make_engine_for)
    deploy(engine, SAMPLE)
    iid, other = run_sample(engine, clock), run_sample(engine, clock)
    digest = engine.write_digest()
    assert {leaf.chain_id for leaf in digest.leaves} >= {iid, other}
    assert all(v.ok for v in engine.verify())
    clock.advance(timedelta(days=1))

    events = engine.events(iid)
    completed = next(e for e in events if e.type == "task_completed")
    rewrite_chain(engine.store.engine, iid, completed.seq, {"form_data": {"applicant_name": "李四"}})  # type: ignore[attr-defined]

    plain = make_engine_for()  # no digests: only the chain's own links
    assert all(v.ok for v in plain.verify())
    assert plain.events(iid)[completed.seq - 1].payload["form_data"] == {"applicant_name": "李四"}

    verdict = anchored(make_engine_for).verify(iid)[0]
    assert not verdict.ok and verdict.code == MISMATCH
    assert verdict.broken_seq == len(events)
    assert f"与 {digest.day} 的签名摘要不符" in (verdict.reason or "")
    broken = [v.chain_id for v in anchored(make_engine_for).verify() if not v.ok]
    assert broken == [iid]


def test_a_shortened_chain_is_named_and_later_events_are_fine(
    make_engine_for: Callable[..., Engine], clock: FixedClock
) -> None:
    engine = anchored(make_engine_for)
    deploy(engine, SAMPLE)
    iid = engine.start("material_review", {"case_no": "A-2"}, actor="村协理员").record.id
    digest = engine.write_digest()
    count = next(x.count for x in digest.leaves if x.chain_id == iid)
    engine.record_access(iid, "full_id_number_viewed", actor="审计员", detail={})  # appended after the digest
    assert engine.verify(iid)[0].ok
    truncate_chain(engine.store.engine, iid, count - 1)  # type: ignore[attr-defined]
    assert make_engine_for().verify(iid)[0].ok
    verdict = anchored(make_engine_for).verify(iid)[0]
    assert (verdict.ok, verdict.code, verdict.broken_seq) == (False, MISMATCH, count)


def test_a_chain_deleted_altogether_is_named(make_engine_for: Callable[..., Engine], clock: FixedClock) -> None:
    engine, iid, digest = digested_sample(make_engine_for, clock)
    with engine.store.engine.begin() as conn:  # type: ignore[attr-defined]
        for table, column in (("audit_event", "chain_id"), ("ready_task", "instance_id"), ("instance", "id")):
            conn.execute(text(f"DELETE FROM {table} WHERE {column} = :c"), {"c": iid})
    assert all(v.ok for v in make_engine_for().verify())
    broken = [v for v in anchored(make_engine_for).verify() if not v.ok]
    assert [(v.chain_id, v.code) for v in broken] == [(iid, MISMATCH)]
    assert f"与 {digest.day} 的签名摘要不符：该审计链已不存在" in (broken[0].reason or "")


def test_the_latest_covering_digest_is_the_one_checked(
    make_engine_for: Callable[..., Engine], clock: FixedClock
) -> None:
    engine, iid, _ = digested_sample(make_engine_for, clock)
    clock.advance(timedelta(days=1))
    rewrite_chain(engine.store.engine, iid, 2, {"note": "x"})  # type: ignore[attr-defined]
    # A digest signed after the rewrite anchors the rewritten chain: what was
    # changed before it is no longer provable, and verify says nothing.
    anchored(make_engine_for).write_digest()
    assert anchored(make_engine_for).verify(iid)[0].ok


def test_forged_digests_are_refused(make_engine_for: Callable[..., Engine], clock: FixedClock) -> None:
    engine, iid, digest = digested_sample(make_engine_for, clock)
    store = engine.store.engine  # type: ignore[attr-defined]

    with store.begin() as conn:  # the insider signs with a key of their own
        forger = Ed25519Keys.generate()
        conn.execute(
            text("UPDATE chain_digest SET signature = :s WHERE id = :i"),
            {"s": forger.sign(digest.message()), "i": digest.id},
        )
    verdict = anchored(make_engine_for).verify(iid)[0]
    assert (verdict.ok, verdict.code) == (False, FORGED)
    assert "签名无效" in (verdict.reason or "")

    with store.begin() as conn:  # ... and swaps in their public key too
        conn.execute(
            text("UPDATE chain_digest SET public_key = :k WHERE id = :i"), {"k": forger.public_key, "i": digest.id}
        )
    verdict = anchored(make_engine_for).verify(iid)[0]
    assert (verdict.ok, verdict.code) == (False, FORGED) and "公钥" in (verdict.reason or "")


def test_a_rewrite_covered_by_a_digest_of_the_insiders_own_is_refused(
    make_engine_for: Callable[..., Engine], clock: FixedClock
) -> None:
    engine, iid, _ = digested_sample(make_engine_for, clock)
    clock.advance(timedelta(days=1))
    store = engine.store.engine  # type: ignore[attr-defined]
    rewrite_chain(store, iid, 3, {"note": "x"})
    forger = Ed25519Keys.generate()
    forged = make_digest(chain_heads(make_engine_for().core), forger, clock.now())
    SqlDigestArchive(store).save(replace(forged, public_key=KEYS.public_key))  # claims the real key
    verdict = anchored(make_engine_for).verify(iid)[0]
    assert (verdict.ok, verdict.code) == (False, FORGED) and "签名无效" in (verdict.reason or "")


def test_digests_round_trip_through_the_table(make_engine_for: Callable[..., Engine], clock: FixedClock) -> None:
    engine = anchored(make_engine_for)
    deploy(engine, SAMPLE)
    run_sample(engine, clock)
    first = engine.write_digest()
    clock.advance(timedelta(hours=25, microseconds=123457))
    second = engine.write_digest()
    archive = SqlDigestArchive(engine.store.engine)  # type: ignore[attr-defined]
    assert archive.latest() == second
    assert archive.newest_first() == [second, first]
