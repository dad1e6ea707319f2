"""Demo cases: the synthetic households of ``demo/households.json`` at different stages.

``jiuzhu serve --demo`` calls :func:`seed_demo_cases` after deploying every
process, so the inboxes of the demo users (``demo/users.json``) have work in
them: a 低保 application waiting for 受理, one in 入户调查 and 信息核对, one
whose check found it ineligible, one filed as a 近亲属 case, one in 公示,
a 临时救助 report, and a family certified earlier whose 一件事联办 items wait in
the partner departments' inboxes. Each case carries the village it came from as its
``org_unit`` and that unit's region (``demo/org_units.json``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from engine.service.facade import Engine
from jiuzhu import timefmt

DEMO = Path(__file__).resolve().parent.parent / "demo"
DEMO_DIVISION = "CN-DEMO-QINGHE"  # the fictional county as a 区划 code in forms that ask for one

# What the case workers fill in at each step, for a demo case that passes it.
ACCEPT = {"accept_decision": "受理", "accept_opinion": "材料齐全，予以受理"}
START_INVESTIGATION = {"investigation_plan": "入户调查并走访邻里，同时提请县级信息核对", "check_requested": True}
CHECK_INTAKE = {"check_note": "已受理，核对平台查询"}
INITIAL_REVIEW = {"initial_opinion": "经入户调查和信息核对，家庭收入、财产状况符合低保条件，拟纳入低保"}


def home_visit(on: str) -> dict[str, Any]:
    return {
        "investigators": ["张经办", "李协理"],
        "visit_date": on,
        "living_conditions": "困难",
        "observations": "住房简陋，家中无贵重物品，与申报情况一致",
        "household_signed": True,
    }


def relatives_filing(no: str) -> dict[str, Any]:
    return {"filing_no": no, "filing_detail": "申请人之弟为本村村民委员会委员，已单独登记备案"}


def _age(born: str, on: str) -> int:
    b, d = date.fromisoformat(born), date.fromisoformat(on)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def load_households(path: Path = DEMO / "households.json") -> dict[str, dict[str, Any]]:
    """Households by key (the applicant's name)."""
    return {h["key"]: h for h in json.loads(path.read_text(encoding="utf-8"))["households"]}


def load_org_units(path: Path = DEMO / "org_units.json") -> dict[str, dict[str, Any]]:
    return {u["code"]: u for u in json.loads(path.read_text(encoding="utf-8"))["org_units"]}


def opening(household: Mapping[str, Any]) -> dict[str, Any]:
    """What opens the household's 低保 case (the start form of ``dibao``): channel and applicant."""
    filed = household["application"]
    person = {k: filed["applicant"][k] for k in ("name", "id_number", "mobile") if k in filed["applicant"]}
    return {"assistance_type": "低保", "apply_channel": filed["apply_channel"], "applicant": person}


def application(household: Mapping[str, Any], apply_date: str) -> dict[str, Any]:
    """The household's 低保 application as filed on ``apply_date``: every adult has signed the authorisation."""
    form = copy.deepcopy(dict(household["application"]))
    form["apply_date"] = apply_date
    for member in form["members"]:
        if _age(member["birth_date"], apply_date) >= 18:
            member["authorised"] = True
    if form["apply_channel"] == "村居代办":
        form |= {
            "agent_name": "村委会协理员",
            "agent_id_number": "139931198801010012",
            "agent_mobile": "13931000900",
            "agent_relationship": "村(社区)协理员",
        }
    return form


def jinan_report(household: Mapping[str, Any], on: str, region: str) -> dict[str, Any]:
    """A 临时救助 急难 report for the household's applicant (the form of ``linshi_jinan``)."""
    applicant = household["application"]["applicant"]
    person = {k: applicant[k] for k in ("name", "id_number", "sex", "birth_date", "mobile")}
    return {
        "reporter_type": "村(社区)",
        "reporter_name": f"{household['village']}村委会",
        "reporter_mobile": "13931000800",
        "township": household["village"],
        "emergency_region": region,
        "emergency_place": applicant["registered_address"],
        "event_type": "火灾",
        "event_date": on,
        "person": {**person, "hukou_address": applicant["registered_address"], "hukou_region": region},
        "household_size": len(household["application"]["members"]),
        "situation": f"{applicant['name']}家中突发火灾，衣物被褥和口粮损毁，急需基本生活救助",
        "urgent_needs": ["基本生活"],
    }


class _Case:
    def __init__(self, engine: Engine, instance_id: str) -> None:
        self.engine, self.id = engine, instance_id

    def do(self, element_id: str, data: Mapping[str, Any], actor: str) -> _Case:
        task = next(t for t in self.engine.get(self.id).ready if t.element_id == element_id)
        self.engine.complete_task(self.id, task.id, dict(data), actor=actor)
        return self


MEMBER_KEYS = ("name", "id_number", "relationship", "sex", "birth_date", "health", "disability",
               "disability_level", "work_ability", "employment")  # fmt: skip


def yijianshi_start(household: Mapping[str, Any], catalogue: Mapping[str, Any]) -> dict[str, Any]:
    """The start data of a 一件事联办 case for a certified demo family, shaped as
    dibao.bpmn's 整理联办所需的家庭信息 builds it on approval."""
    form, certified = household["application"], household["certified"]
    applicant = form["applicant"]
    family = {
        "household_id": certified["certificate_no"],
        **{k: certified[k] for k in ("status", "certificate_no", "certified_on", "certified_by")},
        "applicant_name": applicant["name"],
        "applicant_id_number": applicant["id_number"],
        "applicant_mobile": applicant["mobile"],
        "address": applicant.get("residence_address") or applicant["registered_address"],
        "members": [{k: m[k] for k in MEMBER_KEYS if k in m} for m in form["members"]],
        "bank_account": form["bank_account"],
        "monthly_income": certified["monthly_income"],
        "per_capita_income": certified["per_capita_income"],
        "benefit_amount": certified["benefit_amount"],
        "electricity_account": certified["electricity_account"],
        "cable_tv_account": certified["cable_tv_account"],
    }
    return {"household": family, "catalogue_version": catalogue["version"], "catalogue": catalogue["items"]}


def seed_demo_cases(
    engine: Engine,
    *,
    households: Path = DEMO / "households.json",
    org_units: Path = DEMO / "org_units.json",
    catalogue: Path = DEMO.parent / "processes" / "yijianshi" / "catalogue.json",
) -> list[str]:
    """Start the demo cases once (none if a 低保 case exists); returns their instance ids.
    The processes must be deployed."""
    if engine.list_instances(process_id="dibao", limit=1):
        return []
    homes, units = load_households(households), load_org_units(org_units)
    items = json.loads(catalogue.read_text(encoding="utf-8"))
    today = timefmt.day_of(engine.clock.now()).isoformat()
    started: list[str] = []

    def dibao(key: str, steps: Callable[[_Case], object] = lambda case: None) -> None:
        household = homes[key]
        unit = units[household["org_unit"]]
        view = engine.start("dibao", opening(household), actor="system", org_unit=unit["code"], region=unit["region"])
        case = _Case(engine, view.record.id).do("db_apply", application(household, today), actor="申请人")
        steps(case)
        started.append(case.id)

    def accepted(case: _Case) -> _Case:
        return case.do("db_accept", ACCEPT, "经办人")

    def investigated(case: _Case) -> _Case:
        accepted(case).do("db_start_investigation", START_INVESTIGATION, "经办人")
        return case.do("db_check_intake", CHECK_INTAKE, "核对中心").do("db_home_visit", home_visit(today), "经办人")

    dibao("王德顺")  # waiting for 受理
    dibao(
        "刘桂芳",
        lambda c: c.do("db_accept", ACCEPT, "经办人").do("db_start_investigation", START_INVESTIGATION, "经办人"),
    )
    dibao("陈小燕", investigated)  # the check found a car: 告知核对结果
    dibao("赵大勇", accepted)  # 近亲属: 单独登记备案
    dibao("周明", lambda c: investigated(c).do("db_initial_review", INITIAL_REVIEW, "审核人"))  # in 公示
    sun = homes["孙丽"]
    unit = units[sun["org_unit"]]
    township = units[unit["parent"]]
    view = engine.start("linshi_jinan", {}, actor="system", org_unit=township["code"], region=unit["region"])
    started.append(_Case(engine, view.record.id).do("register", jinan_report(sun, today, DEMO_DIVISION), "协理员").id)
    started.extend(_yijianshi(engine, homes, units, items))
    return started


def _yijianshi(
    engine: Engine, homes: Mapping[str, Any], units: Mapping[str, Any], catalogue: Mapping[str, Any]
) -> list[str]:
    """Each certified family's 一件事联办, its item list confirmed: the handoffs are out."""
    started = []
    for household in homes.values():
        if "certified" not in household:
            continue
        township = units[units[household["org_unit"]]["parent"]]
        data = yijianshi_start(household, catalogue)
        view = engine.start("yijianshi", data, actor="system", org_unit=township["code"], region=township["region"])
        # 民政's own items are the certification itself; the demo hands out the partners' ones.
        partner_of = {row["code"]: row["partner"] for row in catalogue["items"]}
        items = [code for code in view.data["derived_items"] if partner_of[code] != "民政"]
        review = {"selected_items": items, "adjust_reason": "民政事项已随认定办理，其余推送联办部门"}
        started.append(_Case(engine, view.record.id).do("yjs_review", review, "经办人").id)
    return started
