"""Applicant, partner and deadline facts for the inbox; ID masking."""

from __future__ import annotations

from engine.runtime.task_facts import applicant, mask_id, partner_of


def test_applicant_is_found_where_procedures_keep_it() -> None:
    assert applicant({"applicant": {"name": "张三", "id_number": "330102199001011234"}}) == (
        "张三",
        "330102199001011234",
    )
    assert applicant({"applicant_name": "李四", "applicant_id_number": "11010519491231002X"}) == (
        "李四",
        "11010519491231002X",
    )
    assert applicant({"household": {"applicant_name": "王五"}}) == ("王五", None)
    # 临时救助 急难型 keeps the person the emergency befell as ``person``
    assert applicant({"person": {"name": "孙丽", "id_number": "13993119791010024X"}}) == ("孙丽", "13993119791010024X")
    assert applicant({"applicant": "not an object", "other": 1}) == (None, None)


def test_partner_of_a_handoff() -> None:
    assert partner_of({"handoff": {"item": {"partner": "供电公司"}}}) == "供电公司"
    assert partner_of({"handoff": None}) is None


def test_mask_keeps_four_and_four() -> None:
    assert mask_id("330102199001011234") == "3301**********1234"
    assert mask_id("1234567") == "*******"
    assert mask_id(None) is None
