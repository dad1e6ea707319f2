"""Idempotency keys of fetch-and-lock and extend-lock: the answer commits with
the lock, so a retry after a crash right after the commit gets the first answer
and locks nothing more; another body under the same key is refused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.service.facade import Engine, InstanceView
from integrations.partner import external, keys
from integrations.partner.idempotency import Remember, once
from integrations.partner_client.client import ApiError, PartnerClient
from jiuzhu.api_partner import FetchRequest, LockRequest
from tests.support.partner_world import Case, client_for, deployed, partner_engine, serve

LEASE = timedelta(seconds=300)


@pytest.fixture
def engine(make_engine_for: Callable[..., Engine]) -> Engine:
    return deployed(partner_engine(make_engine_for)[0])


def _dies_after_commit(engine: Engine, kind: str) -> None:
    """The process dies right after the first commit that recorded a ``kind`` event."""

    def hook(view: InstanceView) -> None:
        if any(e.type == kind for e in engine.events(view.record.id)):
            engine.after_commit_hooks.remove(hook)
            raise SystemExit("the server died after the commit, before answering")

    engine.after_commit_hooks.append(hook)


def _fetch(engine: Engine, client: PartnerClient, key: str) -> list[dict[str, Any]]:
    """What ``POST /api/external/fetch-and-lock`` does with this client's default body."""
    partner = keys.authenticate(engine, client.api_key)
    body = FetchRequest(worker_id=client.worker_id)

    def write(remember: Remember | None) -> dict[str, Any]:
        lease = timedelta(seconds=body.lock_duration)
        return {"tasks": external.fetch_and_lock(engine, partner, worker_id=body.worker_id, lease=lease,
                                                 remember=remember)}  # fmt: skip

    return list(once(engine, partner, key, "fetch", body.model_dump(), write)["tasks"])


def _power_cases(engine: Engine, clock: FixedClock, n: int = 1) -> list[Case]:
    """``n`` 联办 cases, each with one 电费减免 handoff to 供电公司."""
    cases = [Case(engine, clock) for _ in range(n)]
    for case in cases:
        case.start(["dianfei"])
    return cases


def _leases(engine: Engine, cases: list[Case]) -> list[dict[str, Any]]:
    return [e for case in cases for e in case.events("partner_leased")]


def test_a_fetch_retried_after_a_crash_between_two_locks_returns_what_was_locked_and_locks_no_more(
    engine: Engine, clock: FixedClock
) -> None:
    cases = _power_cases(engine, clock, 2)
    with serve(engine) as url:
        power = client_for(engine, url, "供电公司")
        _dies_after_commit(engine, "partner_leased")
        with pytest.raises(SystemExit):
            _fetch(engine, power, "k-fetch")  # two handoffs were due; the first lock committed
        [first] = _leases(engine, cases)
        [again] = power.fetch_and_lock(key="k-fetch")
        assert again["id"] == first["handoff_id"]
        assert power.fetch_and_lock(key="k-fetch") == [again]
        assert len(_leases(engine, cases)) == 1  # the retries locked nothing more
        [other] = power.fetch_and_lock()  # a new request (a new key) gets the second handoff
        assert other["id"] != again["id"]
        with pytest.raises(ApiError) as reused:
            power.fetch_and_lock(key="k-fetch", max_tasks=1)
        assert (reused.value.status, reused.value.code) == (409, "IDEMPOTENCY_KEY_REUSED")
        power.complete(again, {"granted": True, "benefit": "电费减免"})
    assert len(_leases(engine, cases)) == 2


def test_a_fetch_retried_after_a_crash_after_its_last_lock_gets_the_same_tasks_and_tokens(
    engine: Engine, clock: FixedClock
) -> None:
    [case] = _power_cases(engine, clock)
    with serve(engine) as url:
        power = client_for(engine, url, "供电公司")
        _dies_after_commit(engine, "partner_leased")
        with pytest.raises(SystemExit):
            _fetch(engine, power, "k-last")
        clock.advance(timedelta(seconds=30))
        [task] = power.fetch_and_lock(key="k-last")
        [lease] = case.events("partner_leased")
        assert task["id"] == lease["handoff_id"] and task["lock_expires_at"].startswith(lease["until"][:19])
        power.complete(task, {"granted": True, "benefit": "电费减免"})  # the remembered token holds the lease
    assert len(case.events("partner_result")) == 1


def test_extend_lock_retried_after_a_crash_right_after_commit_gets_the_first_answer(
    engine: Engine, clock: FixedClock
) -> None:
    [case] = _power_cases(engine, clock)
    with serve(engine) as url:
        power = client_for(engine, url, "供电公司")
        [task] = power.fetch_and_lock(lock_seconds=60)
        partner = keys.authenticate(engine, power.api_key)
        body = LockRequest(lock_token=task["lock_token"], lock_duration=600)

        def write(remember: Remember | None) -> dict[str, Any]:
            lease = timedelta(seconds=body.lock_duration)
            return external.extend_lock(engine, partner, task["id"], body.lock_token, lease=lease, remember=remember)

        _dies_after_commit(engine, "partner_lease_extended")
        with pytest.raises(SystemExit):
            once(engine, partner, "k-extend", f"extend/{task['id']}", body.model_dump(), write)
        [extended] = case.events("partner_lease_extended")
        clock.advance(timedelta(seconds=30))
        answer = power.extend(task, 600, key="k-extend")
        assert answer["lock_expires_at"].startswith(extended["until"][:19])  # from memory, not extended again
        assert len(case.events("partner_lease_extended")) == 1
        with pytest.raises(ApiError) as reused:
            power.extend(task, 900, key="k-extend")
        assert (reused.value.status, reused.value.code) == (409, "IDEMPOTENCY_KEY_REUSED")
        assert len(case.events("partner_lease_extended")) == 1


def test_two_requests_racing_with_one_key_lock_once_and_give_one_answer(engine: Engine, clock: FixedClock) -> None:
    cases = _power_cases(engine, clock, 2)
    with serve(engine) as url:
        power = client_for(engine, url, "供电公司")
        start, answers, refusals = threading.Barrier(2), [], []

        def twin() -> None:
            start.wait()
            try:
                answers.append(power.fetch_and_lock(max_tasks=1, key="race-1"))
            except ApiError as exc:  # the twin is still locking: a retry later gets the answer
                refusals.append(exc.code)

        threads = [threading.Thread(target=twin) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        answers.extend([power.fetch_and_lock(max_tasks=1, key="race-1")] * len(refusals))
    assert set(refusals) <= {"IDEMPOTENCY_KEY_BUSY"} and len(answers) == 2
    assert answers[0] == answers[1] and len(answers[0]) == 1  # one task, the same token for both
    leases = [e for case in cases for e in case.events("partner_leased")]
    assert len(leases) == 1
