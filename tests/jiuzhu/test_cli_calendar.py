"""``jiuzhu calendar`` and ``jiuzhu sla report`` as operators run them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jiuzhu import cli
from tests.conftest import ROOT


def run(args: list[str], db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_add_workdays_prints_the_date_and_marks_provisional(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["calendar", "add-workdays", "2026-09-30", "1"], db_url, monkeypatch, capsys)[:2] == (0, "2026-10-08\n")
    assert run(["calendar", "add-workdays", "2026-02-13", "1"], db_url, monkeypatch, capsys)[1] == "2026-02-14\n"
    code, out, _ = run(["calendar", "add-workdays", "2026-12-15", "30"], db_url, monkeypatch, capsys)
    assert code == 0 and out.endswith(" provisional\n")
    code, _, err = run(["calendar", "add-workdays", "2026-02-30", "1"], db_url, monkeypatch, capsys)
    assert code == 2 and "YYYY-MM-DD" in err


def test_load_then_show_a_year(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = ROOT / "calendars" / "cn-2027.example.json"
    code, out, _ = run(["calendar", "load", str(example)], db_url, monkeypatch, capsys)
    assert code == 0 and "2027" in out
    code, out, _ = run(["calendar", "show", "2027"], db_url, monkeypatch, capsys)
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "published" and shown["national"]["holidays"]
    code, out, _ = run(["calendar", "add-workdays", "2026-12-15", "30"], db_url, monkeypatch, capsys)
    assert code == 0 and not out.strip().endswith("provisional")
    bad = tmp_path / "bad.json"
    bad.write_text('{"year": 2027, "holidays": [{"name": "x", "dates": ["2027-13-01"]}]}', encoding="utf-8")
    code, _, err = run(["calendar", "load", str(bad)], db_url, monkeypatch, capsys)
    assert code == 2 and "CALENDAR_FILE_INVALID" in err


def test_sla_report_prints_a_table(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["sla", "report", "--since", "2026-01-01", "--until", "2026-12-31"], db_url, monkeypatch, capsys)
    assert code == 0 and "按时率" in out
