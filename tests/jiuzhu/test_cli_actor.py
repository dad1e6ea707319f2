"""Who a shell command is recorded as: the operating-system account, or a
real account named with ``--actor`` that holds the command's role."""

from __future__ import annotations

import getpass

import pytest

from engine.clock import SystemClock
from engine.service.core import SYSTEM_CHAIN
from integrations.ports import User
from integrations.sql.accounts import SqlAccounts
from integrations.sql.store import SqlStore
from jiuzhu import cli
from jiuzhu.settings import Settings
from jiuzhu.wiring import build_engine
from tests.conftest import SAMPLE


@pytest.fixture
def shell(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    engine = build_engine(Settings.from_env({"DATABASE_URL": db_url}), clock=SystemClock())
    assert isinstance(engine.store, SqlStore)
    SqlAccounts(engine.store.engine).save_users(
        [
            User("sheji", "设计员", ("designer",), "qinghe"),
            User("guanli", "管理员", ("admin",), "qinghe"),
            User("tingyong", "停用", ("admin",), "qinghe", active=False),
            User("jingban", "经办人", ("township_handler",), "qinghe.dongcheng"),
        ]
    )

    def run(*args: str) -> tuple[int, str]:
        code = cli.main(list(args))
        return code, capsys.readouterr().err

    def actors(event_type: str) -> list[str | None]:
        with engine.store.reader() as unit:
            return [e.actor for e in unit.events(SYSTEM_CHAIN) if e.type == event_type]

    yield run, actors
    engine.store.close()


def test_without_actor_the_shell_account_is_recorded(shell) -> None:
    run, actors = shell
    assert run("deploy", str(SAMPLE))[0] == 0
    assert run("partner", "key", "create", "供电公司")[0] == 0
    assert actors("deployment_created") == [f"cli:{getpass.getuser()}"]
    assert set(actors("partner_key_created")) == {f"cli:{getpass.getuser()}"}


def test_a_named_actor_must_exist_be_active_and_hold_the_role(shell) -> None:
    run, actors = shell
    assert run("deploy", str(SAMPLE), "--actor", "sheji")[0] == 0
    assert actors("deployment_created") == ["sheji"]
    for who, code in (("nobody", "ACTOR_UNKNOWN"), ("tingyong", "ACTOR_UNKNOWN"), ("jingban", "ACTOR_NOT_ALLOWED")):
        status, err = run("deploy", str(SAMPLE), "--actor", who)
        assert status == 2 and code in err and who in err
    # A designer deploys, but only an administrator handles partner keys.
    status, err = run("partner", "key", "create", "供电公司", "--actor", "sheji")
    assert status == 2 and "ACTOR_NOT_ALLOWED" in err
    assert run("partner", "key", "create", "供电公司", "--actor", "guanli")[0] == 0
    assert actors("partner_key_created") == ["guanli"]
