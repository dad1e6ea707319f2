"""Lint a draft: exactly what ``jiuzhu deploy`` would refuse for its files.

The draft's files are handed to :func:`jiuzhu.wiring.check_sources` — the
same split of policies, models and forms as the upload deploy, and the same
engine check (:func:`engine.service.deploying.check`) that every deploy runs
before it stores anything. There is no second rule book to drift from it.
Problems come back located on the draft's own file names.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from engine.decisions import load_rules
from engine.deploy.model import Deployment, SourceFile
from engine.errors import DeploymentRefused, JiuzhuError, Location, Problem
from engine.service.facade import Engine
from jiuzhu.studio.dmn_where import locate
from jiuzhu.studio.layout import deployed_name, kind
from jiuzhu.wiring import check_sources

ERROR, WARNING = "error", "warning"


def sources(files: dict[str, str], folder: str) -> list[SourceFile]:
    """The draft as a deployment receives it (:func:`~jiuzhu.studio.layout.deployed_name`):
    the engine builds the models with their forms and stores the rest as given,
    so the version keeps its policies, decision rules and scenarios."""
    return [SourceFile(deployed_name(name, folder), text.encode("utf-8")) for name, text in sorted(files.items())]


def problem_json(problem: Problem, severity: str) -> dict[str, Any]:
    location = problem.location
    return {
        "code": problem.code,
        "message": problem.message,
        "file": PurePosixPath(location.file).name if location.file else None,
        "element_id": location.element_id,
        "field": location.field,
        "severity": severity,
    }


def check(
    engine: Engine, process_id: str, files: dict[str, str], folder: str
) -> tuple[Deployment | None, list[Problem]]:
    """The deployment the draft would make (None when refused) and every problem."""
    try:
        deployment = check_sources(engine, sources(files, folder))
    except DeploymentRefused as exc:
        return None, exc.problems()
    except JiuzhuError as exc:  # a located refusal outside the builder (an ambiguous form, say)
        return None, exc.problems()
    if process_id not in deployment.processes:
        model = next((n for n in sorted(files) if kind(n) == "bpmn"), None)
        message = f"草稿的 BPMN 模型中没有标识为 {process_id} 的可执行流程（process id 须与流程标识一致）"
        return None, [Problem("STUDIO_PROCESS_MISSING", message, Location(model, "#document"))]
    problems = rules_problems(process_id, files, set(deployment.processes[process_id].element_names))
    return (None, problems) if problems else (deployment, [])


def rules_problems(process_id: str, files: dict[str, str], elements: set[str]) -> list[Problem]:
    """The draft's decision rules (``*.decisions.json``), as the case pages will read them
    once published: this procedure's, naming its elements (that they load, deploy checks)."""
    problems = []
    for name in sorted(n for n in files if kind(n) == "decisions"):
        try:
            rules = load_rules(files[name], source=name)
        except JiuzhuError:
            continue  # deploy's own check has refused it (jiuzhu.wiring.refuse_bad_rules)
        if rules.process_id != process_id:
            message = f"决定配置 {name} 的 process_id 为 {rules.process_id}，应为 {process_id}"
            problems.append(Problem("DECISION_RULES_INVALID", message, Location(name, field="process_id")))
        for rule in rules.rules:
            named = [rule.task, rule.confirmed_by_end, rule.reasons_task, rule.amount.task if rule.amount else None]
            for element in sorted({e for e in named if e and e not in elements}):
                message = f"决定配置 {name} 引用的环节 {element} 不在流程 {process_id} 中"
                problems.append(Problem("DECISION_RULES_INVALID", message, Location(name, element)))
    return problems


def lint(engine: Engine, process_id: str, files: dict[str, str], folder: str) -> list[dict[str, Any]]:
    """Errors (each a reason deploy refuses) and then warnings, as JSON; a DMN
    file's also say where in the decision table (``where``)."""
    deployment, problems = check(engine, process_id, files, folder)
    warnings = list(deployment.warnings) if deployment is not None else []
    found = [problem_json(p, ERROR) for p in problems] + [problem_json(w, WARNING) for w in warnings]
    # SpiffWorkflow's refusal of a DMN cell reaches deploy twice (building the decision, then the
    # model that calls it): one row per message and element is enough for the designer.
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for problem in found:
        key = (problem["file"], problem["element_id"], problem["message"])
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return locate(unique, files)
