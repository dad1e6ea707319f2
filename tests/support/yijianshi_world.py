"""The world behind ``features/yijianshi.feature`` (社会救助"一件事"联办).

One certified household, the catalogue of the 15 联办 items, and engines on a
SQLite file. The clock, the engines (one for the whole scenario, or a brand-new
one at every restart point), time jumps and the SLA lookups come from
:mod:`tests.support.sla_world`; what is particular to 联办 lives here:

* the catalogue (``processes/yijianshi/catalogue.json``), read as data, so a
  scenario can say what the catalogue itself says (政策找人);
* the synthetic households, validated against the start form
  (``forms/yijianshi/yijianshi-start-schema.json``) before every start;
* which item a partner's task is about. The engine does not yet offer a
  per-task data view (the partner inbox of issue 6 will), so the world reads
  the task's data from the stored instance state with the public
  serialization functions — exactly the data the partner would be shown.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from engine.clock import SHANGHAI, FixedClock
from engine.deploy.definitions import definition_from_dict
from engine.forms.validate import FormRef, validate_submission
from engine.runtime.serialization import RestoredSpec, load_workflow, spec_from_dict
from engine.runtime.tasks import ReadyTask
from engine.service.facade import ClockStatus
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, PROCESSES
from tests.support.sla_world import Engines, Model, World

PROCESS_ID = "yijianshi"
MODELS = PROCESSES / "yijianshi"
POLICY = PROCESSES / "sla" / "yijianshi.national.sla.json"
CATALOGUE_FILE = MODELS / "catalogue.json"
CATALOGUE_SCHEMA = MODELS / "catalogue.schema.json"
START_SCHEMA = FORMS / "yijianshi" / "yijianshi-start-schema.json"

# Element ids of the tasks people do.
REVIEW, NOTIFY = "yjs_review", "yjs_notify"
SIGN, RESULT, CORRECT = "ho_sign", "ho_result", "ho_correct"
PARTNER_TASKS = (SIGN, RESULT)

CASEWORKER = "乡镇(街道)经办人"
PARTNER_LANE = "联办部门"


# -- the catalogue -----------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    raw: dict[str, Any]

    @classmethod
    def read(cls, path: Path = CATALOGUE_FILE) -> Catalogue:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @property
    def items(self) -> list[dict[str, Any]]:
        return list(self.raw["items"])

    def by_code(self, code: str) -> dict[str, Any]:
        found = [i for i in self.items if i["code"] == code]
        assert len(found) == 1, f"目录中没有编码为 {code} 的事项"
        return found[0]

    def code(self, name: str) -> str:
        found = [i["code"] for i in self.items if name in (i["name"], i["full_name"])]
        assert len(found) == 1, f"目录中没有「{name}」这个事项（有：{'、'.join(i['name'] for i in self.items)}）"
        return found[0]

    def name(self, code: str) -> str:
        return str(self.by_code(code)["name"])

    def derived(self, status: str) -> list[str]:
        """What 政策找人 must find for a household of this status: straight from the data."""
        return [i["code"] for i in sorted(self.items, key=lambda i: i["seq"]) if status in i["statuses"]]

    def with_statuses(self, code: str, statuses: list[str], *, note: str) -> Catalogue:
        """A locally adjusted copy: the item applies to other statuses, under a new catalogue version."""
        raw = copy.deepcopy(self.raw)
        raw["version"] = f"{raw['version']}+{note}"
        for item in raw["items"]:
            if item["code"] == code:
                item["statuses"] = statuses
        return Catalogue(raw)

    def household_field(self, label: str) -> str:
        return _key_for(self.raw["household_fields"], label)

    def member_field(self, label: str) -> str:
        return _key_for(self.raw["member_fields"], label)


def _key_for(labels: dict[str, str], label: str) -> str:
    found = [key for key, text in labels.items() if text == label]
    assert len(found) == 1, f"「{label}」不是目录中的字段名（有：{'、'.join(labels.values())}）"
    return found[0]


# -- synthetic households (ID numbers and bank cards pass their check digits) ----------------

HOUSEHOLDS: dict[str, dict[str, Any]] = {
    "张秀英": {
        "household_id": "330106-2026-000315",
        "status": "低保",
        "certificate_no": "西湖低保2026第0315号",
        "certified_on": "2026-02-27",
        "certified_by": "杭州市西湖区民政局",
        "applicant_name": "张秀英",
        "applicant_id_number": "330106196805120024",
        "applicant_mobile": "13905710001",
        "address": "杭州市西湖区留下街道小和山社区8幢2单元301室",
        "members": [
            {
                "name": "张秀英", "id_number": "330106196805120024", "relationship": "本人", "sex": "女",
                "birth_date": "1968-05-12", "health": "慢性病", "disability": False,
                "work_ability": "部分丧失劳动能力", "employment": "灵活就业",
            },
            {
                "name": "王建国", "id_number": "330106196611030012", "relationship": "配偶", "sex": "男",
                "birth_date": "1966-11-03", "health": "重病", "disability": False,
                "work_ability": "完全丧失劳动能力", "employment": "无业",
            },
            {
                "name": "王丽", "id_number": "330106199502200047", "relationship": "子女", "sex": "女",
                "birth_date": "1995-02-20", "health": "健康", "disability": True,
                "disability_certificate": "33010619950220004752", "disability_level": "二级",
                "work_ability": "部分丧失劳动能力", "employment": "失业",
            },
            {
                "name": "王小明", "id_number": "330106201209010033", "relationship": "子女", "sex": "男",
                "birth_date": "2012-09-01", "health": "健康", "disability": False,
                "work_ability": "有劳动能力", "employment": "在校学生",
            },
        ],
        "bank_account": {
            "bank_name": "中国建设银行杭州留下支行", "card_number": "6217001234567890122", "account_holder": "张秀英",
        },
        "electricity_account": "3301069876",
        "cable_tv_account": "HS0571889901",
        "monthly_income": 1800.00,
        "per_capita_income": 450.00,
        "benefit_amount": 2180.00,
    },
    "李德福": {
        "household_id": "330106-2026-000402",
        "status": "特困",
        "certificate_no": "西湖特困2026第0402号",
        "certified_on": "2026-02-26",
        "certified_by": "杭州市西湖区民政局",
        "applicant_name": "李德福",
        "applicant_id_number": "330106195007080019",
        "applicant_mobile": "13605710002",
        "address": "杭州市西湖区双浦镇铜鉴湖村12号",
        "members": [
            {
                "name": "李德福", "id_number": "330106195007080019", "relationship": "本人", "sex": "男",
                "birth_date": "1950-07-08", "health": "慢性病", "disability": False,
                "work_ability": "完全丧失劳动能力", "employment": "无业",
            },
        ],
        "bank_account": {
            "bank_name": "中国农业银行杭州双浦支行", "card_number": "6228480012345678903", "account_holder": "李德福",
        },
        "electricity_account": "3301064321",
        "monthly_income": 0.00,
        "per_capita_income": 0.00,
        "benefit_amount": 1960.00,
    },
}  # fmt: skip


# -- the world --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """A ready task, with the data its assignee sees."""

    ready: ReadyTask
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return self.ready.id

    @property
    def element_id(self) -> str:
        return self.ready.element_id

    @property
    def item(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.data["handoff"]["item"])

    @property
    def code(self) -> str:
        return str(self.item["code"])


@dataclass
class YijianshiWorld(World):
    catalogue: Catalogue = field(default_factory=Catalogue.read)
    household: dict[str, Any] = field(default_factory=dict)
    _specs: dict[tuple[str, int], RestoredSpec] = field(default_factory=dict)

    # -- set-up ---------------------------------------------------------------------------

    def deploy(self) -> None:
        deploy_paths(self.engine(), [POLICY, MODELS], FORMS, actor="流程设计员")

    def certify(self, applicant: str, status: str) -> None:
        """民政 certified the household: start 联办 with its data and the catalogue."""
        household = copy.deepcopy(HOUSEHOLDS[applicant])
        household["status"] = status
        data = {
            "household": household,
            "catalogue_version": self.catalogue.raw["version"],
            "catalogue": self.catalogue.items,
        }
        schema = json.loads(START_SCHEMA.read_text(encoding="utf-8"))
        validate_submission(FormRef(START_SCHEMA.name, schema, None, None), data)  # raises with Chinese field messages
        view = self.engine().start(PROCESS_ID, data, actor="县级民政局", region="CN-ZJ-HZ", org_unit="西湖区留下街道")
        self.instance_id, self.region, self.household = view.record.id, "CN-ZJ-HZ", household

    # -- reading the case -------------------------------------------------------------------

    def data(self) -> dict[str, Any]:
        return self.engine().get(self.iid).data

    def status(self) -> str:
        return self.engine().get(self.iid).record.status

    def task_data(self) -> dict[str, dict[str, Any]]:
        """Every task's data by task id, read from the stored state (see the module docstring)."""
        engine = self.engine()
        with engine.store.reader() as unit:
            record = unit.get_instance(self.iid)
            assert record is not None
            key = (record.process_id, record.version)
            if key not in self._specs:
                version = unit.get_version(*key)
                assert version is not None
                self._specs[key] = spec_from_dict(definition_from_dict(version.definition).spec)
            state = record.state
        workflow = load_workflow(state, self._specs[key])
        tasks = list(workflow.tasks.values())
        for sub in workflow.subprocesses.values():
            tasks.extend(sub.tasks.values())
        return {str(t.id): dict(t.data) for t in tasks}

    def tasks(self, *element_ids: str) -> list[Task]:
        ready = self.engine().get(self.iid).ready
        data = self.task_data()
        return [Task(t, data[t.id]) for t in ready if not element_ids or t.element_id in element_ids]

    def partner_tasks(self) -> list[Task]:
        return self.tasks(*PARTNER_TASKS)

    def by_item(self, *element_ids: str) -> dict[str, Task]:
        """The ready tasks of these elements (partner tasks by default), by item code; one per item."""
        tasks = self.tasks(*(element_ids or PARTNER_TASKS))
        found = {t.code: t for t in tasks}
        assert len(found) == len(tasks), f"有事项的待办不止一件：{sorted(t.code for t in tasks)}"
        return found

    def task_for(self, code: str, *element_ids: str) -> Task:
        found = self.by_item(*element_ids).get(code)
        if found is None:
            pending = [f"{self.catalogue.name(t.code)}（{t.ready.name}）" for t in self.tasks(*PARTNER_TASKS, CORRECT)]
            raise AssertionError(f"「{self.catalogue.name(code)}」没有这样的待办；现有：{pending}")
        return found

    def complete(self, element_id: str, data: dict[str, Any], actor: str) -> None:
        tasks = self.tasks(element_id)
        assert len(tasks) == 1, f"「{self.model.names.get(element_id, element_id)}」待办 {len(tasks)} 件"
        self.engine().complete_task(self.iid, tasks[0].id, data, actor=actor)

    def complete_task(self, task: Task, data: dict[str, Any], actor: str) -> None:
        self.engine().complete_task(self.iid, task.id, data, actor=actor)

    def ready_names(self) -> list[str]:
        return [t.name for t in self.engine().get(self.iid).ready]

    # -- SLA of one item --------------------------------------------------------------------

    def item_clocks(self, code: str, stage_name: str) -> list[ClockStatus]:
        data = self.task_data()
        found = []
        for status in self.engine().sla_status(self.iid):
            task = data.get(status.clock.task_id or "")
            handoff = (task or {}).get("handoff")
            if status.clock.name == stage_name and handoff and handoff["item"]["code"] == code:
                found.append(status)
        return found

    def item_task_ids(self, code: str) -> set[str]:
        """Every task (of any round) that worked on the item."""
        return {
            tid
            for tid, data in self.task_data().items()
            if isinstance(data.get("handoff"), dict) and data["handoff"]["item"]["code"] == code
        }

    def item_overdue_alerts(self, code: str, stage_name: str) -> list[dict[str, Any]]:
        keys = {s.clock.key for s in self.item_clocks(code, stage_name)}
        return [s for s in self.overdue_alerts() if s["clock"] in keys]


# The variables handed across the call activity: the caller's multi-instance data
# items and the called process's data input and output carry the same ids by design.
HANDED_OVER = {"handoff", "result"}


def read_models() -> Model:
    names: dict[str, str] = {}
    stages: dict[str, str] = {}
    for path in sorted(MODELS.glob("*.bpmn")):
        model = Model.read(path)
        clash = (set(names) & set(model.names)) - HANDED_OVER
        assert not clash, f"两个模型中有重复的元素 id：{sorted(clash)}"
        names.update(model.names)
        stages.update(model.stages)
    return Model(names, stages)


def open_world(restart: bool, tmp_path: Path) -> Iterator[YijianshiWorld]:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=SHANGHAI))
    engines = Engines(f"sqlite:///{tmp_path / 'jiuzhu.db'}", clock, restart=restart, redis_prefix=None)
    try:
        yield YijianshiWorld(engines, clock, read_models())
    finally:
        engines.close()
