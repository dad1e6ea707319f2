"""One exception root for Jiuzhu, with located subclasses.

Every error carries a stable machine ``code`` and a Chinese ``message`` for
people. Errors about models and forms also carry a :class:`Location` (file,
element id, element tag, field) so a designer can find the problem. The HTTP
edge maps ``kind`` to a status code in exactly one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Location:
    file: str | None = None
    element_id: str | None = None
    element_tag: str | None = None
    field: str | None = None
    line: int | None = None

    def describe(self) -> str:
        """``file: element-id (tag)`` as the CLI prints it."""
        where = self.file or "<未知文件>"
        element = self.element_id or "<无元素>"
        tag = f" ({self.element_tag})" if self.element_tag else ""
        extra = f" [字段 {self.field}]" if self.field else ""
        return f"{where}: {element}{tag}{extra}"


@dataclass(frozen=True)
class Problem:
    """One located finding; a refusal may carry many."""

    code: str
    message: str
    location: Location = field(default_factory=Location)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **asdict(self.location)}

    def describe(self) -> str:
        return f"{self.location.describe()}: [{self.code}] {self.message}"


class JiuzhuError(Exception):
    """Root of every error Jiuzhu raises on purpose."""

    kind = "internal"  # invalid | not_found | conflict | forbidden | unauthorized | unavailable | internal
    default_code = "JIUZHU_ERROR"

    def __init__(self, message: str, *, code: str | None = None, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.location = location or Location()

    def problems(self) -> list[Problem]:
        return [Problem(self.code, self.message, self.location)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "kind": self.kind,
            "problems": [p.to_dict() for p in self.problems()],
        }

    def __str__(self) -> str:
        if any(asdict(self.location).values()):
            return f"{self.location.describe()}: [{self.code}] {self.message}"
        return f"[{self.code}] {self.message}"


class TransactionTimeout(JiuzhuError):
    """A step ran past its transaction budget (or the server is stopping) and was rolled back.

    Raised by the store (``integrations/sql/budget.py``); the engine parks a
    timer firing that keeps running over as an incident.
    """

    kind = "unavailable"
    default_code = "TRANSACTION_TIMEOUT"


class InvalidRequestError(JiuzhuError):
    kind = "invalid"
    default_code = "INVALID_REQUEST"


class DeploymentRefused(JiuzhuError):
    """A deployment was refused; ``errors`` lists every located problem."""

    kind = "invalid"
    default_code = "DEPLOYMENT_REFUSED"

    def __init__(self, errors: list[Problem]) -> None:
        super().__init__(f"部署被拒绝：发现 {len(errors)} 个问题", code=self.default_code)
        self.errors = errors

    def problems(self) -> list[Problem]:
        return list(self.errors)


class ScriptError(JiuzhuError):
    """An expression or script was refused by the sandbox or failed in it."""

    kind = "invalid"
    default_code = "SCRIPT_ERROR"


@dataclass(frozen=True)
class FieldError:
    path: str  # JSON pointer-ish: "members/0/id_number"; "" for the whole form
    code: str
    message: str


class FormValidationError(JiuzhuError):
    kind = "invalid"
    default_code = "FORM_INVALID"

    def __init__(self, field_errors: list[FieldError], *, location: Location | None = None) -> None:
        super().__init__(f"表单校验未通过：{len(field_errors)} 处错误", location=location)
        self.field_errors = field_errors

    def problems(self) -> list[Problem]:
        base = self.location
        return [
            Problem(fe.code, fe.message, Location(base.file, base.element_id, base.element_tag, fe.path or None))
            for fe in self.field_errors
        ]


class UnauthorizedError(JiuzhuError):
    kind = "unauthorized"
    default_code = "UNAUTHORIZED"


class ForbiddenError(JiuzhuError):
    """Signed in, but this role or org unit may not see or do this."""

    kind = "forbidden"
    default_code = "FORBIDDEN"


class NotFoundError(JiuzhuError):
    kind = "not_found"
    default_code = "NOT_FOUND"


class ConflictError(JiuzhuError):
    """Someone else changed the instance first; nothing was written."""

    kind = "conflict"
    default_code = "CONFLICT"


class InstanceStateError(JiuzhuError):
    """The operation does not fit the instance's current state."""

    kind = "conflict"
    default_code = "INSTANCE_STATE"
