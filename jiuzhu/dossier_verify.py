"""Re-verify a 一户一档 export offline: ``python -m jiuzhu.dossier_verify dossier.zip``.

The zip's ``events.json`` holds the case's audit events exactly as stored
(each event's canonical ``body``, its ``hash`` and the columns beside it) and
the chain head the instance recorded. This recomputes every hash and link
with the engine's own :func:`engine.audit.verify_chain` and needs no database:
it prints ``ok`` or names the first event that does not hold (exit code 1).
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.audit import AuditEvent, Verdict, verify_chain

EVENTS_FILE = "events.json"
FORMAT = "jiuzhu-dossier-events/1"


def event_json(event: AuditEvent) -> dict[str, Any]:
    """One stored event as the export writes it (``prev_hash`` is read from the body, for people)."""
    return {
        "chain_id": event.chain_id,
        "seq": event.seq,
        "type": event.type,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor": event.actor,
        "task_id": event.task_id,
        "element_id": event.element_id,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "body": event.body,
    }


def events_document(instance_id: str, events: Sequence[AuditEvent], *, head_count: int, head_hash: str) -> str:
    document = {
        "format": FORMAT,
        "instance_id": instance_id,
        "head": {"event_count": head_count, "head_hash": head_hash},
        "events": [event_json(e) for e in events],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def _event(raw: Mapping[str, Any]) -> AuditEvent:
    return AuditEvent(
        str(raw["chain_id"]),
        int(raw["seq"]),
        str(raw["type"]),
        datetime.fromisoformat(str(raw["occurred_at"])),
        raw.get("actor"),
        raw.get("task_id"),
        raw.get("element_id"),
        str(raw["body"]),
        str(raw["hash"]),
    )


def verify_document(text: str) -> Verdict:
    """The verdict over an ``events.json``; a file that cannot be read at all is a broken chain at event 1."""
    try:
        document = json.loads(text)
        chain_id = str(document["instance_id"])
        head = document["head"]
        raws = list(document["events"])
    except (ValueError, KeyError, TypeError):
        return Verdict("?", False, 0, 1, "events.json 不是有效的导出文件")
    events = []
    for index, raw in enumerate(raws, start=1):
        try:
            events.append(_event(raw))
        except (ValueError, KeyError, TypeError):
            seq = raw.get("seq", index) if isinstance(raw, Mapping) else index
            return Verdict(chain_id, False, index, seq, "事件字段缺失或格式错误")
    return verify_chain(chain_id, events, head_count=int(head["event_count"]), head_hash=str(head["head_hash"]))


def read_events(path: Path) -> str:
    """``events.json`` from a dossier zip, or the JSON file itself."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return archive.read(EVENTS_FILE).decode("utf-8")
    return path.read_text(encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("用法：python -m jiuzhu.dossier_verify <一户一档.zip 或 events.json>", file=sys.stderr)
        return 2
    try:
        text = read_events(Path(args[0]))
    except (OSError, KeyError, UnicodeDecodeError) as exc:
        print(f"无法读取 {args[0]}：{exc}", file=sys.stderr)
        return 2
    verdict = verify_document(text)
    print(verdict.describe())
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
