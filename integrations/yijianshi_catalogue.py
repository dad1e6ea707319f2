"""The ``yijianshi_catalogue`` connector: the 一件事联办 catalogue in force, as reference data.

A process that starts 联办 (低保 after approval) needs the catalogue the
yijianshi process reads; it is data (``processes/yijianshi/catalogue.json``),
served read-only so every case gets the version in force when it asks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.runtime.connectors import Parameter


class CatalogueConnector:
    name = "yijianshi_catalogue"
    title = "读取“一件事”联办事项目录"
    parameters: Sequence[Parameter] = ()

    def __init__(self, path: Path) -> None:
        self.path = path

    def call(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        del params
        catalogue = json.loads(self.path.read_text(encoding="utf-8"))
        return {"id": catalogue["id"], "version": catalogue["version"], "items": catalogue["items"]}
