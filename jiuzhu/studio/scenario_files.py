"""A draft's files laid out like the checkout (``processes/``, ``forms/``,
``features/``) for a scenario run, and a procedure's scenarios as text.

A draft names its files either flat, as a deployment does (``dibao.bpmn``,
``dibao-apply-schema.json``, ``dibao.national.sla.json``, ``dibao.feature``),
or already laid out (``processes/dibao/dibao.bpmn``). The draft's files are
written over the checkout's; a file it does not carry stays as shipped (a
version holds only the forms its model names, while the feature worlds also
read others, such as 联办's partner forms, and deploy the other procedures
theirs start)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.errors import InvalidRequestError
from jiuzhu.settings import ROOT

SUFFIXES = (".bpmn", ".dmn", ".json", ".feature")
SAFE_PART = re.compile(r"^[\w][\w.\-（）()]*$")
# Gherkin (zh-CN and English) keywords that open a scenario.
SCENARIO_KEYWORDS = ("场景大纲", "剧本大纲", "场景", "剧本", "Scenario Outline", "Scenario Template", "Scenario")


# The binding of a procedure without a module of its own (one made in the studio): the
# generic steps of tests/features/conftest.py over whatever feature files the run lays out.
GENERIC_MODULE = "tests/features/procedure_scenarios.py"


@dataclass(frozen=True)
class Suite:
    """Where a procedure's scenarios live in the checkout."""

    process_id: str
    test_module: str  # relative to the checkout: tests/features/test_<id>.py, or GENERIC_MODULE
    features: tuple[str, ...]  # file names under features/


@dataclass(frozen=True)
class Scenario:
    name: str
    feature: str  # file name under features/
    line: int
    text: str  # the scenario as written, its steps included


def suite_of(process_id: str, root: Path = ROOT) -> Suite | None:
    """The procedure's feature module and feature files, or None when it has no scenarios."""
    if not SAFE_PART.match(process_id):
        return None
    module = root / "tests" / "features" / f"test_{process_id}.py"
    if not module.is_file():
        return None
    features = sorted(
        p.name for p in (root / "features").glob("*.feature") if is_feature_of(p.name, process_id) and p.is_file()
    )
    return Suite(process_id, module.relative_to(root).as_posix(), tuple(features)) if features else None


def suite_for(process_id: str, files: Mapping[str, bytes], root: Path = ROOT) -> Suite | None:
    """The suite a run of ``files`` uses: the procedure's own module, else (its feature
    files in the draft) the generic binding; None when it has no scenarios at all."""
    own = suite_of(process_id, root)
    if own is not None or not SAFE_PART.match(process_id):
        return own
    if (root / "tests" / "features" / f"test_{process_id}.py").is_file():
        return None  # a module of its own whose feature files are gone: not for the generic binding
    drafted = sorted(
        _bare(name) for name in files if _bare(name).endswith(".feature") and is_feature_of(_bare(name), process_id)
    )
    return Suite(process_id, GENERIC_MODULE, tuple(drafted)) if drafted else None


def _bare(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def is_feature_of(name: str, process_id: str) -> bool:
    return name == f"{process_id}.feature" or (name.startswith(f"{process_id}_") and name.endswith(".feature"))


def placed(name: str, process_id: str, root: Path = ROOT) -> PurePosixPath:
    """Where a draft file goes in the checkout's layout; a name that would
    leave it, or a file no scenario reads, is refused (located by name)."""
    path = PurePosixPath(name)
    if not path.parts or not all(SAFE_PART.match(part) for part in path.parts):
        raise InvalidRequestError(f"草稿文件名不合法：{name}", code="SCENARIO_FILE_NAME")
    if not path.name.endswith(SUFFIXES):
        raise InvalidRequestError(f"场景运行不使用此类文件：{name}", code="SCENARIO_FILE_KIND")
    if path.parts[0] in ("processes", "forms", "features") and len(path.parts) > 1:
        relative = path
    elif path.name.endswith(".feature"):
        relative = PurePosixPath("features", path.name)
    elif path.name.endswith(".sla.json"):
        relative = PurePosixPath("processes", "sla", path.name)
    elif path.name.endswith((".bpmn", ".dmn")):
        relative = PurePosixPath("processes", process_id, path.name)
    elif path.name.endswith(".json") and not (root / "processes" / process_id / path.name).is_file():
        relative = PurePosixPath("forms", process_id, path.name)
    else:
        relative = PurePosixPath("processes", process_id, path.name)
    if relative.parts[0] == "features" and not is_feature_of(relative.name, process_id):
        message = f"场景文件须命名为 {process_id}.feature 或 {process_id}_*.feature：{name}"
        raise InvalidRequestError(message, code="SCENARIO_FILE_NAME")
    return relative


def lay_out(target: Path, process_id: str, files: Mapping[str, bytes], root: Path = ROOT) -> None:
    """Copy the checkout's processes/, forms/ and features/ into ``target`` and
    write the draft's files over them."""
    destinations = {name: placed(name, process_id, root) for name in files}
    for folder in ("processes", "forms", "features"):
        shutil.copytree(root / folder, target / folder)
    for name, relative in destinations.items():
        destination = target.joinpath(*relative.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(files[name])


def feature_texts(process_id: str, files: Mapping[str, bytes], root: Path = ROOT) -> dict[str, str]:
    """The procedure's feature files as a run would see them: the draft's when it carries any."""
    drafted = {
        _bare(name): content.decode("utf-8", errors="replace")
        for name, content in files.items()
        if name.endswith(".feature") and is_feature_of(_bare(name), process_id)
    }
    if drafted:
        return drafted
    suite = suite_of(process_id, root)
    if suite is None:
        return {}
    return {name: (root / "features" / name).read_text(encoding="utf-8") for name in suite.features}


def scenarios_in(feature: str, text: str) -> list[Scenario]:
    """The scenarios of a feature file, each with its own lines (a light reading of
    Gherkin: enough to list and show them; the run itself uses pytest-bdd's parser)."""
    lines = text.splitlines()
    starts: list[tuple[int, str]] = []
    for number, line in enumerate(lines):
        stripped = line.strip()
        for keyword in SCENARIO_KEYWORDS:
            if stripped.startswith((f"{keyword}:", f"{keyword}：")):
                starts.append((number, stripped[len(keyword) + 1 :].strip()))
                break
    found = []
    for index, (number, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        block = lines[number:end]
        while block and (not block[-1].strip() or block[-1].strip().startswith(("@", "#"))):
            block.pop()
        found.append(Scenario(name, feature, number + 1, "\n".join(block)))
    return found
