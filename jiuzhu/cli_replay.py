"""``jiuzhu verify --replay [INSTANCE]`` and ``jiuzhu audit replay INSTANCE``:
re-execute cases (:mod:`jiuzhu.replaying`) and print 复算一致 or the first
event that differs. Without an instance every finished case is replayed,
with rich's progress bar on a terminal (a plain counter in a log)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Sequence

from engine.replay_compare import CONSISTENT, ReplayResult
from engine.service.facade import Engine
from jiuzhu.cli_actor import shell_principal
from jiuzhu.replaying import replay_case, replay_finished

MAX_EVENTS_HELP = "复算上限（事件条数），超过则拒绝；默认 JIUZHU_REPLAY_MAX_EVENTS 或 20000"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-events", type=int, default=None, help=MAX_EVENTS_HELP)


def _counter(ids: Iterable[str], total: int) -> Iterator[str]:
    for done, iid in enumerate(ids, start=1):
        if done == total or done % 100 == 0:
            print(f"复算 {done}/{total}", file=sys.stderr, flush=True)
        yield iid


def _bar(ids: Iterable[str], total: int) -> Iterator[str]:
    # Imported here: every other command of the CLI starts without it.
    from rich.console import Console
    from rich.progress import track

    yield from track(ids, total=total, description="复算", console=Console(stderr=True), transient=True)


def progress(ids: Iterable[str], total: int) -> Iterable[str]:
    return _bar(ids, total) if sys.stderr.isatty() else _counter(ids, total)


def _print(results: list[ReplayResult], one: bool, refused: Sequence[str] = ()) -> int:
    broken = [r for r in results if not r.consistent]
    for result in broken:
        print(result.describe())
    for message in refused:
        print(f"未复算 {message}")
    if one and not broken:
        print(results[0].describe())
    elif not broken and not refused:
        print(f"{CONSISTENT}（{len(results)} 件已结束的案件）")
    else:
        skipped = f"，{len(refused)} 件超过上限未复算" if refused else ""
        print(f"{len(broken)} / {len(results)} 件复算不一致{skipped}")
    return 1 if broken or refused else 0


def run(engine: Engine, instance: str | None, max_events: int | None) -> int:
    actor = shell_principal()
    if instance:
        return _print([replay_case(engine, instance, actor=actor, cap=max_events)], True)
    results, refused = replay_finished(engine, actor=actor, cap=max_events, progress=progress)
    return _print(results, False, refused)
