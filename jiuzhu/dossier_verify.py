"""Re-verify a 一户一档 export offline: ``python -m jiuzhu.dossier_verify dossier.zip``.

The zip's ``events.json`` holds the case's audit events exactly as stored
(each event's canonical ``body``, its ``hash`` and the columns beside it) and
the chain head the instance recorded. This recomputes every hash and link
with the engine's own :func:`engine.audit.verify_chain` and needs no database:
it prints ``ok`` or names the first event that does not hold (exit code 1).

When the case was covered by a signed chain-head digest at export, the file
also carries that digest's signed root, the case's leaf and its Merkle path
(``digest``): the leaf must lead to the root, the Ed25519 signature must hold
under the public key (compare it with the one the deployment publishes:
``GET /api/audit/digest-key``, or pass it as ``--public-key``), and the events
must reach the leaf's head. So a chain rewritten with recomputed hashes in
the archive is caught offline too.
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
from engine.digest import ALGORITHM, Digest, Leaf, merkle_proof, root_from_proof
from engine.digest import FORMAT as DIGEST_FORMAT
from integrations.digest_keys import verify_signature

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


def digest_json(digest: Digest, leaf: Leaf) -> dict[str, Any]:
    """What of a digest one case's archive carries: the signed root and its own path to it, no other case."""
    return {
        "format": DIGEST_FORMAT,
        "algorithm": ALGORITHM,
        "created_at": digest.created_at.astimezone(UTC).isoformat(),
        "root": digest.root,
        "public_key": digest.public_key,
        "signature": digest.signature,
        "leaf": {"chain_id": leaf.chain_id, "count": leaf.count, "head": leaf.head},
        "proof": [list(step) for step in merkle_proof(digest.leaves, leaf.chain_id)],
    }


def events_document(
    instance_id: str,
    events: Sequence[AuditEvent],
    *,
    head_count: int,
    head_hash: str,
    covering: tuple[Digest, Leaf] | None = None,
) -> str:
    document: dict[str, Any] = {
        "format": FORMAT,
        "instance_id": instance_id,
        "head": {"event_count": head_count, "head_hash": head_hash},
        "events": [event_json(e) for e in events],
    }
    if covering is not None:
        document["digest"] = digest_json(*covering)
    return json.dumps(document, ensure_ascii=False, indent=1)


def digest_problem(text: str, public_key: str | None = None) -> str | None:
    """Why the archive's covering digest does not hold, or None (also when it carries none: see :func:`digest_line`)."""
    try:
        document = json.loads(text)
        raw = document.get("digest")
        if raw is None:
            return None
        leaf = Leaf(str(raw["leaf"]["chain_id"]), int(raw["leaf"]["count"]), str(raw["leaf"]["head"]))
        signed = Digest(
            datetime.fromisoformat(raw["created_at"]),
            str(raw["root"]),
            (),
            str(raw["public_key"]),
            str(raw["signature"]),
        )
        hashes = [str(e["hash"]) for e in document["events"]]
        reached = root_from_proof(leaf, raw["proof"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return "签名摘要（digest）字段缺失或格式错误"
    if leaf.chain_id != str(document.get("instance_id")):
        return "签名摘要的叶子不是本案件的审计链"
    if reached != signed.root:
        return "本案件的链头不在签名摘要的默克尔树中（证明路径与根哈希不符）"
    if public_key is not None and public_key.strip().lower() != signed.public_key.lower():
        return "签名摘要不是用所给公钥签发的"
    if not verify_signature(signed.message(), signed.signature, signed.public_key):
        return f"{signed.day} 的签名摘要签名无效（可能被伪造）"
    if len(hashes) < leaf.count or (leaf.count and hashes[leaf.count - 1] != leaf.head):
        return f"与 {signed.day} 的签名摘要不符：第 {leaf.count} 条事件的哈希已不是签名时的链头"
    return None


def digest_line(text: str) -> str:
    try:
        raw = json.loads(text).get("digest")
    except (ValueError, AttributeError):
        raw = None
    if not raw:
        return "（导出时尚无覆盖本案件的签名摘要，只校验了哈希链）"
    return f"签名摘要：{raw.get('created_at')}，公钥 {raw.get('public_key')}（请与部署公布的公钥核对）"


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
    public_key = None
    if len(args) == 3 and args[1] == "--public-key":
        args, public_key = args[:1], args[2]
    if len(args) != 1:
        print(
            "用法：python -m jiuzhu.dossier_verify <一户一档.zip 或 events.json> [--public-key 公钥十六进制]",
            file=sys.stderr,
        )
        return 2
    try:
        text = read_events(Path(args[0]))
    except (OSError, KeyError, UnicodeDecodeError) as exc:
        print(f"无法读取 {args[0]}：{exc}", file=sys.stderr)
        return 2
    verdict = verify_document(text)
    print(verdict.describe())
    problem = digest_problem(text, public_key) if verdict.ok else None
    print(problem or digest_line(text))
    return 0 if verdict.ok and problem is None else 1


if __name__ == "__main__":
    sys.exit(main())
