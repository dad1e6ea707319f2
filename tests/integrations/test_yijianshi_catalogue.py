"""The yijianshi_catalogue connector serves the 联办 catalogue file as it stands."""

from __future__ import annotations

import json
from pathlib import Path

from integrations.yijianshi_catalogue import CatalogueConnector
from tests.conftest import PROCESSES

CATALOGUE = PROCESSES / "yijianshi" / "catalogue.json"


def test_it_returns_the_version_and_items_in_force() -> None:
    raw = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    served = CatalogueConnector(CATALOGUE).call({})
    assert (served["id"], served["version"], served["items"]) == (raw["id"], raw["version"], raw["items"])


def test_a_new_version_of_the_file_is_served_without_restarting(tmp_path: Path) -> None:
    copy = tmp_path / "catalogue.json"
    raw = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    copy.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    connector = CatalogueConnector(copy)
    assert connector.call({})["version"] == raw["version"]
    copy.write_text(json.dumps({**raw, "version": "2099-01"}, ensure_ascii=False), encoding="utf-8")
    assert connector.call({})["version"] == "2099-01"
