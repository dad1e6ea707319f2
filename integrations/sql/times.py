"""How moments are stored: always UTC in the database; people see Beijing
time at the edge. SQLite keeps them as text, so both ways are spelled out."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(moment: datetime) -> datetime:
    """Always UTC in the database; people see Beijing time at the edge."""
    return moment.astimezone(UTC)


def aware(moment: datetime) -> datetime:
    """A moment read back: drivers hand SQLite's naive UTC back without a zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def sqlite_time(moment: datetime) -> str:
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}"


def read_time(value: datetime | str) -> datetime:
    """A moment read on the hot path, where SQLite's raw driver returns text."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
