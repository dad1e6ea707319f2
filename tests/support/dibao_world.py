"""The world behind ``features/dibao.feature`` (最低生活保障审核确认).

Built on :mod:`tests.support.sla_world`: the same movable clock, time jumps and
backends (SQLite, PostgreSQL with the Redis wake-up index; each straight and
with a brand-new Engine at every step and scheduler run). Every engine gets
the app's default connectors (the simulated 核对 centre reading
``demo/hedui_records.json``, the 联办 catalogue). The households are the
demo households (``demo/households.json``), so a scenario names a family by
its applicant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.clock import SHANGHAI
from engine.runtime.connectors import Connectors
from integrations.hedui import HeduiConnector
from jiuzhu.demo_cases import application, load_households, opening
from jiuzhu.wiring import default_connectors, deploy_paths
from tests.conftest import FORMS, PROCESSES, ROOT
from tests.support.sla_world import Model, World

MODEL = PROCESSES / "dibao" / "dibao.bpmn"
PROCESS_ID = "dibao"
HOUSEHOLDS = load_households()


def connectors() -> Any:
    return default_connectors(PROCESSES, ROOT / "demo" / "hedui_records.json")


class _Unreachable:
    """A check platform that does not answer."""

    def check(self, request: Any) -> Any:
        raise ConnectionError("核对平台连接超时")


def broken_connectors() -> Any:
    working = connectors().connectors
    return Connectors.of([HeduiConnector(_Unreachable()), working["yijianshi_catalogue"]])


@dataclass
class DibaoWorld(World):
    household: str | None = None

    def deploy(self) -> None:
        paths = [PROCESSES / "sla", PROCESSES / "dibao", PROCESSES / "yijianshi"]
        deploy_paths(self.engine(), paths, FORMS, actor="流程设计员")

    def start_case(self, key: str, org_unit: str, region: str) -> None:
        start = opening(HOUSEHOLDS[key])
        view = self.engine().start(PROCESS_ID, start, actor="申请人", region=region, org_unit=org_unit)
        self.instance_id, self.region, self.household = view.record.id, region, key

    def application(self, **changes: Any) -> dict[str, Any]:
        assert self.household is not None
        form = application(HOUSEHOLDS[self.household], self.today())
        form.update(changes)
        return form

    def today(self) -> str:
        return self.clock.now().astimezone(SHANGHAI).date().isoformat()

    def element(self, label: str) -> str:
        # Both confirmation tasks share the county_confirmation stage: a BPMN name wins.
        named = [eid for eid, name in self.model.names.items() if name == label]
        return named[0] if len(named) == 1 else super().element(label)


def model() -> Model:
    return Model.read(MODEL)
