"""把这次试运行存为场景: a dry run's inputs written as a Chinese Gherkin scenario.

The scenario uses the phrases the procedures' feature files already use
(``今天是 …``, ``时间来到 …``, ``「…」已待办``, ``「…」的期限是 …``,
``案件以「…」结束``: tests/features/conftest.py) and two generic ones for what a
dry run does that a procedure's own wording cannot know: starting a case with
given start data, and submitting a task's form with given data (the JSON in a
doc string). It ends with what the run showed: the tasks waiting, each SLA
stage's deadline and, for a finished case, its end. Appended to the draft's
copy of ``features/<id>.feature``, it runs with the procedure's other
scenarios, under the same runner (:mod:`jiuzhu.studio.scenarios`), inheriting
the file's 背景 (which deploys the procedure)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from engine.errors import InvalidRequestError, Location
from jiuzhu.settings import ROOT
from jiuzhu.studio.dry_run import ACTOR, OVERALL, Complete, Plan, show_day, show_moment
from jiuzhu.studio.scenario_files import scenarios_in, suite_of

NAME = re.compile(r"^[^\x00-\x1f\x7f#|「」\"]{1,80}$")
_STEP, _DOC = "    ", "      "
_ESCAPED_QUOTE = re.compile(r'(?<!\\)((?:\\\\)*)\\"')  # a \" that escapes a quote (not one after an escaped backslash)


def feature_name(process_id: str) -> str:
    return f"{process_id}.feature"


def check_name(name: str, existing: Sequence[str]) -> str:
    name = name.strip()
    if not NAME.fullmatch(name):
        message = "场景名称须为 1–80 个字，不含换行、#、|、引号或「」"
        raise InvalidRequestError(message, code="DRY_RUN_SCENARIO_NAME", location=Location(field="name"))
    if name in existing:
        message = f"已有名为「{name}」的场景，请换一个名称"
        raise InvalidRequestError(message, code="DRY_RUN_SCENARIO_EXISTS", location=Location(field="name"))
    return name


def base_feature(process_id: str, files: Mapping[str, str]) -> str:
    """The feature file the scenario joins: the draft's own copy, else the checkout's, else
    (a procedure with no scenarios yet, one made in the studio) a new one whose 背景 deploys
    the draft, for the generic binding (tests/features/procedure_scenarios.py)."""
    name = feature_name(process_id)
    if name in files:
        return files[name]
    if suite_of(process_id) is not None and (ROOT / "features" / name).is_file():
        return (ROOT / "features" / name).read_text(encoding="utf-8")
    if (ROOT / "tests" / "features" / f"test_{process_id}.py").is_file():
        # Its own module binds features/<id>.feature in its own words: a new file there would not run.
        message = f"流程 {process_id} 的场景文件 features/{name} 不在，无法存为场景"
        raise InvalidRequestError(message, code="DRY_RUN_NO_SUITE")
    return new_feature(process_id, files)


_PROCESS_NAME = re.compile(r"<(?:\w+:)?process\b[^>]*?\bname=\"([^\"<>]+)\"")


def new_feature(process_id: str, files: Mapping[str, str]) -> str:
    model = files.get(f"{process_id}.bpmn") or next((t for n, t in sorted(files.items()) if n.endswith(".bpmn")), "")
    found = _PROCESS_NAME.search(model)
    title = " ".join(found.group(1).split()) if found else process_id
    return (
        "# language: zh-CN\n"
        f"功能: {title}\n"
        "  在流程设计中由试运行存下的场景：发布前对草稿运行，未通过的不能发布。\n\n"
        "  背景:\n"
        f"{_STEP}假如 已部署流程「{process_id}」及其时限政策\n"
    )


def save(process_id: str, files: Mapping[str, str], name: str, plan: Plan, state: Mapping[str, Any]) -> tuple[str, str]:
    """(the feature file with the scenario appended, the scenario's text)."""
    text = base_feature(process_id, files)
    existing = [s.name for s in scenarios_in(feature_name(process_id), text)]
    scenario = scenario_text(check_name(name, existing), process_id, plan, state)
    return text.rstrip("\n") + "\n\n" + scenario, scenario


def _doc(data: Any) -> list[str]:
    # A quote inside a value as \u0022: Gherkin reads \" in a doc string as a bare quote, breaking the JSON.
    body = _ESCAPED_QUOTE.sub(r"\1\\u0022", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
    return [f'{_DOC}"""', *(f"{_DOC}{line}" for line in body.splitlines()), f'{_DOC}"""']


def scenario_text(name: str, process_id: str, plan: Plan, state: Mapping[str, Any]) -> str:
    if plan.start is None:
        raise InvalidRequestError("试运行尚未开始案件，没有可存的步骤", code="DRY_RUN_NOT_STARTED")
    labels = _labels(state)
    lines = [f"  场景: {name}", f"{_STEP}假如 今天是 {show_moment(plan.accepted_at)}"]
    unit = f"由「{plan.org_unit}」" if plan.org_unit else ""
    lines.append(f"{_STEP}当 在区划「{plan.region}」{unit}开始「{process_id}」案件，开始数据：")
    lines += _doc(plan.start)
    for step in plan.steps:
        if isinstance(step, Complete):
            label = labels.get(step.task, step.task)
            lines.append(f"{_STEP}并且 「{step.actor or ACTOR}」办理「{label}」，提交：")
            lines += _doc(step.data)
        else:
            lines.append(f"{_STEP}并且 时间来到 {show_moment(step.to)}")
    claims = _claims(state, labels)
    lines += [f"{_STEP}{'那么' if i == 0 else '并且'} {claim}" for i, claim in enumerate(claims)]
    return "\n".join(lines) + "\n"


def _labels(state: Mapping[str, Any]) -> dict[str, str]:
    """Element id -> the name a step may call it by: its BPMN name when no other element or
    SLA stage shares it (the feature worlds resolve a label to exactly one element)."""
    names: dict[str, str] = dict(state.get("element_names") or {})
    counts = Counter(names.values())
    stages = {c["label"] for c in state.get("clocks", [])}
    return {eid: n for eid, n in names.items() if counts[n] == 1 and n not in stages}


def _claims(state: Mapping[str, Any], labels: Mapping[str, str]) -> list[str]:
    out = [f"「{labels[t['element_id']]}」已待办" for t in state.get("ready", []) if t["element_id"] in labels]
    clocks = state.get("clocks", [])
    counts = Counter(c["label"] for c in clocks)
    taken = set(labels.values())
    for c in clocks:
        if counts[c["label"]] == 1 and (c["label"] == OVERALL or c["label"] not in taken):
            out.append(f"「{c['label']}」的期限是 {show_day(date.fromisoformat(c['due_on']))}")
    if state.get("status") == "completed":
        ends = [e["element_id"] for e in state.get("events", []) if e.get("end")]
        end = next((labels[eid] for eid in reversed(ends) if eid in labels), None)
        if end:
            out.append(f"案件以「{end}」结束")
    return out
