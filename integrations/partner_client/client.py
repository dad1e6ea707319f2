"""Calls to the external-task API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"HTTP {status} {body.get('code')}: {body.get('message')}")
        self.status, self.body = status, body

    @property
    def code(self) -> str:
        return str(self.body.get("code"))


@dataclass
class PartnerClient:
    base_url: str  # e.g. http://127.0.0.1:8000
    api_key: str
    worker_id: str = "partner-client"
    timeout: float = 90.0

    def _post(self, path: str, body: dict[str, Any], *, key: str | None) -> Any:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"}
        if key:
            headers["Idempotency-Key"] = key
        data = json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(f"{self.base_url}/api/external{path}", data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, json.loads(exc.read() or b"{}")) from None

    def fetch_and_lock(
        self,
        *,
        topics: list[str] | None = None,
        handoff_ids: list[str] | None = None,
        max_tasks: int = 10,
        lock_seconds: int = 300,
        wait_ms: int = 0,
        key: str | None = None,
    ) -> list[dict[str, Any]]:
        body = {"worker_id": self.worker_id, "topics": topics or [], "handoff_ids": handoff_ids or [],
                "max_tasks": max_tasks, "lock_duration": lock_seconds, "async_response_timeout": wait_ms}  # fmt: skip
        # A long poll carries no idempotency key: the server would answer a repeat from memory, not wait.
        return list(self._post("/fetch-and-lock", body, key=key or (None if wait_ms else str(uuid.uuid4()))))

    def extend(self, task: dict[str, Any], lock_seconds: int = 300, *, key: str | None = None) -> dict[str, Any]:
        body = {"lock_token": task["lock_token"], "lock_duration": lock_seconds}
        return dict(self._post(f"/{task['id']}/extend-lock", body, key=key or str(uuid.uuid4())))

    def complete(self, task: dict[str, Any], result: dict[str, Any], *, key: str | None = None) -> dict[str, Any]:
        return dict(
            self._post(f"/{task['id']}/complete", {"lock_token": task["lock_token"], "result": result}, key=key)
        )

    def return_(self, task: dict[str, Any], reason: str, *, key: str | None = None) -> dict[str, Any]:
        return dict(self._post(f"/{task['id']}/return", {"lock_token": task["lock_token"], "reason": reason}, key=key))
