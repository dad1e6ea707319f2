"""Notice numbers (通知书文号) on SQLite and PostgreSQL: consecutive per issuer and year, one per
notice however often it is issued, distinct when many are allocated at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable

from engine.service.facade import Engine
from integrations import notice_numbers
from integrations.notice_numbers import Notice, NoticeNumber, format_number
from tests.conftest import FIXTURES, deploy


def _cases(engine: Engine, count: int) -> list[str]:
    deploy(engine, FIXTURES / "engine" / "par.bpmn", forms_dir=None)
    return [engine.start("par", {}, actor="test").record.id for _ in range(count)]


def _notice(instance_id: str, kind: str = "approval") -> Notice:
    return Notice(instance_id, 7, kind, "最低生活保障确认通知书")


def test_numbers_run_per_issuer_and_year_and_a_notice_keeps_its_own(make_engine_for: Callable[..., Engine]) -> None:
    engine = make_engine_for()
    a, b, c = _cases(engine, 3)

    def issue(iid: str, issuer: str = "清河民救", year: int = 2026, kind: str = "approval") -> str:
        return notice_numbers.issue(engine, _notice(iid, kind), issuer=issuer, year=year, actor="jb").number

    assert issue(a) == "清河民救〔2026〕第0001号" == format_number("清河民救", 2026, 1)
    assert issue(b) == "清河民救〔2026〕第0002号"
    assert issue(a) == "清河民救〔2026〕第0001号"  # a reprint
    assert issue(c, issuer="南山乡民救") == "南山乡民救〔2026〕第0001号"  # another body, its own sequence
    assert issue(c, year=2027, kind="happiness") == "清河民救〔2027〕第0001号"  # another year starts again
    assert issue(a, kind="rejection") == "清河民救〔2026〕第0003号"  # another notice of the same case
    # One notice, one number: the (issuer, year) asked for on a reprint does not matter any more.
    assert issue(b, issuer="别的机关", year=2030) == "清河民救〔2026〕第0002号"
    assert [e.payload["number"] for e in engine.events(a) if e.type == "notice_numbered"] == [
        "清河民救〔2026〕第0001号",
        "清河民救〔2026〕第0003号",
    ]
    assert engine.verify(a)[0].ok


def test_notices_numbered_at_the_same_moment_get_distinct_consecutive_numbers(
    make_engine_for: Callable[..., Engine],
) -> None:
    engine = make_engine_for()
    ids = _cases(engine, 10)
    # Each thread with its own engine (own connection pool), as separate server processes would be.
    engines = [make_engine_for() for _ in range(12)]
    targets = [*ids, ids[0], ids[0]]  # two reprints of the first notice, racing its first issue
    barrier = threading.Barrier(len(targets))
    got: list[tuple[str, NoticeNumber]] = []
    errors: list[BaseException] = []

    def run(worker: Engine, iid: str) -> None:
        try:
            barrier.wait()
            got.append((iid, notice_numbers.issue(worker, _notice(iid), issuer="清河民救", year=2026, actor="t")))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(engines, targets, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    by_case: dict[str, set[int]] = {}
    for iid, number in got:
        by_case.setdefault(iid, set()).add(number.seq)
    assert all(len(seqs) == 1 for seqs in by_case.values()), by_case  # one number per notice
    assert sorted(s for seqs in by_case.values() for s in seqs) == list(range(1, 11))
    for iid in ids:
        assert len([e for e in engine.events(iid) if e.type == "notice_numbered"]) == 1
