"""The 核对 adapter: the simulated check centre's findings and verdicts, and the hedui connector."""

from __future__ import annotations

from typing import Any

import pytest

from engine.runtime.connectors import ConnectorError
from integrations.hedui import CheckRequest, HeduiConnector, Member, SimulatedCheck
from jiuzhu.demo_cases import load_households
from tests.conftest import ROOT

RECORDS = ROOT / "demo" / "hedui_records.json"
RULES = {"deposits_per_person": 30000, "max_homes": 1, "max_vehicle_value": 50000}


def members(key: str, *, authorised: bool = True) -> list[dict[str, Any]]:
    household = load_households()[key]["application"]
    return [
        {"id_number": m["id_number"], "name": m["name"], "adult": m["birth_date"] < "2008", "authorised": authorised}
        for m in household["members"]
    ]


def run(key: str, standard: float = 900) -> dict[str, Any]:
    connector = HeduiConnector(SimulatedCheck.from_file(RECORDS))
    return dict(connector.call({"members": members(key), "monthly_standard": standard}))


def test_an_eligible_household_gets_findings_per_category_and_member() -> None:
    report = run("刘桂芳")
    assert (report["eligible"], report["verdict"], report["reasons"]) == (True, "符合", [])
    assert [f["name"] for f in report["findings"]["registration"]] == ["刘桂芳", "张建民", "张磊"]
    assert [f["value"] for f in report["findings"]["tax"]] == [600]
    assert (report["monthly_income"], report["per_capita_income"]) == (600, 200)
    assert set(report["findings"]) == {
        "registration",
        "tax",
        "social_insurance",
        "real_estate",
        "vehicles",
        "deposits",
        "business",
    }
    assert report["report_no"] == run("刘桂芳")["report_no"]  # deterministic


@pytest.mark.parametrize(("key", "word"), [("陈小燕", "机动车"), ("孙丽", "银行存款")])
def test_assets_above_the_limits_make_a_household_ineligible(key: str, word: str) -> None:
    report = run(key)
    assert report["eligible"] is False and any(word in reason for reason in report["reasons"]), report


def test_income_at_the_standard_is_ineligible() -> None:
    assert run("刘桂芳", standard=200)["reasons"] == ["经核对家庭月人均收入 200.0 元，不低于当地低保标准 200.0 元"]


def test_business_homes_and_non_residential_property_are_reasons() -> None:
    records = {
        "A": {"business": ["清河县某某商贸有限公司"]},
        "B": {"real_estate": [{"use": "住宅", "area": 80, "place": "甲"}, {"use": "住宅", "area": 60, "place": "乙"}]},
        "C": {"real_estate": [{"use": "商业", "area": 30, "place": "丙"}]},
    }
    check = SimulatedCheck(records, RULES, source="test")
    people = [Member(k, k, True, True) for k in records]
    report = check.check(CheckRequest(people, 900)).to_dict()
    assert report["reasons"] == ["家庭拥有住房 2 套，超过 1 套", "家庭拥有非居住类房产", "家庭成员登记有存续的经营主体"]


def test_a_person_without_records_has_only_the_registration_finding() -> None:
    report = SimulatedCheck({}, RULES, source="t").check(CheckRequest([Member("X", "某甲", True, True)], 900))
    assert [f.category for f in report.findings] == ["registration"] and report.eligible


def test_an_adult_without_authorisation_is_refused_and_no_check_runs() -> None:
    connector = HeduiConnector(SimulatedCheck.from_file(RECORDS))
    with pytest.raises(ConnectorError) as caught:
        connector.call({"members": members("刘桂芳", authorised=False), "monthly_standard": 900})
    assert caught.value.code == "HEDUI_NOT_AUTHORISED" and "刘桂芳" in caught.value.message


@pytest.mark.parametrize(
    "params", [{"members": [], "monthly_standard": 900}, {"members": [{"name": "缺身份证号"}], "monthly_standard": 1}]
)
def test_an_incomplete_request_is_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ConnectorError) as caught:
        HeduiConnector(SimulatedCheck.from_file(RECORDS)).call(params)
    assert caught.value.code == "HEDUI_REQUEST"
