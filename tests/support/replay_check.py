"""Re-execution of every instance a Gherkin scenario left in its store
(:mod:`engine.replay`): each must come out 复算一致. Run after every scenario
of the straight lifecycle (the restart lifecycle records the same events)."""

from __future__ import annotations

from sqlalchemy import select

from engine.replay import Replayer
from engine.service.core import SYSTEM_CHAIN
from engine.service.facade import Engine
from integrations.sql.replay_inputs import INST, CaseReader

# One replayer for the session: its spec cache and parsed calendars are shared.
_REPLAYERS: dict[int, Replayer] = {}


def instance_ids(engine: Engine) -> list[str]:
    with engine.store.reader() as unit:
        query = select(INST.c.id).where(INST.c.id != SYSTEM_CHAIN).order_by(INST.c.created_at, INST.c.id)
        return [r.id for r in unit.conn.execute(query)]  # type: ignore[attr-defined]


def replay_all(engine: Engine) -> int:
    """Replay every instance; fails naming the first one not 复算一致. Returns how many."""
    replayer = _REPLAYERS.setdefault(id(engine.sandbox.__class__), Replayer(engine.sandbox))
    reader = CaseReader(engine.store)
    ids = instance_ids(engine)
    for iid in ids:
        result = replayer.replay(reader.case(iid))
        assert result.consistent, result.describe()
    return len(ids)
