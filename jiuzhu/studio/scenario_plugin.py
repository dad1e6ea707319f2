"""A pytest plugin the studio's scenario run loads (``-p jiuzhu.studio.scenario_plugin``).

It keeps only what a designer's run needs from a feature module: the embedded
SQLite lifecycle (``backend`` ``sqlite``, no restart: a throw-away database
file in the run's own temporary folder; no PostgreSQL, no Redis), scenarios
only (not the module's plain tests), and, when
``JIUZHU_SCENARIO_NAMES`` holds a JSON list, the scenarios of those names.
Never loaded by the suite itself."""

from __future__ import annotations

import json
import os
from typing import Any

NAMES = "JIUZHU_SCENARIO_NAMES"


def _scenario_name(item: Any) -> str | None:
    from pytest_bdd.scenario import scenario_wrapper_template_registry  # only ever inside that pytest

    function = getattr(item, "function", None)
    template = scenario_wrapper_template_registry.get(function) if callable(function) else None
    name = getattr(template, "name", None)
    return name if isinstance(name, str) else None


def _embedded(item: Any) -> bool:
    """The straight SQLite lifecycle: the modules spell it as a ``backend``
    (:class:`tests.support.sla_world.Backend`) or as a ``restart`` flag."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    if params.get("restart") is True:
        return False
    backend = params.get("backend")
    if backend is None:
        return True
    return getattr(backend, "database", None) == "sqlite" and not getattr(backend, "restart", False)


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    raw = os.environ.get(NAMES)
    names = set(json.loads(raw)) if raw else None
    kept: list[Any] = []
    dropped: list[Any] = []
    for item in items:
        name = _scenario_name(item)  # None: a plain test of the module, not a scenario
        wanted = name is not None and _embedded(item) and (names is None or name in names)
        (kept if wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
