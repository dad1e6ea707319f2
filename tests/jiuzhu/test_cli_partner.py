"""``jiuzhu partner …`` and ``jiuzhu deliver`` as an operator runs them."""

from __future__ import annotations

import re

import pytest

from engine.clock import SystemClock
from integrations.partner import keys
from jiuzhu import cli
from jiuzhu.settings import Settings
from jiuzhu.wiring import build_engine

KEY = re.compile(r"^jzp_\S+$", re.M)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_key_create_rotate_revoke_by_org_unit_code_or_name(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    code, out, _ = run(["partner", "key", "create", "qinghe.partner.power"], capsys)
    assert code == 0 and "供电公司" in out
    first = KEY.findall(out)[0]
    code, out, _ = run(["partner", "key", "rotate", "供电公司", "--overlap-hours", "0"], capsys)
    second = KEY.findall(out)[0]
    engine = build_engine(Settings.from_env({"DATABASE_URL": db_url}), clock=SystemClock())
    try:
        assert keys.authenticate(engine, second).department == "供电公司"
        with pytest.raises(Exception, match="无效、已过期或已吊销"):
            keys.authenticate(engine, first)
        assert run(["partner", "key", "revoke", "供电公司"], capsys)[1].strip().endswith("已吊销 1 个密钥")
        code, _, err = run(["partner", "key", "create", "不存在的部门"], capsys)
        assert code == 2 and "没有联办部门" in err
        code, out, _ = run(["partner", "webhook", "qinghe.partner.cable", "http://127.0.0.1:9/"], capsys)
        assert code == 0 and "签名密钥" in out
        assert run(["deliver", "--once"], capsys)[1].strip() == "已投递 0 条"
        assert run(["partner", "outbox", "--status", "dead"], capsys)[1] == ""
    finally:
        engine.store.close()
