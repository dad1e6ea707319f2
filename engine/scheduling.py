"""When does each instance next need the engine? The wake-up index port.

The database timer table is the truth. A :class:`WakeupIndex` (Redis, in the
scale-out setup) only answers "which instances are due now" faster and shares
that work between worker processes; it may lose entries at any time, so its
implementations rebuild from :meth:`engine.store.Unit.wakeups`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class WakeupIndex(Protocol):
    def claim_due(self, now: datetime, limit: int) -> list[str]:
        """Instance ids due at ``now``, each handed to exactly one caller."""
        ...

    def schedule(self, instance_id: str, at: datetime | None) -> None:
        """After a commit: the instance's next wake-up, or None for none."""
        ...

    def schedule_many(self, entries: Sequence[tuple[str, datetime | None]]) -> None:
        """:meth:`schedule` for several instances at once (a committed batch)."""
        ...

    def rebuild(self, entries: Sequence[tuple[str, datetime]]) -> None:
        """Replace the index with what the database says."""
        ...
