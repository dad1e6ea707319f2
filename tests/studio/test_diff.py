"""The diff of two real 低保 versions (tests/support/studio_versions.py): the
added task, the renamed one, the rerouted flow, the form field retitled and
the one added, the 公示 limit cut — each named, from the deployment store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.studio.diff import VersionDiff, diff_versions
from jiuzhu.studio.version_files import version_files
from jiuzhu.wiring import default_connectors
from tests.conftest import PROCESSES, ROOT, START
from tests.support.studio_versions import FORM, NEW_TASK, RENAMED, deploy_v1, deploy_v2


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    tmp = tmp_path_factory.mktemp("studio-diff")
    store = SqlStore.from_url(f"sqlite:///{tmp / 'diff.db'}")
    store.create_schema()
    clock = FixedClock(START)
    connectors = default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")
    engine = Engine(store, clock, Sandbox(helpers=HELPERS), connectors=connectors)
    deploy_v1(engine)
    clock.advance(timedelta(hours=1))
    deploy_v2(engine, tmp)
    yield engine
    store.engine.dispose()


@pytest.fixture(scope="module")
def diff(engine: Engine) -> VersionDiff:
    return diff_versions(version_files(engine, "dibao", 1).files, version_files(engine, "dibao", 2).files)


def test_a_version_carries_its_model_forms_decisions_and_the_policies_in_force(engine: Engine) -> None:
    v1, v2 = version_files(engine, "dibao", 1), version_files(engine, "dibao", 2)
    assert v1.model == "dibao/dibao.bpmn" or v1.model == "dibao.bpmn"
    assert {"dibao.bpmn", "dibao_region.dmn", "dibao_tiers.dmn", FORM} <= {n.rsplit("/", 1)[-1] for n in v1.files}
    assert not any("yijianshi" in name for name in v1.files)
    assert b'"limit": 7' in v1.files["dibao.national.sla.json"]
    assert b'"limit": 5' in v2.files["dibao.national.sla.json"]
    assert "dibao.zhejiang.sla.json" in v2.files  # loaded before v1, still in force


def test_the_added_task_the_renamed_one_and_the_rerouted_flow_are_named(diff: VersionDiff) -> None:
    by_id = {c.key: c for c in diff.elements}
    assert (
        by_id[NEW_TASK].kind == "added" and by_id[NEW_TASK].describe() == f"新增用户任务「上传公示照片」（{NEW_TASK}）"
    )
    assert by_id["db_f_photo"].kind == "added"
    renamed = by_id[RENAMED]
    assert renamed.kind == "changed"
    facts = {f.key: (f.old, f.new) for f in renamed.facts}
    assert facts == {"name": ("登记公示结果", "登记公示结果并存档"), "incoming": ("db_f_published", "db_f_photo")}
    assert "名称：登记公示结果 → 登记公示结果并存档" in renamed.describe()
    flow = {f.key: (f.old, f.new) for f in by_id["db_f_published"].facts}
    assert flow == {"target": (RENAMED, NEW_TASK)}
    assert set(by_id) == {NEW_TASK, "db_f_photo", RENAMED, "db_f_published"}  # nothing else moved
    assert diff.markers == {"added": ["db_f_photo", NEW_TASK], "removed": [], "changed": ["db_f_published", RENAMED]}


def test_form_fields_are_diffed_field_by_field(diff: VersionDiff) -> None:
    rows = {(c.key, c.kind): {f.key: (f.old, f.new) for f in c.facts} for c in diff.forms}
    assert rows == {
        ("objection_summary", "changed"): {"title": ("异议内容", "异议内容摘要")},
        ("publicity_place", "added"): {},
    }
    added = next(c for c in diff.forms if c.key == "publicity_place")
    assert added.describe() == "新增字段「公示地点」（publicity_place）" and added.file == FORM


def test_the_policy_change_is_the_publicity_stage_limit(diff: VersionDiff) -> None:
    [change] = diff.policies
    assert (change.key, change.label, change.kind) == ("dibao.national/publicity", "公示", "changed")
    assert [(f.label, f.old, f.new) for f in change.facts] == [("时限", "7", "5")]


def test_a_version_diffed_with_itself_is_empty(engine: Engine) -> None:
    files = version_files(engine, "dibao", 2).files
    same = diff_versions(files, files)
    assert (same.elements, same.forms, same.policies, same.files, same.problems) == ((), (), (), (), ())


def test_an_unreadable_model_is_a_located_problem_not_a_crash(engine: Engine) -> None:
    files = version_files(engine, "dibao", 1).files
    model = next(n for n in files if n.endswith(".bpmn"))
    broken = diff_versions(files, files | {model: b"<bpmn:definitions"})
    assert broken.problems and broken.problems[0].startswith(model.rsplit("/", 1)[-1] + "：XML")
    assert [f.kind for f in broken.files] == ["changed"]


def test_missing_version_is_not_found(engine: Engine) -> None:
    with pytest.raises(Exception) as missing:
        version_files(engine, "dibao", 9)
    assert getattr(missing.value, "code", None) == "VERSION_NOT_FOUND"


def test_required_and_conditional_fields(tmp_path: Path) -> None:
    old = b'{"type":"object","required":["a"],"properties":{"a":{"type":"string"},"b":{"type":"string"}}}'
    new = (
        b'{"type":"object","required":["b"],"properties":{"a":{"type":"string","format":"id-number"},'
        b'"b":{"type":"string","enum":["x","y"]},"c":{"type":"array","items":{"type":"object",'
        b'"properties":{"d":{"type":"integer"}}}}},"allOf":[{"if":{"properties":{"b":{"const":"x"}}},'
        b'"then":{"required":["c"]}}]}'
    )
    diff = diff_versions({"f-schema.json": old}, {"f-schema.json": new})
    rows = {c.key: (c.kind, {f.key: (f.old, f.new) for f in c.facts}) for c in diff.forms}
    assert rows == {
        "a": ("changed", {"required": ("是", "否"), "format": (None, "id-number")}),
        "b": ("changed", {"required": ("否", "是"), "enum": (None, '["x", "y"]')}),
        "c": ("added", {}),
        "c[].d": ("added", {}),
    }
