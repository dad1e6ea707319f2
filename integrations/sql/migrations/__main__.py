"""``python -m integrations.sql.migrations revision "message"`` (``make migration m="…"``):
autogenerate a revision against a scratch SQLite database brought up by the
revisions themselves, so it holds exactly what the tables added since."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from integrations.sql import migrations
from integrations.sql.store import make_engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m integrations.sql.migrations")
    sub = parser.add_subparsers(dest="command", required=True)
    p_rev = sub.add_parser("revision", help="autogenerate a new revision")
    p_rev.add_argument("message")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            migrations.new_revision(engine, args.message)
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
