"""Reading a posted HTML form back into typed JSON, and checking it as the engine will.

Names are the field's path under the prefix (``f/members/0/name``). A value
that does not parse (``十二`` in a number field) is kept as typed, so the
validator names the problem and the page shows the text again. Empty inputs
mean "not given". Array rows carry a marker (``…/members/@`` = row index) so
rows the browser removed or added leave no gaps, and every array a marker
(``…/#``) so an emptied list reads as ``[]``. Disabled inputs (hidden
conditional fields) are not posted and so not read.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import FieldError, FormValidationError
from engine.forms.validate import validate_submission
from jiuzhu.web.formrender.attachments import DEFAULT_MAX_BYTES, AttachmentStore, Upload, store_upload
from jiuzhu.web.formrender.bind import child_name, with_defaults
from jiuzhu.web.formrender.model import MISSING, Field, Form
from jiuzhu.web.formrender.render import action_field

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")
_NORMALIZED = {"cn-id-number", "cn-mobile", "bank-card"}


@dataclass(frozen=True)
class Action:
    kind: str  # submit | draft | refresh | add | remove
    path: str = ""


@dataclass
class Submission:
    data: dict[str, Any]
    action: Action = field(default_factory=lambda: Action("submit"))
    errors: list[FieldError] = field(default_factory=list)  # files refused while reading

    @property
    def completes(self) -> bool:
        """Whether the user asked to complete the task (not to save a draft or change rows)."""
        return self.action.kind == "submit"


def _normalize(posted: Any) -> dict[str, list[Any]]:
    pairs: Iterable[tuple[str, Any]]
    if hasattr(posted, "multi_items"):  # starlette FormData
        pairs = posted.multi_items()
    elif isinstance(posted, Mapping):
        pairs = ((k, v) for k, vs in posted.items() for v in (vs if isinstance(vs, list | tuple) else [vs]))
    else:
        pairs = posted
    out: dict[str, list[Any]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(_upload(value))
    return out


def _upload(value: Any) -> Any:
    if isinstance(value, str | Upload):
        return value
    if hasattr(value, "filename") and hasattr(value, "file"):  # starlette UploadFile; its file is synchronous
        value.file.seek(0)
        return Upload(value.filename or "", value.content_type or "", value.file.read())
    return str(value)


def parse_action(posted: Mapping[str, list[Any]], field_prefix: str) -> Action:
    raw = [v for v in posted.get(action_field(field_prefix), []) if isinstance(v, str)]
    text = raw[-1] if raw else "submit"
    kind, _, path = text.partition(":")
    return Action(kind, path) if kind in {"submit", "draft", "refresh", "add", "remove"} else Action("submit")


class _Reader:
    def __init__(self, posted: dict[str, list[Any]], store: AttachmentStore | None, max_bytes: int) -> None:
        self.posted = posted
        self.store = store
        self.max_bytes = max_bytes
        self.errors: list[FieldError] = []
        self.names = list(posted)

    def strings(self, name: str) -> list[str] | None:
        values = self.posted.get(name)
        return None if values is None else [v for v in values if isinstance(v, str)]

    def any_under(self, name: str) -> bool:
        head = name + "/"
        return name in self.posted or any(n.startswith(head) for n in self.names)

    def read(self, f: Field, name: str, path: str, current: Any) -> Any:
        if f.read_only:
            return copy.deepcopy(current)
        if f.kind == "object":
            return self.object(f, name, path, current)
        if f.kind == "array":
            return self.array(f, name, path, current)
        if f.kind == "checkboxes":
            values = self.strings(name)
            if values is None:
                return [] if self.strings(f"{name}/#") is not None else MISSING
            return [self.choice(f, v) for v in values]
        if f.kind == "attachment":
            return self.attachment(f, name, path)
        values = self.strings(name)
        if not values:
            return MISSING
        if not values[-1].strip() and f.kind not in ("checkbox", "select", "radio"):
            return copy.deepcopy(f.empty_value)
        if f.kind == "checkbox":
            return "true" in values
        return self.scalar(f, values[-1])

    def object(self, f: Field, name: str, path: str, current: Any) -> Any:
        if not self.any_under(name) and not any(c.read_only for c in f.children):
            return MISSING
        out: dict[str, Any] = {}
        for child in f.children:
            key = child.key or ""
            before = current.get(key, MISSING) if isinstance(current, dict) else MISSING
            value = self.read(child, child_name(name, key), f"{path}/{key}" if path else key, before)
            if value is not MISSING:
                out[key] = value
        return out if out or f.required else MISSING

    def array(self, f: Field, name: str, path: str, current: Any) -> Any:
        assert f.item is not None
        indices = sorted({int(v) for v in self.strings(f"{name}/@") or [] if v.isdigit()})
        if not indices and self.strings(f"{name}/#") is None:
            return MISSING
        rows: list[Any] = []
        before = current if isinstance(current, list) else []
        for i in indices:
            row = self.read(f.item, f"{name}/{i}", f"{path}/{len(rows)}", before[i] if i < len(before) else MISSING)
            if row is MISSING:
                if f.item.kind not in ("object", "array"):
                    continue  # an empty line in a list of names is no entry
                row = {} if f.item.kind == "object" else []
            rows.append(row)
        return rows

    def choice(self, f: Field, text: str) -> Any:
        option = f.option_for(text)
        return option.value if option is not None else text

    def scalar(self, f: Field, raw: str) -> Any:
        text = raw.replace("\r\n", "\n")
        if f.kind != "textarea":
            text = text.strip()
        if not text.strip():
            return MISSING
        if f.options:
            return self.choice(f, text)
        if f.json_type in ("number", "integer"):
            return _number(text, f.json_type)
        return text

    def attachment(self, f: Field, name: str, path: str) -> Any:
        uploads = [u for u in self.posted.get(f"{name}/@file", []) if isinstance(u, Upload) and u.filename]
        if uploads and self.store is not None:
            stored = store_upload(f, path, uploads[-1], self.store, self.max_bytes)
            if isinstance(stored, FieldError):
                self.errors.append(stored)
            else:
                return stored
        if self.strings(f"{name}/@remove"):
            return MISSING
        for text in reversed(self.strings(name) or []):
            try:
                ref = json.loads(text)
            except json.JSONDecodeError:
                continue
            sha = ref.get("sha256") if isinstance(ref, dict) else None
            if isinstance(sha, str) and self.store is not None and self.store.exists(sha):
                return {k: ref[k] for k in ("sha256", "name", "mime", "size") if k in ref}
        return MISSING


def _number(text: str, kind: str) -> Any:
    plain = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "")
    if not _NUMBER.fullmatch(plain):
        return text  # kept as typed; the validator says it is not a number
    if kind == "integer" and _INTEGER.fullmatch(plain):
        return int(plain)
    try:
        number = Decimal(plain)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        return text
    if "." not in plain and "e" not in plain.lower():
        return int(number)
    return float(number)


def parse_submission(
    form: Form,
    posted: Any,
    *,
    field_prefix: str = "f",
    attachments: AttachmentStore | None = None,
    current: Mapping[str, Any] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Submission:
    """The posted form (starlette ``FormData`` or ``{name: [values]}``) as typed JSON.

    ``current`` is the task's data: read-only fields take their value from it,
    never from the post. Files go to ``attachments``; a refused file becomes a
    field error in ``Submission.errors`` and the previous reference is kept.
    """
    normalized = _normalize(posted)
    reader = _Reader(normalized, attachments, max_bytes)
    data = reader.read(form.root, field_prefix, "", dict(current or {}))
    data = _normalize_formats(form.root, data if isinstance(data, dict) else {})
    return Submission(data, parse_action(normalized, field_prefix), reader.errors)


def _normalize_formats(f: Field, value: Any) -> Any:
    """Spaces out of card numbers, full-width digits to ASCII: what people type, in the form the formats check."""
    if f.kind == "object" and isinstance(value, dict):
        for child in f.children:
            if child.key in value:
                value[child.key] = _normalize_formats(child, value[child.key])
    elif f.kind == "array" and f.item is not None and isinstance(value, list):
        return [_normalize_formats(f.item, v) for v in value]
    elif isinstance(value, str) and f.kind == "text" and f.input_mode == "numeric":
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
    return value


def validate(form: Form, data: Any) -> list[FieldError]:
    """The field errors the engine will report when the task is completed with ``data`` (none if valid)."""
    try:
        validate_submission(form.ref, data)
    except FormValidationError as exc:
        return list(exc.field_errors)
    return []


def apply_action(form: Form, data: dict[str, Any], action: Action) -> dict[str, Any]:
    """``data`` with the row the 添加/删除 button named added or removed (the browser without JavaScript)."""
    out = copy.deepcopy(data)
    if action.kind not in ("add", "remove") or not action.path:
        return out
    parts = action.path.split("/")
    if action.kind == "remove":
        parts, index = parts[:-1], parts[-1]
    f, holder, key = _locate(form.root, out, parts)
    if f is None or f.kind != "array" or f.item is None or holder is None:
        return out
    rows = holder.get(key) if isinstance(holder, dict) else holder[int(key)]
    rows = list(rows) if isinstance(rows, list) else []
    if action.kind == "add":
        row = with_defaults(f.item, MISSING)
        rows.append(row if row is not MISSING else {} if f.item.kind == "object" else "")
    elif index.isdigit() and int(index) < len(rows):
        del rows[int(index)]
    if isinstance(holder, dict):
        holder[key] = rows
    else:
        holder[int(key)] = rows
    return out


def _locate(root: Field, data: dict[str, Any], parts: list[str]) -> tuple[Field | None, Any, str]:
    """The field at ``parts`` and the container holding its value, creating empty objects on the way."""
    f: Field | None = root
    holder: Any = None
    value: Any = data
    key = ""
    for part in parts:
        if f is None:
            return None, None, ""
        if f.kind == "object" and isinstance(value, dict):
            f = next((c for c in f.children if c.key == part), None)
            holder, key = value, part
            if f is not None and f.kind == "object":
                value = value.setdefault(part, {})
            else:
                value = value.get(part)
        elif f.kind == "array" and isinstance(value, list) and part.isdigit() and int(part) < len(value):
            f, holder, key, value = f.item, value, part, value[int(part)]
        else:
            return None, None, ""
    return f, holder, key
