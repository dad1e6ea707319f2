"""A web for the studio's tool tests: one SQLite database per module, the
时限 skeleton and its policies deployed, the demo accounts; and (``dibao_world``)
one SQLite database per module with 低保 deployed, for its decision tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.clock import FixedClock
from engine.sandbox.scripts import Sandbox
from engine.service.facade import Engine
from engine.sla.functions import HELPERS
from integrations.sql import SqlStore
from jiuzhu.wiring import deploy_paths
from tests.conftest import FORMS, PROCESSES, START
from tests.jiuzhu.studio.test_studio import _world
from tests.support.web_support import WebWorld, web_over


def studio_world(tmp_path_factory: pytest.TempPathFactory, *folders: str) -> Iterator[WebWorld]:
    """A web over one SQLite database with the policies and ``folders`` of processes/ deployed."""
    url = f"sqlite:///{tmp_path_factory.mktemp('studio') / 'studio.db'}"
    store = SqlStore.from_url(url)
    store.create_schema()
    engine = Engine(store, FixedClock(START), Sandbox(helpers=HELPERS))
    deploy_paths(engine, [PROCESSES / "sla", *(PROCESSES / f for f in folders)], FORMS, actor="designer")
    yield web_over(engine, url)
    store.engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    # The tools are stateless: one database (SQLite) shared by a module is enough; the policy
    # check reads the deployed versions.
    yield from studio_world(tmp_path_factory, "sla_skeleton")


@pytest.fixture(scope="module")
def dibao_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dibao') / 'jiuzhu.db'}"
    store = SqlStore.from_url(url)
    store.create_schema()
    yield _world(lambda: store, FixedClock(START), url, PROCESSES / "dibao", PROCESSES / "yijianshi")
    store.close()
