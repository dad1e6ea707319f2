"""SLA policy files: validation with located errors, and which policy governs a region."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.sla.policy import PolicyBook, PolicyInvalid, load_policy, stage_problems
from engine.workcal.calendar import PeriodKind
from tests.conftest import PROCESSES

POLICIES = sorted((PROCESSES / "sla").glob("*.sla.json"))


def policy(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_shipped_policies_are_valid_and_cite_sources(path: Path) -> None:
    loaded = load_policy(path.read_text(encoding="utf-8"), source=path.name)
    assert loaded.source and loaded.overall.source
    assert all(stage.source for stage in loaded.stages.values())
    if loaded.procedure == "dibao":  # 民发〔2021〕57号 第22条: 30, special cases up to 45
        assert loaded.extension is not None and loaded.extension.limit == 45
    elif loaded.extension is not None:
        assert loaded.extension.limit > loaded.overall.limit


def test_the_figures_of_the_law() -> None:
    by_id = {p.id: p for p in (load_policy(f.read_text(encoding="utf-8"), source=f.name) for f in POLICIES)}
    assert by_id["dibao.national"].overall.limit == 30
    assert by_id["dibao.devolved"].overall.limit == 20
    zhejiang = by_id["dibao.zhejiang"]
    assert (zhejiang.stages["township_review"].limit, zhejiang.stages["county_confirmation"].limit) == (15, 5)
    publicity = zhejiang.stages["publicity"]
    assert (publicity.limit, publicity.unit, publicity.counts_in_overall) == (7, PeriodKind.NATURAL_DAYS, False)
    assert zhejiang.pauses_overall("publicity") and not by_id["dibao.national"].pauses_overall("publicity")
    assert by_id["dibao.national"].stages["start_investigation"].limit == 3


def test_region_picks_the_longest_matching_policy() -> None:
    book = PolicyBook(load_policy(f.read_text(encoding="utf-8"), source=f.name) for f in POLICIES)
    pick = {region: book.select("sla_skeleton", region).id for region in ("CN", "CN-GS", "CN-ZJ-HZ", "CN-FJ-XM")}  # type: ignore[union-attr]
    assert pick == {
        "CN": "dibao.national",
        "CN-GS": "dibao.national",
        "CN-ZJ-HZ": "dibao.zhejiang",
        "CN-FJ-XM": "dibao.devolved",
    }
    selected = book.select("sla_skeleton", "CN-ZJX")
    assert selected is not None and selected.id == "dibao.national"
    assert book.select("other_process", "CN") is None


def test_a_policy_loaded_again_with_changes_governs_new_cases() -> None:
    national = (PROCESSES / "sla" / "dibao.national.sla.json").read_text(encoding="utf-8")
    data = json.loads(national)
    data["stages"]["publicity"]["limit"] = 5
    first = load_policy(national, source="a")
    again = load_policy(json.dumps(data), source="b")
    book = PolicyBook([first, again])
    assert book.select("dibao", "CN") is again and first in book.policies  # running cases still find theirs


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["overall"].update(unit="hours"), "overall.unit"),
        (lambda d: d["overall"].update(limit=0), "overall.limit"),
        (lambda d: d["overall"].update(warn_before=40), "overall.warn_before"),
        (lambda d: d["stages"]["publicity"].update(counts_in_overall="no"), "stages.publicity.counts_in_overall"),
        (lambda d: d.update(pause_stages=["nap"]), "pause_stages[0]"),
        (lambda d: d["extension"].update(limit=20), "extension.limit"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d.pop("regions"), "regions"),
        (lambda d: d["stages"]["publicity"].update(due_from="handoff..due_on"), "stages.publicity.due_from"),
        (lambda d: d["stages"]["publicity"].update(due_from=["handoff"]), "stages.publicity.due_from"),
        (lambda d: d["overall"].update(due_from="handoff.due_on"), "overall.due_from"),
        (lambda d: d["overall"].update(escalate_to=["县级民政局", "县级民政局"]), "overall.escalate_to"),
        (lambda d: d["overall"].update(escalate_to=[]), "overall.escalate_to"),
    ],
)
def test_bad_policies_are_refused_with_the_field_named(change: Callable[[dict[str, Any]], object], field: str) -> None:
    data = policy(PROCESSES / "sla" / "dibao.national.sla.json")
    change(data)
    with pytest.raises(PolicyInvalid) as info:
        load_policy(json.dumps(data, ensure_ascii=False), source="bad.sla.json")
    fields = {p.location.field for p in info.value.problems()}
    assert field in fields
    assert all(p.location.file == "bad.sla.json" and p.code == "SLA_POLICY_INVALID" for p in info.value.problems())


def test_partner_stages_escalate_to_several_roles_and_take_the_items_own_date() -> None:
    path = PROCESSES / "sla" / "yijianshi.national.sla.json"
    loaded = load_policy(path.read_text(encoding="utf-8"), source=path.name)
    for key in ("partner_sign", "partner_result"):
        assert loaded.stages[key].escalate_to == ("联办部门负责人", "乡镇审核人", "县级民政局")
    assert loaded.stages["partner_result"].due_from == ("handoff", "due_on")
    assert "partner_sla_working_days" in (loaded.stages["partner_result"].source or "")
    assert loaded.stages["partner_sign"].due_from is None and loaded.overall.escalate_to == ("县级民政局",)


def test_not_json_is_refused() -> None:
    with pytest.raises(PolicyInvalid) as info:
        load_policy("{nope", source="x.sla.json")
    assert "JSON" in info.value.problems()[0].message


def test_stage_references_must_exist_in_governing_policies() -> None:
    national = load_policy((PROCESSES / "sla" / "dibao.national.sla.json").read_text(encoding="utf-8"), source="n")
    problems = stage_problems("sla_skeleton", "p.bpmn", {"t1": "start_investigation", "t2": "nap"}, [national])
    assert [(p.location.element_id, p.code) for p in problems] == [("t2", "SLA_STAGE_UNKNOWN")]
    assert stage_problems("unrelated", "p.bpmn", {"t2": "nap"}, [national]) == []


def test_starts_at_names_the_element_the_overall_limit_counts_from() -> None:
    import json as _json

    from engine.sla.policy import PolicyInvalid as _Invalid
    from engine.sla.policy import load_policy as _load

    overall: dict[str, Any] = {"name": "总时限", "limit": 30, "unit": "working_days", "starts_at": "db_accept"}
    stage: dict[str, Any] = {"name": "环节", "limit": 3, "unit": "working_days"}
    base: dict[str, Any] = {
        "id": "p", "version": "1", "procedure": "dibao", "title": "t", "source": "s",
        "processes": ["dibao"], "regions": ["CN"],
        "overall": overall, "stages": {"s": stage},
    }  # fmt: skip
    assert _load(_json.dumps(base), source="p.sla.json").overall.starts_at == ("db_accept",)
    for bad, field in (
        ({**base, "overall": {**overall, "starts_at": "not an id"}}, "overall.starts_at"),
        ({**base, "overall": {**overall, "starts_at": []}}, "overall.starts_at"),
        ({**base, "stages": {"s": {**stage, "starts_at": "x"}}}, "stages.s.starts_at"),
    ):
        try:
            _load(_json.dumps(bad), source="p.sla.json")
        except _Invalid as exc:
            assert [p.location.field for p in exc.problems()] == [field]
            assert exc.problems()[0].location.file == "p.sla.json"
        else:
            raise AssertionError(f"{field} was accepted")
