"""The layering rules, checked from the source: no import cycles, no reaching
for another module's private names, arrows only from jiuzhu to integrations to
engine, an engine free of web/SQL/Redis packages, and no oversized modules.

Every check takes a root directory so the tests at the bottom can feed it a
synthetic bad tree and prove it can fail."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "integrations", "jiuzhu")
# bench is scripts, not a package the others import; only its size is checked.
SIZED = (*PACKAGES, "bench")
MAX_LINES = 400

# The engine is the deterministic core: it gets storage, queues and HTTP as
# collaborators through engine.ports, so none of these may appear in it.
# jinja2 is allowed: the engine renders 办理须知 in jinja2's sandbox, which is
# text templating, not a web layer.
ENGINE_FORBIDDEN = frozenset(
    {
        "aiohttp",
        "alembic",
        "asyncpg",
        "fastapi",
        "flask",
        "httpx",
        "itsdangerous",
        "multipart",
        "psycopg",
        "psycopg2",
        "psycopg_pool",
        "python_multipart",
        "redis",
        "requests",
        "sqlalchemy",
        "sqlmodel",
        "starlette",
        "urllib3",
        "uvicorn",
        "websockets",
    }
)


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    path: Path
    line: int
    target: str  # the module named in the statement, dotted, relative imports resolved
    name: str | None  # for "from X import name": the name, else None

    def where(self, root: Path) -> str:
        what = f"from {self.target} import {self.name}" if self.name else f"import {self.target}"
        return f"{self.path.relative_to(root)}:{self.line}: {what}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path, packages: Iterable[str] = PACKAGES) -> Iterator[Path]:
    for package in packages:
        base = root / package
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    return {module_name(root, path): path for path in source_files(root, packages)}


def _resolve_relative(source: str, is_package: bool, level: int, module: str | None) -> str:
    base = source.split(".")
    # In a package's __init__, "." is the package itself; elsewhere it is the parent.
    drop = level - 1 if is_package else level
    base = base[: len(base) - drop] if drop else base
    return ".".join([*base, module] if module else base)


def imports(root: Path, packages: Iterable[str] = PACKAGES) -> list[Import]:
    """Every import statement, wherever it sits: top level, inside functions,
    under TYPE_CHECKING. "from pkg import mod" counts as importing pkg.mod."""
    known = modules(root, packages)
    found: list[Import] = []
    for source, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(Import(source, path, node.lineno, alias.name, None))
            elif isinstance(node, ast.ImportFrom):
                base = (
                    _resolve_relative(source, is_package, node.level, node.module) if node.level else node.module or ""
                )
                for alias in node.names:
                    found.append(Import(source, path, node.lineno, base, alias.name))
    return found


def first_party(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def graph(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, dict[str, Import]]:
    """Module -> imported first-party module -> the first import making that edge."""
    known = modules(root, packages)
    edges: dict[str, dict[str, Import]] = {name: {} for name in known}
    for imp in imports(root, packages):
        # "from pkg import mod" imports pkg.mod; "from pkg import name" imports pkg.
        submodule = f"{imp.target}.{imp.name}"
        target = submodule if imp.name and submodule in known else imp.target
        if target in known and target != imp.source:
            edges[imp.source].setdefault(target, imp)
    return edges


def strongly_connected(edges: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; only components of two or more modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def cycle_problems(root: Path) -> list[str]:
    edges = graph(root)
    problems = []
    for component in strongly_connected(edges):
        members = set(component)
        arrows = [
            "    " + imp.where(root)
            for source in component
            for target, imp in sorted(edges[source].items())
            if target in members
        ]
        problems.append("import cycle between " + ", ".join(component) + ":\n" + "\n".join(arrows))
    return problems


def private_problems(root: Path) -> list[str]:
    # Our own modules only: a third-party private (FastAPI's route iterator in
    # jiuzhu.web.routes) is a deliberate, guarded dependency on a library.
    return [
        f"{imp.where(root)} (a private name of another module)"
        for imp in imports(root)
        if imp.name is not None
        and imp.name.startswith("_")
        and not imp.name.startswith("__")
        and first_party(imp.target)
        and imp.target != imp.source
    ]


def layering_problems(root: Path) -> list[str]:
    problems = []
    for imp in imports(root):
        top = imp.target.split(".")[0]
        layer = imp.source.split(".")[0]
        if layer in ("engine", "integrations") and top == "jiuzhu":
            problems.append(f"{imp.where(root)} ({layer} must not import jiuzhu)")
        if layer == "engine" and top == "integrations":
            problems.append(f"{imp.where(root)} (engine must not import integrations)")
        if layer == "engine" and top in ENGINE_FORBIDDEN:
            problems.append(f"{imp.where(root)} (engine must not use {top})")
    return problems


def size_problems(root: Path) -> list[str]:
    problems = []
    for path in source_files(root, SIZED):
        if path.name.startswith("test_") or "tests" in path.relative_to(root).parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            problems.append(f"{path.relative_to(root)}: {lines} lines (limit {MAX_LINES})")
    return problems


def _report(problems: list[str]) -> str:
    return "\n".join(problems)


def test_no_import_cycles() -> None:
    problems = cycle_problems(ROOT)
    assert not problems, _report(problems)


def test_no_private_names_across_modules() -> None:
    problems = private_problems(ROOT)
    assert not problems, _report(problems)


def test_layers_point_one_way() -> None:
    problems = layering_problems(ROOT)
    assert not problems, _report(problems)


def test_no_module_over_the_limit() -> None:
    problems = size_problems(ROOT)
    assert not problems, _report(problems)


# The checks themselves, against synthetic trees that break each rule.


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "engine/__init__.py": "from engine.a import A\n",
            "engine/a.py": "import json\nA = 1\n",
            "engine/b.py": "from engine.a import A\nfrom jinja2 import Template\n",
            "integrations/__init__.py": "",
            "integrations/x.py": "from engine import a\nimport sqlalchemy\n",
            "jiuzhu/__init__.py": "",
            "jiuzhu/y.py": "from integrations.x import *\nfrom engine.b import A\nimport fastapi\n",
        },
    )
    assert cycle_problems(root) == []
    assert private_problems(root) == []
    assert layering_problems(root) == []
    assert size_problems(root) == []


def test_a_cycle_through_a_function_level_import_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/a.py": "from engine.b import B\nA = 1\n",
            "engine/b.py": "B = 2\ndef f():\n    from engine.c import C\n",
            "engine/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from engine.a import A\n",
            "engine/d.py": "from engine.a import A\n",
        },
    )
    (problem,) = cycle_problems(root)
    assert "engine.a, engine.b, engine.c" in problem
    assert "engine/b.py:3: from engine.c import C" in problem
    assert "engine.d" not in problem


def test_a_cycle_through_a_subpackage_reexport_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/deploy/__init__.py": "from .model import M\n",
            "engine/deploy/model.py": "from engine import deploy\nM = 1\n",
            "engine/deploy/builder.py": "from engine.deploy import model\n",
        },
    )
    (problem,) = cycle_problems(root)
    assert "engine.deploy, engine.deploy.model" in problem
    assert "engine/deploy/__init__.py:1: from engine.deploy.model import M" in problem


def test_a_private_import_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/a.py": "_hidden = 1\n__all__ = []\n",
            "engine/b.py": "def f():\n    from engine.a import __all__, _hidden\n",
            "engine/sub/__init__.py": "",
            "engine/sub/c.py": "from ..a import _hidden as visible\n",
        },
    )
    problems = private_problems(root)
    assert problems == [
        "engine/b.py:2: from engine.a import _hidden (a private name of another module)",
        "engine/sub/c.py:1: from engine.a import _hidden (a private name of another module)",
    ]


def test_a_back_arrow_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/a.py": "from integrations.x import X\n",
            "integrations/__init__.py": "",
            "integrations/x.py": "import jiuzhu.inbox\nX = 1\n",
            "jiuzhu/__init__.py": "",
            "jiuzhu/inbox.py": "",
        },
    )
    problems = layering_problems(root)
    assert "engine/a.py:1: from integrations.x import X (engine must not import integrations)" in problems
    assert "integrations/x.py:1: import jiuzhu.inbox (integrations must not import jiuzhu)" in problems


def test_a_web_or_storage_import_in_the_engine_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/a.py": "import typing\nif typing.TYPE_CHECKING:\n    from sqlalchemy.orm import Session\n",
            "engine/b.py": "def f():\n    import redis.asyncio\n    from fastapi import Request\n",
        },
    )
    problems = layering_problems(root)
    assert problems == [
        "engine/a.py:3: from sqlalchemy.orm import Session (engine must not use sqlalchemy)",
        "engine/b.py:2: import redis.asyncio (engine must not use redis)",
        "engine/b.py:3: from fastapi import Request (engine must not use fastapi)",
    ]


def test_an_oversized_module_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/big.py": "x = 1\n" * (MAX_LINES + 1),
            "engine/fits.py": "x = 1\n" * MAX_LINES,
            "bench/timers.py": "x = 1\n" * (MAX_LINES + 5),
            "jiuzhu/tests/test_big.py": "x = 1\n" * (MAX_LINES + 1),
        },
    )
    assert size_problems(root) == [
        f"engine/big.py: {MAX_LINES + 1} lines (limit {MAX_LINES})",
        f"bench/timers.py: {MAX_LINES + 5} lines (limit {MAX_LINES})",
    ]
