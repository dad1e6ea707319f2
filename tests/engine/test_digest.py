"""Signed chain-head digests: the pure part (Merkle root, checks)."""

from __future__ import annotations

from dataclasses import replace

from engine.digest import Digest, Leaf, head_problem, latest_covering, make_digest, merkle_root, signature_problem
from integrations.digest_keys import Ed25519Keys
from tests.conftest import START

LEAVES = [Leaf(f"chain-{i}", i + 1, f"{i:064x}") for i in range(5)]


def test_the_root_is_over_sorted_leaves_and_changes_with_any_leaf() -> None:
    root = merkle_root(LEAVES)
    assert merkle_root(reversed(LEAVES)) == root
    for i in range(len(LEAVES)):
        for changed in (replace(LEAVES[i], count=99), replace(LEAVES[i], head="f" * 64)):
            assert merkle_root([*LEAVES[:i], changed, *LEAVES[i + 1 :]]) != root
    assert merkle_root(LEAVES[:4]) != root  # a dropped chain changes it too
    assert merkle_root([]) != merkle_root(LEAVES[:1])


def test_a_digest_signs_its_root_and_survives_the_json_file() -> None:
    keys = Ed25519Keys.generate()
    digest = make_digest(LEAVES, keys, START)
    assert signature_problem(digest, keys) is None
    again = Digest.from_json(digest.to_json())
    assert again == digest and signature_problem(again, keys) is None
    assert digest.day == "2026-11-02"


def test_forged_digests_are_named() -> None:
    keys, other = Ed25519Keys.generate(), Ed25519Keys.generate()
    digest = make_digest(LEAVES, keys, START)
    wrong_signature = replace(digest, signature=other.sign(digest.message()))
    assert "签名无效" in (signature_problem(wrong_signature, keys) or "")
    assert "公钥" in (signature_problem(make_digest(LEAVES, other, START), keys) or "")
    moved_leaf = replace(digest, leaves=(replace(LEAVES[0], head="e" * 64), *digest.leaves[1:]))
    assert "根哈希" in (signature_problem(moved_leaf, keys) or "")
    assert "签名无效" in (signature_problem(replace(digest, signature="zz"), keys) or "")


def test_a_chain_is_checked_at_the_digests_count() -> None:
    keys = Ed25519Keys.generate()
    digest = make_digest([Leaf("c", 2, "b" * 64)], keys, START)
    covering = latest_covering([digest], "c")
    assert covering is not None and latest_covering([digest], "d") is None
    _, leaf = covering
    assert head_problem(["a" * 64, "b" * 64], leaf, digest) is None
    assert head_problem(["a" * 64, "b" * 64, "c" * 64], leaf, digest) is None  # appended since: fine
    changed = head_problem(["a" * 64, "x" * 64], leaf, digest)
    assert changed is not None and changed[0] == 2 and "链头" in changed[1]
    shorter = head_problem(["a" * 64], leaf, digest)
    assert shorter is not None and shorter[0] == 2 and "与 2026-11-02 的签名摘要不符" in shorter[1]


def test_every_leaf_has_a_path_to_the_root_and_only_its_own() -> None:
    from engine.digest import merkle_proof, root_from_proof

    for size in range(1, 10):  # odd levels carry a node up: every shape of tree
        leaves = [Leaf(f"c{i}", i + 1, f"{i:064x}") for i in range(size)]
        root = merkle_root(leaves)
        for leaf in leaves:
            proof = merkle_proof(leaves, leaf.chain_id)
            assert root_from_proof(leaf, proof) == root, (size, leaf)
            assert root_from_proof(replace(leaf, head="f" * 64), proof) != root
            if proof:
                assert root_from_proof(leaf, proof[:-1]) != root
