"""The Ed25519 key that signs chain-head digests (:mod:`engine.digest`),
kept outside the database: a PEM file (``JIUZHU_DIGEST_KEY_FILE``) or the raw
32-byte private key in hex (``JIUZHU_DIGEST_KEY``). Uses ``cryptography``;
no hand-written crypto."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.errors import InvalidRequestError


def verify_signature(message: bytes, signature: str, public_key: str) -> bool:
    """Whether ``signature`` (hex) over ``message`` holds under ``public_key`` (raw, hex); needs no private key."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), message)
    except (ValueError, InvalidSignature):
        return False
    return True


class Ed25519Keys:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._public = raw.hex()

    @property
    def public_key(self) -> str:
        return self._public

    def public_pem(self) -> str:
        return (
            self._private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()

    def verify(self, message: bytes, signature: str, public_key: str) -> bool:
        return verify_signature(message, signature, public_key)

    @classmethod
    def generate(cls) -> Ed25519Keys:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_hex(cls, text: str) -> Ed25519Keys:
        try:
            return cls(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text.strip())))
        except ValueError as exc:
            raise InvalidRequestError(
                "JIUZHU_DIGEST_KEY 应为 64 位十六进制的 Ed25519 私钥", code="DIGEST_KEY_INVALID"
            ) from exc

    @classmethod
    def from_file(cls, path: Path) -> Ed25519Keys:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidRequestError(f"无法读取摘要签名密钥文件 {path}：{exc}", code="DIGEST_KEY_INVALID") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidRequestError(f"摘要签名密钥文件 {path} 不是 Ed25519 私钥", code="DIGEST_KEY_INVALID")
        return cls(key)

    def write(self, path: Path) -> None:
        """Save as an unencrypted PKCS#8 PEM readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)


def load_keys(key_file: Path | None, key_hex: str | None) -> Ed25519Keys | None:
    """The configured key (the env var wins over the file), or None."""
    if key_hex:
        return Ed25519Keys.from_hex(key_hex)
    if key_file is not None:
        return Ed25519Keys.from_file(key_file)
    return None


def ensure_key_file(path: Path) -> tuple[Ed25519Keys, bool]:
    """The key in ``path``, made first when missing (``serve --demo``);
    returns (keys, created)."""
    if path.exists():
        return Ed25519Keys.from_file(path), False
    keys = Ed25519Keys.generate()
    keys.write(path)
    return keys, True
