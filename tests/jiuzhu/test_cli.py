"""``jiuzhu deploy`` and ``jiuzhu verify`` as an operator runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jiuzhu import cli
from tests.conftest import SAMPLE

LINE = re.compile(
    r"^(?P<file>[^:]+): (?P<element>\S+) \((?P<tag>[^)]+)\)(?: \[字段 (?P<field>[^\]]+)\])?: "
    r"\[(?P<code>[A-Z_]+)\] (?P<message>.+)$"
)


def run(args: list[str], db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = cli.main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_deploy_prints_versions(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["deploy", str(SAMPLE)], db_url, monkeypatch, capsys)
    assert code == 0 and "material_review v1" in out
    code, out, _ = run(["deploy", str(SAMPLE)], db_url, monkeypatch, capsys)
    assert code == 0 and "内容未变" in out


def test_refused_deploy_prints_located_lines_and_fails(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.bpmn"
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace("reminder_sent = True", "import os").replace('"P2D"', "0 0/5 * * * ?")
    bad.write_text(text, encoding="utf-8")
    code, out, err = run(["deploy", str(bad)], db_url, monkeypatch, capsys)
    assert code == 1 and out == ""
    lines = [line for line in err.splitlines() if LINE.match(line)]
    found = {(LINE.match(line)["element"], LINE.match(line)["code"]) for line in lines}  # type: ignore[index]
    assert ("send_reminder", "SCRIPT_FORBIDDEN") in found
    assert ("timer_remind", "TIMER_INVALID") in found
    [timer_line] = [LINE.match(line) for line in lines if "TIMER_INVALID" in line]
    assert timer_line is not None and timer_line["field"] == "timeDuration"
    assert all(LINE.match(line)["file"].endswith("bad.bpmn") for line in lines)  # type: ignore[index]
    assert "部署被拒绝" in err


def test_verify_on_an_empty_database(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["verify"], db_url, monkeypatch, capsys)
    assert code == 0 and out.startswith("ok")
    code, _, err = run(["verify", "no-such-instance"], db_url, monkeypatch, capsys)
    assert code == 2 and "INSTANCE_NOT_FOUND" in err
