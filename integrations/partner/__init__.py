"""The partner channel of 一件事联办: API keys, fetch-and-lock handoffs and signed webhooks."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from engine.service.facade import Engine
from integrations.partner.handoffs import record_handoffs
from integrations.partner.wake import PREFIX, HandoffSignal

_signals: WeakKeyDictionary[Engine, HandoffSignal] = WeakKeyDictionary()


def attach(engine: Engine, redis: Any = None, *, prefix: str = PREFIX) -> HandoffSignal:
    """Hook the handoff recorder into the engine's commits (once) and return its
    wake-up signal, its Redis keys under ``prefix``."""
    signal = _signals.get(engine)
    if signal is None:
        signal = _signals[engine] = HandoffSignal(redis, prefix=prefix)
        engine.commit_hooks.append(record_handoffs)
        engine.after_commit_hooks.append(signal.poke)
    return signal
