"""The world behind the 临时救助 Gherkin scenarios (``features/linshi_jinan.feature``).

Built on :mod:`tests.support.sla_world`: the same movable clock, the same engines (a
brand-new Engine for every step and every scheduler run in the "restart"
lifecycle) and the same time jumps, here on a SQLite file only. The model is
the two 临时救助 processes (急难型 ``linshi_jinan`` and 支出型
``linshi_zhichu``); their element ids and names are unique across both, so a
label in a scenario names exactly one element (or one stage of the policy).

The report form is filled from a small roster of synthetic people, so a
scenario says only who, where and what happened.

Deploying checks every model, decision table, form and script (about 0.6 s);
the suite does it for real once per session into a template database and
copies that database (SQLite backup API) into each scenario's own file, which
is what deploying the same files again would leave there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine.clock import SHANGHAI, FixedClock
from tests.conftest import FORMS, PROCESSES
from tests.support.sla_world import Engines, Model, World

LINSHI = PROCESSES / "linshi"
POLICY = PROCESSES / "sla" / "linshi.national.sla.json"
MODELS = (LINSHI / "linshi_jinan.bpmn", LINSHI / "linshi_zhichu.bpmn")
JINAN, ZHICHU = "linshi_jinan", "linshi_zhichu"

# Synthetic people; the ID numbers carry valid GB 11643 check characters.
ROSTER: dict[str, dict[str, Any]] = {
    "王建国": {
        "name": "王建国",
        "id_number": "62010219750618013X",
        "sex": "男",
        "birth_date": "1975-06-18",
        "mobile": "13919000001",
        "hukou_address": "甘肃省兰州市城关区某村3组",
    },
    "李秀英": {
        "name": "李秀英",
        "id_number": "510107198811020248",
        "sex": "女",
        "birth_date": "1988-11-02",
        "hukou_address": "四川省成都市武侯区某街道12号",
    },
    "赵长福": {
        "name": "赵长福",
        "id_number": "620102196001010210",
        "sex": "男",
        "birth_date": "1960-01-01",
        "mobile": "13919000003",
    },
}


def read_model() -> Model:
    names: dict[str, str] = {}
    stages: dict[str, str] = {}
    for path in MODELS:
        model = Model.read(path)
        clash = names.keys() & model.names.keys()
        assert not clash, f"{path.name} 与另一个临时救助流程有相同的元素 id：{sorted(clash)}"
        names.update(model.names)
        stages.update(model.stages)
    return Model(names, stages)


@dataclass
class LinshiWorld(World):
    """One 临时救助 case at a time."""

    template: Path | None = None  # a database the policy and processes were deployed into

    def deploy(self) -> None:
        if self.template is None:
            from jiuzhu.wiring import deploy_paths

            deploy_paths(self.engine(), [POLICY, LINSHI], FORMS, actor="流程设计员")
            return
        target = self.engines.url.removeprefix("sqlite:///")
        with sqlite3.connect(self.template) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        assert self.engine().versions(JINAN) and self.engine().versions(ZHICHU), "模板数据库中没有临时救助流程"

    def start_case(self, process_id: str, region: str, org_unit: str) -> None:
        view = self.engine().start(process_id, {}, actor=org_unit, region=region, org_unit=org_unit)
        self.instance_id, self.region = view.record.id, region

    def org_unit(self) -> str | None:
        return self.engine().get(self.iid).record.org_unit


@dataclass(frozen=True)
class Emergency:
    """What a scenario says about an 急难 report: who reported it, for whom, where and what happened."""

    reporter: str  # 本人 | 家属 | 村(社区) | 救助顾问
    person: str  # a name of the ROSTER
    hukou: str  # the person's 户籍 region code
    place: str  # the township where it happened
    region: str  # that township's region code
    event: str

    def form(self, on: date) -> dict[str, Any]:
        """The 登记急难情况 form for this report, dated ``on``."""
        person, place, event = self.person, self.place, self.event
        reporter_name = {
            "本人": person,
            "家属": f"{person}的家属",
            "村(社区)": f"{place}村委会",
            "救助顾问": "救助顾问陈敏",
        }
        return {
            "reporter_type": self.reporter,
            "reporter_name": reporter_name.get(self.reporter, "知情人"),
            "reporter_mobile": "13800000000",
            "township": place,
            "emergency_region": self.region,
            "emergency_place": f"{place}某路8号",
            "event_type": event,
            "event_date": on.isoformat(),
            "person": {**ROSTER[person], "hukou_region": self.hukou},
            "household_size": 3,
            "situation": f"{person}遭遇{event}，家中财物受损，急需基本生活救助",
            "urgent_needs": ["基本生活"],
        }


def open_linshi_world(restart: bool, tmp_path: Path, template: Path | None = None) -> Iterator[LinshiWorld]:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=SHANGHAI))
    engines = Engines(f"sqlite:///{tmp_path / 'jiuzhu.db'}", clock, restart=restart, redis_prefix=None)
    try:
        yield LinshiWorld(engines, clock, read_model(), template=template)
    finally:
        engines.close()


def deployed_template(folder: Path) -> Path:
    """Deploy the policy and both processes for real into a fresh database; return its path."""
    world = next(open_linshi_world(False, folder))
    try:
        world.deploy()
    finally:
        world.engines.close()
    return folder / "jiuzhu.db"
