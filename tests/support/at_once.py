"""Running one call per argument in threads released together, for races."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

A = TypeVar("A")
R = TypeVar("R")


def at_once(call: Callable[[A], R], arguments: Sequence[A]) -> list[R | BaseException]:
    """``call(a)`` for each argument, all in their own thread released by one
    barrier; each result, or the exception it raised, in the order they finished."""
    barrier = threading.Barrier(len(arguments))
    outcomes: list[R | BaseException] = []

    def run(argument: A) -> None:
        barrier.wait()
        try:
            outcomes.append(call(argument))
        except BaseException as exc:  # the caller looks at each outcome
            outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in arguments]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes
