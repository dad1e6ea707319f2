"""A webhook receiver that verifies Jiuzhu's signatures: HMAC-SHA256 over
``"<t>.<raw body>"``, ``t`` within ``tolerance`` seconds of now, and each event
id applied once (a redelivery is acknowledged, not applied again)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIGNATURE_HEADER = "X-Jiuzhu-Signature"
EVENT_HEADER = "X-Jiuzhu-Event-Id"


class SignatureError(Exception):
    pass


def verify(secret: str, header: str | None, body: bytes, *, now: float, tolerance: float = 300) -> None:
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        raise SignatureError("签名头缺失或格式错误")
    if abs(now - int(parts["t"])) > tolerance:
        raise SignatureError("签名时间戳超出容许范围（可能是重放）")
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["v1"]):
        raise SignatureError("签名不符")


class Receiver:
    """Events in ``applied`` exactly once each; ``handle`` is called once per new event."""

    def __init__(
        self,
        secret: str,
        handle: Callable[[dict[str, Any]], None] = lambda _event: None,
        *,
        now: Callable[[], float] = time.time,
        tolerance: float = 300,
    ) -> None:
        self.secret, self.handle, self.now, self.tolerance = secret, handle, now, tolerance
        self.applied: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.rejected = 0
        self._lock = threading.Lock()

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        try:
            verify(self.secret, headers.get(SIGNATURE_HEADER), body, now=self.now(), tolerance=self.tolerance)
        except SignatureError:
            with self._lock:
                self.rejected += 1
            return 401
        event = json.loads(body)
        with self._lock:
            if event["id"] in self.seen:
                return 200  # a redelivery: acknowledge, do not apply twice
            self.seen.add(event["id"])
            self.applied.append(event)
        self.handle(event)
        return 200

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.receive(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
