"""Anchored chain heads: a signed digest of every audit chain's head.

A hash chain alone does not stop someone with write access to the database
from rewriting a whole chain and recomputing every hash. A digest records,
at one moment, each chain's event count and head hash as the leaves of a
Merkle tree; its root is signed with a key kept outside the database (the
signing is a port, :class:`DigestKeys`, implemented in ``integrations/``).
A chain is then checked against the latest digest covering it: its event at
the digest's count must still hash to the digest's head.

Pure functions only: no SQL and no crypto library here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol

FORMAT = "jiuzhu-chain-digest/1"
ALGORITHM = "Ed25519"
BEIJING = timezone(timedelta(hours=8))
MISMATCH = "CHAIN_DIGEST_MISMATCH"
FORGED = "CHAIN_DIGEST_SIGNATURE_INVALID"


class DigestKeys(Protocol):
    """Signs and checks digests; the private key never enters the database."""

    @property
    def public_key(self) -> str:
        """The public key, hex."""
        ...

    def sign(self, message: bytes) -> str:
        """The signature over ``message``, hex."""
        ...

    def verify(self, message: bytes, signature: str, public_key: str) -> bool: ...


@dataclass(frozen=True, order=True)
class Leaf:
    chain_id: str
    count: int
    head: str

    def hash(self) -> bytes:
        text = json.dumps([self.chain_id, self.count, self.head], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(b"\x00" + text.encode("utf-8")).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _up(level: list[bytes]) -> list[bytes]:
    paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        paired.append(level[-1])  # an odd node is carried up unchanged
    return paired


def merkle_root(leaves: Iterable[Leaf]) -> str:
    """The root over the leaves sorted by chain id (RFC 6962 style: leaves and
    inner nodes are hashed with different prefixes; an odd node is carried up)."""
    level = [leaf.hash() for leaf in sorted(leaves)]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        level = _up(level)
    return level[0].hex()


def merkle_proof(leaves: Iterable[Leaf], chain_id: str) -> list[tuple[str, str]]:
    """The siblings ("left"/"right", hash hex) from the chain's leaf up to the
    root: with them, one case's archive proves its head is in a signed digest
    without naming any other case."""
    ordered = sorted(leaves)
    index = next(i for i, leaf in enumerate(ordered) if leaf.chain_id == chain_id)
    level = [leaf.hash() for leaf in ordered]
    proof = []
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(("left" if sibling < index else "right", level[sibling].hex()))
        level, index = _up(level), index // 2
    return proof


def root_from_proof(leaf: Leaf, proof: Iterable[Sequence[str]]) -> str:
    node = leaf.hash()
    for side, sibling in proof:
        other = bytes.fromhex(sibling)
        node = _node(other, node) if side == "left" else _node(node, other)
    return node.hex()


@dataclass(frozen=True)
class Digest:
    created_at: datetime
    root: str
    leaves: tuple[Leaf, ...]
    public_key: str
    signature: str
    id: int | None = None

    @property
    def day(self) -> str:
        """The Beijing date it was made, as people read it."""
        return self.created_at.astimezone(BEIJING).date().isoformat()

    def message(self) -> bytes:
        """The signed bytes: format, time and root (the root commits to every leaf)."""
        text = json.dumps(
            {"format": FORMAT, "created_at": self.created_at.astimezone(UTC).isoformat(), "root": self.root},
            sort_keys=True,
            separators=(",", ":"),
        )
        return text.encode("utf-8")

    def covers(self) -> dict[str, Leaf]:
        return {leaf.chain_id: leaf for leaf in self.leaves}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "algorithm": ALGORITHM,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "root": self.root,
            "public_key": self.public_key,
            "signature": self.signature,
            "leaves": [{"chain_id": x.chain_id, "count": x.count, "head": x.head} for x in self.leaves],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Digest:
        leaves = tuple(Leaf(str(x["chain_id"]), int(x["count"]), str(x["head"])) for x in data["leaves"])
        return cls(
            datetime.fromisoformat(data["created_at"]),
            str(data["root"]),
            leaves,
            str(data["public_key"]),
            str(data["signature"]),
        )


def make_digest(heads: Iterable[Leaf], keys: DigestKeys, at: datetime) -> Digest:
    leaves = tuple(sorted(heads))
    unsigned = Digest(at, merkle_root(leaves), leaves, keys.public_key, "")
    return Digest(at, unsigned.root, leaves, keys.public_key, keys.sign(unsigned.message()))


def signature_problem(digest: Digest, keys: DigestKeys) -> str | None:
    """Why the digest cannot be trusted, or None: the leaves must give the
    root and the signature must hold under the configured public key."""
    if merkle_root(digest.leaves) != digest.root:
        return f"{digest.day} 的签名摘要内容与其根哈希不符"
    if digest.public_key != keys.public_key:
        return f"{digest.day} 的签名摘要不是用当前配置的公钥签发的"
    if not keys.verify(digest.message(), digest.signature, keys.public_key):
        return f"{digest.day} 的签名摘要签名无效（可能被伪造）"
    return None


def latest_covering(digests: Sequence[Digest], chain_id: str) -> tuple[Digest, Leaf] | None:
    """The newest digest that has a leaf for the chain (``digests`` newest first)."""
    for digest in digests:
        leaf = digest.covers().get(chain_id)
        if leaf is not None:
            return digest, leaf
    return None


def head_problem(hashes: Sequence[str], leaf: Leaf, digest: Digest) -> tuple[int, str] | None:
    """(first seq that no longer agrees, why) when the chain's event hashes
    (in seq order) do not reach the digest's head, else None."""
    if len(hashes) < leaf.count:
        return len(
            hashes
        ) + 1, f"与 {digest.day} 的签名摘要不符：链上只有 {len(hashes)} 条事件，摘要记录了 {leaf.count} 条"
    if leaf.count and hashes[leaf.count - 1] != leaf.head:
        return leaf.count, f"与 {digest.day} 的签名摘要不符：第 {leaf.count} 条事件的哈希已不是签名时的链头"
    return None


class DigestArchive(Protocol):
    """Where digests are kept (the ``chain_digest`` table)."""

    def save(self, digest: Digest) -> Digest: ...

    def newest_first(self) -> list[Digest]: ...

    def latest(self) -> Digest | None: ...


@dataclass(frozen=True)
class Anchors:
    """What the engine needs to anchor and check chain heads."""

    keys: DigestKeys
    archive: DigestArchive
