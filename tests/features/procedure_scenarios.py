"""The binding of a procedure that has no feature module of its own (one made in the
studio, say 探访关爱登记): the studio's scenario run (:mod:`jiuzhu.studio.scenarios`)
passes this module for it, with ``JIUZHU_SCENARIO_PROCESS_ID`` naming the procedure
and ``JIUZHU_SCENARIO_FEATURES_DIR`` the folder its ``<id>.feature`` /
``<id>_*.feature`` were laid out in.

Its scenarios speak the generic steps of ``conftest.py`` (a case started with
given start data, a task's form submitted with given data, time, tasks waiting,
deadlines, the end reached: what 把这次试运行存为场景 writes), after the
背景 step below, which deploys the draft's own files: the time-limit policies
(the draft's written over the checkout's, ``processes/sla``), then the
procedure's models with their forms. One lifecycle: the embedded SQLite file in
the run's temporary folder, on the injected clock.

Not named ``test_*.py``: the suite's own collection never picks it up (a
procedure of the checkout has its own module); pytest collects it when the
studio's run names it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios

from jiuzhu.studio.scenario_files import is_feature_of
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, PROCESSES
from tests.support.dibao_world import connectors
from tests.support.sla_world import Backend, Model, World, open_world, restarts

PROCESS_ID = os.environ.get("JIUZHU_SCENARIO_PROCESS_ID", "")
FEATURES = Path(os.environ.get("JIUZHU_SCENARIO_FEATURES_DIR") or PROCESSES.parent / "features")

if PROCESS_ID:
    scenarios(*[str(p) for p in sorted(FEATURES.glob("*.feature")) if is_feature_of(p.name, PROCESS_ID)])


def model_of(process_id: str) -> Model:
    """Element names and stages of every model in the procedure's folder."""
    names: dict[str, str] = {}
    stages: dict[str, str] = {}
    for path in sorted((PROCESSES / process_id).glob("*.bpmn")):
        read = Model.read(path)
        names |= read.names
        stages |= read.stages
    return Model(names, stages)


@pytest.fixture(autouse=True)
def world(tmp_path: Path) -> Iterator[World]:
    backend = Backend("sqlite", redis=False, restart=False)
    yield from open_world(backend, tmp_path, model=model_of(PROCESS_ID), connectors=connectors())


@given(parsers.re(r"已部署流程「(?P<process_id>[^」/\\]+)」及其时限政策"))
@restarts
def procedure_deployed(world: World, process_id: str) -> None:
    assert process_id == PROCESS_ID, f"本次运行的流程是 {PROCESS_ID}，不是 {process_id}"
    deploy_paths(world.engine(), [PROCESSES / "sla", PROCESSES / process_id], FORMS, actor="流程设计员")
