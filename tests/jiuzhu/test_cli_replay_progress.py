"""The replay sweep's progress on the command line: rich's bar on a terminal
(rich is a declared dependency), a plain counter in a log; every case passes
through either way, and stdout (the answers) stays clean."""

from __future__ import annotations

import io

import pytest

from jiuzhu import cli_replay


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_and_a_log_a_counter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [f"case-{n}" for n in range(250)]
    assert list(cli_replay.progress(iter(ids), len(ids))) == ids
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == ["复算 100/250", "复算 200/250", "复算 250/250"]

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert list(cli_replay.progress(iter(ids), len(ids))) == ids
    assert "复算" in terminal.getvalue() and capsys.readouterr().out == ""
