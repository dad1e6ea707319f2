"""The world behind ``features/yishiyiyi.feature`` (一事一议).

One 一事一议 case on a SQLite file, built on :mod:`tests.support.sla_world`: its
:class:`~tests.support.sla_world.Engines` (a brand-new Engine for every step in the
"restart" lifecycle), its movable clock and prompt-scheduler time jumps, and
its SLA look-ups (clocks, audit events, 督办) by stage or element name.

What is added here is the procedure: the case file, the meeting, one opinion
per attending member unit, the minutes. A member unit's opinion task is an
instance of a parallel multi-instance user task; the engine's ready-task view
does not say which unit an instance belongs to, so :meth:`YishiyiyiWorld.unit_of`
reads the instance key SpiffWorkflow keeps with the task (``key_or_index``, the
unit's name, since the loop runs over the mapping ``opinion_requests``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.clock import SHANGHAI, FixedClock
from engine.errors import FormValidationError
from engine.runtime.tasks import ReadyTask
from engine.service.facade import ClockStatus, InstanceView
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, PROCESSES
from tests.support.sla_world import OVERALL, Engines, Model, World

PROCESS_ID = "yishiyiyi"
BPMN = PROCESSES / "yishiyiyi" / "yishiyiyi.bpmn"
POLICY = PROCESSES / "sla" / "yishiyiyi.national.sla.json"
FORM_DIR = FORMS / "yishiyiyi"
OPINION_TASK = "成员单位出具意见"
REGION = "CN-ZJ"
ORG_UNIT = "岱山县民政局"

# 本县协调机制的成员单位（features/yishiyiyi.feature 的功能说明列出的顺序）。
MEMBER_UNITS = [
    "县民政局", "县财政局", "县人社局", "县住建局", "县卫健局", "县医保局",
    "县教育局", "县残联", "县应急管理局", "县农业农村局", "县总工会", "县妇联",
]  # fmt: skip

APPLICANT = {
    "name": "张秀英",
    "id_number": "330921196805120021",
    "sex": "女",
    "birth_date": "1968-05-12",
    "mobile": "13957012345",
    "address": "岱山县高亭镇某村3组12号",
}


def _policy_overall_name() -> str:
    return str(json.loads(POLICY.read_text(encoding="utf-8"))["overall"]["name"])


def _field_titles() -> dict[str, str]:
    """Form field name → its Chinese title, over every form of the procedure."""
    titles: dict[str, str] = {}
    for path in sorted(FORM_DIR.glob("yishiyiyi-*-schema.json")):
        if path.name.endswith("-uischema.json"):
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        for name, spec in schema.get("properties", {}).items():
            if isinstance(spec, dict) and "title" in spec:
                titles.setdefault(name, spec["title"])
    return titles


@dataclass
class YishiyiyiWorld(World):
    quorum_rule: str = "三分之二以上成员单位出席"
    quorum_min_units: int | None = None
    decision_rule: str = "出席单位过半数同意"
    refusal: Exception | None = None
    titles: dict[str, str] = field(default_factory=_field_titles)
    overall_name: str = field(default_factory=_policy_overall_name)

    # -- the case ------------------------------------------------------------------

    def deploy(self) -> None:
        deploy_paths(self.engine(), [POLICY, PROCESSES / "yishiyiyi"], FORMS, actor="流程设计员")

    def submit_case(self, referring_org: str, reason: str, amount: float, cap: float) -> None:
        engine = self.engine()
        view = engine.start(PROCESS_ID, {}, actor=referring_org, region=REGION, org_unit=ORG_UNIT)
        self.instance_id, self.region = view.record.id, REGION
        case = {
            "case_summary": f"{APPLICANT['name']}家遭遇{reason}，申请一事一议救助 {amount:.0f} 元。",
            "referral_procedure": "临时救助（超出乡镇审批额度）",
            "referral_reference": "DSLS-2026-0417",
            "referring_org": referring_org,
            "township_cap": cap,
            "applicant": APPLICANT,
            "household_size": 3,
            "household_status": "低保边缘家庭",
            "requested_amount": amount,
            "hardship_reasons": [reason],
            "reason_detail": f"住房因{reason}严重损毁，家庭无力承担重建和生活开支，所需救助超出乡镇审批额度。",
            "attachments": ["火灾事故认定书", "乡镇先行救助记录"],
        }
        self.complete("submit_case", case, actor=f"{referring_org}经办人")

    def view(self) -> InstanceView:
        return self.engine().get(self.iid)

    def data(self) -> dict[str, Any]:
        return self.view().data

    # -- the meeting -----------------------------------------------------------------

    def convene(self, units: list[str]) -> None:
        form: dict[str, Any] = {
            "meeting_date": self.clock.now().astimezone(SHANGHAI).date().isoformat(),
            "meeting_place": "县政府第三会议室",
            "meeting_chair": "王副县长",
            "member_units_total": len(MEMBER_UNITS),
            "attending_units": units,
            "quorum_rule": self.quorum_rule,
            "decision_rule": self.decision_rule,
        }
        if self.quorum_min_units is not None:
            form["quorum_min_units"] = self.quorum_min_units
        self.complete("convene_meeting", form, actor="县级民政局")

    def _instance_keys(self) -> dict[str, str]:
        """Task id → the multi-instance key SpiffWorkflow stored with the task (here: the unit's name)."""
        with self.engine().store.reader() as unit:
            record = unit.get_instance(self.iid)
        assert record is not None
        tasks = json.loads(record.state)["tasks"]
        return {
            tid: str(t["internal_data"]["key_or_index"])
            for tid, t in tasks.items()
            if "key_or_index" in t["internal_data"]
        }

    def unit_of(self, task_id: str) -> str:
        """Which attending unit an opinion task (an instance of the multi-instance task) belongs to."""
        return self._instance_keys()[task_id]

    def opinion_tasks(self) -> dict[str, ReadyTask]:
        """The pending opinion tasks, by attending unit."""
        keys = self._instance_keys()
        tasks: dict[str, ReadyTask] = {}
        for task in self.view().ready:
            if task.element_id == "give_opinion":
                unit = keys[task.id]
                assert task.name == f"{OPINION_TASK}（{unit}）", task.name  # the inbox names the unit
                assert unit not in tasks, f"{unit} 有两项待办意见"
                tasks[unit] = task
        return tasks

    def give_opinion(self, unit: str, opinion: str, amount: float | None = None, remarks: str | None = None) -> None:
        tasks = self.opinion_tasks()
        assert unit in tasks, f"{unit} 没有待办的意见任务；有待办的单位：{sorted(tasks)}"
        form: dict[str, Any] = {"opinion": opinion}
        if amount is not None:
            form["suggested_amount"] = amount
        if remarks is None and opinion == "不同意":
            remarks = "不符合一事一议条件"
        if remarks is not None:
            form["remarks"] = remarks
        self.engine().complete_task(self.iid, tasks[unit].id, form, actor=unit)

    # -- the minutes -----------------------------------------------------------------

    def try_complete(self, name: str, form: dict[str, Any], actor: str) -> None:
        """Submit the form of the ready task called ``name``; a form refusal is kept in ``refusal``."""
        tasks = [t for t in self.view().ready if t.name == name]
        assert tasks, f"「{name}」不在待办中；待办：{self.ready_names()}"
        try:
            self.engine().complete_task(self.iid, tasks[0].id, form, actor=actor)
        except FormValidationError as exc:
            self.refusal = exc
        else:
            self.refusal = None

    def ready_task_names(self) -> list[str]:
        return [t.name for t in self.view().ready]

    # -- SLA labels ---------------------------------------------------------------------

    def clocks(self, label: str) -> list[ClockStatus]:
        return super().clocks(OVERALL if label == self.overall_name else label)

    def unit_clock(self, unit: str, label: str) -> ClockStatus:
        keys = self._instance_keys()
        found = [s for s in self.clocks(label) if s.clock.task_id and keys.get(s.clock.task_id) == unit]
        assert len(found) == 1, f"{unit} 的「{label}」计时：{found}"
        return found[0]


def open_world(restart: bool, tmp_path: Path) -> Iterator[YishiyiyiWorld]:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=SHANGHAI))
    engines = Engines(f"sqlite:///{tmp_path / 'jiuzhu.db'}", clock, restart=restart, redis_prefix=None)
    try:
        yield YishiyiyiWorld(engines, clock, Model.read(BPMN))
    finally:
        engines.close()
