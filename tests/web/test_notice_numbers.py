"""通知书文号 on real 低保 cases: 机关代字〔年份〕第NNNN号 from the issuing body's yearly
sequence, given once and kept on reprints, audited on the case; the 送达回证 repeats it."""

from __future__ import annotations

from collections.abc import Callable

from engine.clock import FixedClock
from integrations.sql.store import SqlStore
from tests.support import decided_cases as dc
from tests.support.page_text import pdf_text


def test_approval_notices_of_one_body_and_year_are_numbered_in_sequence_and_keep_their_number(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    first = dc.decided(engine, clock, dc.APPROVE)
    second = dc.decided(engine, clock, {**dc.APPROVE, "certificate_no": "QH-DB-2026-0032"}, family="刘桂芳")
    client = world.signed_in("jb_nanshan")
    # Decided first, printed second: numbers go by first issue.
    text_second = pdf_text(client.get(f"/cases/{second}/notices/approval.pdf").content)
    text_first = pdf_text(client.get(f"/cases/{first}/notices/approval.pdf").content)
    assert "清河民救〔2026〕第0001号" in text_second and "清河民救〔2026〕第0002号" in text_first
    assert "第0001号" not in text_first
    # The internal instance id no longer makes the number.
    assert first[:8] not in text_first.split("案件编号")[0]
    # The 送达回证 at the foot: the same 文号, the addressee, delivered through the township.
    receipt = text_first.split("送达回证", 1)[1]
    assert "送达文书：最低生活保障确认通知书（清河民救〔2026〕第0002号）" in receipt
    assert "受送达人：周明" in receipt and "送达机关：南山乡人民政府" in receipt and "受送达人签收" in receipt
    # A reprint, by someone else, later: the same number, nothing new allocated.
    events_before = len(engine.events(first))
    again = pdf_text(world.signed_in("mz_county").get(f"/cases/{first}/notices/approval.pdf").content)
    assert "清河民救〔2026〕第0002号" in again and "第0003号" not in again
    assert len(engine.events(first)) == events_before
    # Issuing is on the case's audit chain, with who issued it, and shown in the timeline.
    [numbered] = [e for e in engine.events(first) if e.type == "notice_numbered"]
    assert numbered.actor == "jb_nanshan" and numbered.payload["number"] == "清河民救〔2026〕第0002号"
    assert engine.verify(first)[0].ok
    page = client.get(f"/cases/{first}").text
    assert "出具「最低生活保障确认通知书」，文号 清河民救〔2026〕第0002号" in page


def test_a_township_decision_takes_the_townships_own_sequence(
    make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str
) -> None:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    county = dc.decided(engine, clock, dc.APPROVE)
    devolved = dc.start(engine, region="CN-FJ-350100", family="刘桂芳")  # 审核确认 devolved to the township
    dc.do(engine, devolved, dc.to_confirmation(engine, clock, devolved, "刘桂芳"), dc.REJECT, "sh_nanshan")
    client = world.signed_in("jb_nanshan")
    assert "清河民救〔2026〕第0001号" in pdf_text(client.get(f"/cases/{county}/notices/approval.pdf").content)
    text = pdf_text(client.get(f"/cases/{devolved}/notices/rejection.pdf").content)
    assert "南山乡民救〔2026〕第0001号" in text
    assert "送达文书：最低生活保障不予确认通知书（南山乡民救〔2026〕第0001号）" in text
    # An undecided notice kind allocates nothing.
    assert client.get(f"/cases/{devolved}/notices/approval.pdf").status_code == 409
    assert [e for e in engine.events(devolved) if e.type == "notice_numbered"][0].payload["kind"] == "rejection"
