"""Attachments: a field ``{"type": "object", "x-attachment": {"maxBytes": …, "accept": [...]}}``.

The file goes to an :class:`AttachmentStore` under its SHA-256; the form data
keeps only the reference ``{"sha256", "name", "mime", "size"}``. The type is
read from the file's first bytes where it has a known signature, so a renamed
executable does not pass as a PDF.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from engine.errors import FieldError
from engine.forms.keywords import ATTACHMENT, attachment_spec, mime_accepted
from engine.forms.problems import FORM_ATTACHMENT

if TYPE_CHECKING:
    from jiuzhu.web.formrender.model import Field

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # when a field names no limit; the page may pass its own policy value

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),  # also .docx / .xlsx
)
_ZIP_BASED = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the page received it (starlette's UploadFile is read into this)."""

    filename: str
    content_type: str
    content: bytes


class AttachmentStore(Protocol):
    """Content-addressed file storage; ``put`` returns the SHA-256 (hex) the content is kept under."""

    def put(self, content: bytes) -> str: ...
    def exists(self, sha256: str) -> bool: ...
    def get(self, sha256: str) -> bytes: ...


def attachment_limits(schema: dict[str, Any], field: Field) -> list[str]:
    """Read the field's ``x-attachment`` limits into ``field``; Chinese reasons if they are malformed."""
    field.max_bytes, field.accept, problems = attachment_spec(schema.get(ATTACHMENT))
    return problems


def sniff(content: bytes, declared: str) -> str:
    """The MIME type the content shows; the declared one when the content has no known signature."""
    for signature, mime in _SIGNATURES:
        if content.startswith(signature):
            return declared if mime == "application/zip" and declared in _ZIP_BASED else mime
    if declared in {mime for _, mime in _SIGNATURES} | _ZIP_BASED:
        return "application/octet-stream"  # claims a type whose signature it lacks
    return declared or "application/octet-stream"


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")
    return f"{max(1, round(size / 1024))} KB" if size >= 1024 else f"{size} 字节"


def store_upload(
    field: Field, path: str, upload: Upload, store: AttachmentStore, max_bytes: int
) -> dict[str, Any] | FieldError:
    """The reference to keep in the data, or the field error that refuses the file."""
    limit = field.max_bytes or max_bytes
    if len(upload.content) > limit:
        size = size_text(len(upload.content))
        if size == size_text(limit):
            size = f"{len(upload.content):,} 字节"
        message = f"文件 {upload.filename} 太大（{size}），不能超过 {size_text(limit)}"
        return FieldError(path, FORM_ATTACHMENT, message)
    if not upload.content:
        return FieldError(path, FORM_ATTACHMENT, f"文件 {upload.filename} 是空文件")
    mime = sniff(upload.content, upload.content_type.split(";")[0].strip().lower())
    if not mime_accepted(field.accept, mime):
        message = f"文件 {upload.filename} 的类型 {mime} 不在允许的类型（{'、'.join(field.accept)}）之内"
        return FieldError(path, FORM_ATTACHMENT, message)
    digest = store.put(upload.content)
    if digest != hashlib.sha256(upload.content).hexdigest():
        raise RuntimeError("attachment store returned a hash that is not the content's SHA-256")
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:255] or "附件"
    return {"sha256": digest, "name": name, "mime": mime, "size": len(upload.content)}
