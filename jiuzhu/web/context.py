"""What every page needs, built once per app: engine, accounts, inbox, the
org directory (cached, reloaded when accounts change) and the templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from threading import Lock

from fastapi import Request

from engine.ports import DraftStore
from engine.service.facade import Engine
from integrations.ports import AccountStore, Inbox
from integrations.web_sessions import SessionBook
from jiuzhu.accounts import Directory, directory, role_names_from
from jiuzhu.settings import Settings
from jiuzhu.web.formrender.attachments import AttachmentStore
from jiuzhu.web.throttle import LoginThrottle


@dataclass
class WebContext:
    engine: Engine
    settings: Settings
    accounts: AccountStore
    inbox: Inbox
    throttle: LoginThrottle
    sessions: SessionBook
    drafts: DraftStore | None = None
    attachments: AttachmentStore | None = None
    _directory: Directory | None = field(default=None, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)
    _process_names: dict[str, str] = field(default_factory=dict, repr=False)

    def directory(self) -> Directory:
        with self._lock:
            if self._directory is None:
                self._directory = directory(self.accounts, role_names_from(self.settings.roles_file))
            return self._directory

    def reload(self) -> None:
        """Call after org units or users change."""
        with self._lock:
            self._directory = None

    def process_name(self, process_id: str) -> str:
        # Versions are immutable; only a process deployed since needs a reload.
        if process_id not in self._process_names:
            names = {v.process_id: v.name for v in self.engine.versions()}
            self._process_names = {process_id: process_id, **names}
        return self._process_names[process_id]


def web(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context
