"""The developer documents say only what the repository holds.

In ``docs/*.md``, ``CONTRIBUTING.md`` and ``README.md`` (outside fenced code
blocks):

* every code span that starts with a top-level folder (``engine/…``,
  ``processes/…``) or names a top-level file is a repository path that must
  exist (a glob such as ``features/sla_*.feature`` must match something);
* a code span ``path::name`` must also define ``name`` there: a function,
  class, method (``Class.method``), nested function (``outer.inner``) or
  module-level assignment of a Python file (read with ``ast``), an element
  ``id`` of a BPMN/DMN file, or a dotted key path of a JSON file;
* every relative Markdown link must point at a file that exists, and a link
  whose text is a ``path::name`` code span must point at that path.

The BPMN support matrix in ``docs/designing-a-procedure.md`` must be what
``python -m jiuzhu.docs_support_matrix`` generates now.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from engine.deploy import bpmn_checks
from jiuzhu.docs_support_matrix import between_markers, replace_between_markers, support_matrix

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "designing-a-procedure.md"
DOCUMENTS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "CONTRIBUTING.md", ROOT / "README.md"]

TOP_FOLDERS = ("engine/", "integrations/", "jiuzhu/", "processes/", "forms/", "features/", "tests/", "bench/",
               "demo/", "calendars/", "docs/")  # fmt: skip
TOP_FILES = {"README.md", "CONTRIBUTING.md", "Makefile", "pyproject.toml", "package.json", "package-lock.json"}
PLACEHOLDER = re.compile(r"[<>{}…\s]")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[((?:`[^`\n]*`|[^\]\n])*)\]\(([^)\s]+)\)")


def prose(text: str) -> str:
    """The text outside fenced code blocks (commands and diagrams are not references)."""
    return FENCE.sub("", text)


def reference(span: str) -> tuple[str, str | None] | None:
    """(path, name or None) when a code span names something in the repository."""
    path, _, name = span.partition("::")
    if not (path.startswith(TOP_FOLDERS) or path in TOP_FILES) or PLACEHOLDER.search(path):
        return None
    return path, name or None


def _defines(tree: ast.AST, dotted: str) -> bool:
    scope = tree
    for part in dotted.split("."):
        found: ast.AST | None = None
        for node in ast.walk(scope):  # breadth first: the outermost definition wins
            if node is scope:
                continue
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == part:
                found = node
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == part for t in node.targets):
                found = node
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == part:
                found = node
            if found is not None:
                break
        if found is None:
            return False
        scope = found
    return True


def name_problem(file: Path, name: str) -> str | None:
    """Why ``name`` is not defined in ``file``, or None."""
    text = file.read_text(encoding="utf-8")
    if file.suffix == ".py":
        return None if _defines(ast.parse(text), name) else f"{name} is not defined in it"
    if file.suffix in {".bpmn", ".dmn"}:
        return None if f'id="{name}"' in text else f"no element with id {name}"
    if file.suffix == ".json":
        value: object = json.loads(text)
        for key in name.split("."):
            if not isinstance(value, dict) or key not in value:
                return f"no key path {name}"
            value = value[key]
        return None
    return f"cannot look names up in a {file.suffix} file"


def span_problems(span: str, root: Path = ROOT) -> list[str]:
    ref = reference(span)
    if ref is None:
        return []
    path, name = ref
    if any(c in path for c in "*?["):
        return [] if any(root.glob(path)) else [f"`{span}`: nothing matches {path}"]
    target = root / path
    if not target.exists():
        return [f"`{span}`: {path} does not exist"]
    if name is None:
        return []
    if not target.is_file():
        return [f"`{span}`: {path} is not a file"]
    problem = name_problem(target, name)
    return [f"`{span}`: {problem}"] if problem else []


def link_problems(text: str, document: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for label, href in LINK.findall(prose(text)):
        if href.startswith(("http://", "https://", "mailto:", "#")):
            continue
        target = (document.parent / href.split("#")[0]).resolve()
        if not target.exists() or root.resolve() not in (target, *target.parents):
            problems.append(f"[{label}]({href}): {href} does not exist")
            continue
        spans = CODE_SPAN.findall(label)
        ref = reference(spans[0]) if len(spans) == 1 and "::" in spans[0] else None
        if ref is not None and (root / ref[0]).resolve() != target:
            problems.append(f"[{label}]({href}): the link does not open {ref[0]}")
    return problems


def document_problems(text: str, document: Path, root: Path = ROOT) -> list[str]:
    found = [p for span in CODE_SPAN.findall(prose(text)) for p in span_problems(span, root)]
    return found + link_problems(text, document, root)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_path_function_and_link_in_the_document_exists(document: Path) -> None:
    assert document_problems(document.read_text(encoding="utf-8"), document) == []


def test_the_three_developer_documents_exist_and_the_readme_links_them() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("docs/architecture.md", "docs/designing-a-procedure.md", "CONTRIBUTING.md"):
        assert (ROOT / name).is_file()
        assert f"]({name})" in readme


GOOD = [
    "engine/service/stepping.py",
    "engine/service/stepping.py::step",
    "engine/service/facade.py::Engine.complete_task",
    "jiuzhu/api.py::create_app.complete",
    "jiuzhu/api.py::STATUS",
    "processes/dibao/dibao.bpmn::db_publicity",
    "processes/sla/dibao.national.sla.json::stages.publicity",
    "features/sla_*.feature",
    "engine/sla/",
    "tests/test_<module>.py",  # a placeholder, not a reference
    "jiuzhu serve --demo",  # a command, not a reference
]
BAD = [
    "engine/service/no_such_module.py",
    "engine/service/stepping.py::no_such_function",
    "engine/service/facade.py::Engine.no_such_method",
    "engine/service/facade.py::NoSuchClass.complete_task",
    "jiuzhu/api.py::create_app.no_such_route",
    "processes/dibao/dibao.bpmn::no_such_element",
    "processes/sla/dibao.national.sla.json::stages.no_such_stage",
    "features/no_such_*.feature",
    "docs/no-such-guide.md",
    "README.md::anything",
]


@pytest.mark.parametrize("span", GOOD)
def test_a_reference_that_exists_passes(span: str) -> None:
    assert span_problems(span) == []


@pytest.mark.parametrize("span", BAD)
def test_a_reference_that_does_not_exist_fails(span: str) -> None:
    assert span_problems(span) != []


def test_a_bad_reference_in_a_document_is_reported_and_one_in_a_code_block_is_not() -> None:
    text = "See `engine/audit.py::seal` and `engine/audit.py::unseal`.\n\n```\nengine/nowhere.py\n```\n"
    problems = document_problems(text, ROOT / "docs" / "x.md")
    assert problems == ["`engine/audit.py::unseal`: unseal is not defined in it"]


def test_a_broken_link_and_a_link_to_the_wrong_file_are_reported() -> None:
    document = ROOT / "docs" / "x.md"
    good = "[`engine/audit.py::seal`](../engine/audit.py) and [the README](../README.md#links)"
    assert link_problems(good, document) == []
    assert link_problems("[gone](../engine/gone.py)", document) == [
        "[gone](../engine/gone.py): ../engine/gone.py does not exist"
    ]
    wrong = link_problems("[`engine/audit.py::seal`](../engine/clock.py)", document)
    assert wrong == ["[`engine/audit.py::seal`](../engine/clock.py): the link does not open engine/audit.py"]
    assert link_problems("[outside](../../etc/passwd)", document) != []


# -- the support matrix ---------------------------------------------------------------------


def test_the_support_matrix_in_the_guide_is_the_one_the_code_generates() -> None:
    assert between_markers(GUIDE.read_text(encoding="utf-8")) == support_matrix(), (
        "the deployment's checks changed: python -m jiuzhu.docs_support_matrix --write docs/designing-a-procedure.md"
    )


def test_a_stale_support_matrix_is_caught() -> None:
    stale = replace_between_markers(GUIDE.read_text(encoding="utf-8"), "| `bpmn:complexGateway` | ✓ |\n")
    assert between_markers(stale) != support_matrix()


def test_the_support_matrix_follows_the_checks_it_is_generated_from(monkeypatch: pytest.MonkeyPatch) -> None:
    before = support_matrix()
    assert "| `bpmn:complexGateway` | ✗ `BPMN_UNSUPPORTED_ELEMENT` |" in before
    assert "| `bpmn:endEvent` | ✓ | ✓ | ✗ |" in before  # no timer end events
    monkeypatch.setitem(
        bpmn_checks.EVENT_DEFINITIONS, "endEvent", {*bpmn_checks.EVENT_DEFINITIONS["endEvent"], "timer"}
    )
    assert "| `bpmn:endEvent` | ✓ | ✓ | ✓ |" in support_matrix()
