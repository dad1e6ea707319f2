"""Deploy-time loading and validation of BPMN, DMN and form files.

A deployment either yields executable process definitions that mean exactly
what the model says, or is refused with every located problem found. The
phases are: safe XML parse; split executable from documentation-only files;
static checks on the XML (unsupported elements, vendor dialects, timers);
SpiffWorkflow parse with a fresh parser; checks on the built specs
(expressions through the sandbox, forms, unreachable elements).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import partial
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.deploy import dmn_checks, instructions, starters
from engine.deploy.bpmn_checks import ProcessChecker, diagram_warnings
from engine.deploy.expressions import ExpressionChecker, ScriptChecker
from engine.deploy.forms import FormLoader
from engine.deploy.model import (
    Deployment,
    FormRef,
    FormResolver,
    ProcessDefinition,
    SourceFile,
    UserTaskInfo,
    content_hash,
)
from engine.deploy.model_xml import BPMN_NS, SPIFF_NS, XmlDoc, local_name, namespace, parse_xml, xsd_problems
from engine.deploy.spiff_build import SpiffBuild
from engine.deploy.starters import STARTERS_PROPERTY
from engine.deploy.support import REGISTERED_TAGS
from engine.deploy.timers import adapt_timers
from engine.errors import DeploymentRefused, Location, Problem
from engine.runtime.connectors import Connectors
from engine.runtime.serialization import spec_to_dict
from engine.timebounds import TimeLimits

XML_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".xml")
_LATER_PHASE = {"BPMN_PARSE", "BPMN_UNREACHABLE"}  # consequences of a static finding on the same element


def build_deployment(
    files: Sequence[SourceFile],
    *,
    sandbox: ScriptChecker,
    resolve_form: FormResolver,
    connectors: Connectors | None = None,
    roles: Collection[str] | None = None,
    time_limits: TimeLimits | None = None,
) -> Deployment:
    """Raises DeploymentRefused listing every problem; never anything else.

    A service task must name one of ``connectors`` (none registered: every service task is refused).
    A start event's ``starterRoles`` must name ``roles`` (None: any role code; see :mod:`.starters`)."""
    try:
        builder = DeploymentBuilder(list(files), sandbox, resolve_form, connectors or Connectors(), roles)
        builder.time_limits = time_limits or TimeLimits()
        return builder.run()
    except DeploymentRefused:
        raise
    except Exception as exc:  # a bug in our own checks must still refuse, not crash the caller
        name = str(getattr(files[0], "name", "<部署>")) if files else "<部署>"
        message = f"部署检查时发生内部错误：{type(exc).__name__}: {exc}"
        raise DeploymentRefused([Problem("DEPLOY_INTERNAL", message, Location(name, "#document"))]) from exc


class _Locator:
    def __init__(self, docs: dict[str, XmlDoc]) -> None:
        self.docs = docs

    def element(self, file: str, element_id: str) -> Location:
        doc = self.docs.get(file)
        return doc.locate_id(element_id) if doc else Location(file, element_id)

    def flow(self, file: str, source: str, target: str) -> Location:
        doc = self.docs.get(file)
        return doc.locate_flow(source, target) if doc else Location(file, source)


def _bpmn(element: Any, name: str) -> bool:
    return namespace(element) == BPMN_NS and local_name(element) == name


class DeploymentBuilder:
    def __init__(
        self,
        files: list[SourceFile],
        sandbox: ScriptChecker,
        resolve: Callable[..., Any],
        connectors: Connectors,
        roles: Collection[str] | None = None,
    ) -> None:
        self.files = files
        self.roles = roles
        self.connectors = connectors
        self.sandbox = sandbox
        self.time_limits = TimeLimits()
        self.problems: list[Problem] = []
        self.forms = FormLoader(resolve)
        self.bpmn: dict[str, XmlDoc] = {}
        self.dmn: dict[str, XmlDoc] = {}
        self.documentation_only: list[str] = []
        self.warnings: list[Problem] = []  # reported with the deployment, never a reason to refuse it
        self.executable: dict[str, tuple[XmlDoc, Any]] = {}
        self.decisions: dict[str, XmlDoc] = {}
        self.flagged: set[tuple[str, str]] = set()
        self.locator = _Locator({})

    def run(self) -> Deployment:
        if not self.files:
            raise DeploymentRefused([Problem("DEPLOY_EMPTY", "部署中没有任何文件", Location("<部署>", "#document"))])
        self._read()
        if not self.bpmn and not self.dmn and not self.problems:
            # Forms or stray files alone deploy nothing: refused, as a deployment that adds no model is a mistake.
            names = "、".join(f.name for f in self.files[:5])
            message = f"部署中没有 BPMN 或 DMN 模型（收到：{names}）；模型文件名须以 .bpmn、.bpmn20.xml 或 .dmn 结尾"
            raise DeploymentRefused([Problem("DEPLOY_NO_MODEL", message, Location(self.files[0].name, "#document"))])
        for doc in self.bpmn.values():
            self._split(doc)
        for doc in self.dmn.values():
            self._dmn_static(doc)
        self._references()
        static_done = len(self.problems)
        processes = self._build()
        problems = self._final_problems(static_done)
        if problems:
            raise DeploymentRefused(problems)
        files = {f.name: f for f in self.files}
        for name, source in sorted(self.forms.files.items()):
            files.setdefault(name, source)
        all_files = tuple(files.values())
        return Deployment(
            content_hash(all_files), all_files, processes, tuple(self.documentation_only), tuple(self.warnings)
        )

    # -- phase 1: read and split ----------------------------------------------------

    def _read(self) -> None:
        names: dict[str, bytes] = {}
        for source in self.files:
            if names.setdefault(source.name, source.content) != source.content:
                message = f"部署中有两个同名但内容不同的文件：{source.name}"
                self.problems.append(Problem("FILE_DUPLICATE", message, Location(source.name, "#document")))
                continue
            lower = source.name.lower()
            if not lower.endswith(XML_SUFFIXES) or source.name in self.bpmn or source.name in self.dmn:
                continue  # forms and attachments are stored as given
            code = "DMN_INVALID" if lower.endswith(".dmn") else "BPMN_XML_INVALID"
            parsed = parse_xml(source.name, source.content, code=code)
            if isinstance(parsed, Problem):
                self.problems.append(parsed)
            elif dmn_checks.is_dmn(parsed):
                self.dmn[source.name] = parsed
            elif _bpmn(parsed.root, "definitions"):
                self.bpmn[source.name] = parsed
            else:
                message = f"不是 BPMN 或 DMN 文档（根元素为 {parsed.root.tag}）"
                self.problems.append(Problem(code, message, parsed.locate(parsed.root)))

    def _split(self, doc: XmlDoc) -> None:
        processes = [p for p in doc.root if _bpmn(p, "process")]
        # BPMN 2.0: an absent isExecutable means "not executable" (SpiffWorkflow assumes the opposite).
        executable = [p for p in processes if (p.get("isExecutable") or "").strip().lower() in {"true", "1"}]
        if not executable:
            self.documentation_only.append(doc.file)
            return
        VALIDATOR.preprocess(doc.root)
        self.problems += xsd_problems(doc, VALIDATOR.validator, code="BPMN_XSD")
        checker = ProcessChecker(doc, self.problems, self.connectors)
        timer_flags: set[str] = set()
        kept = []
        for process in executable:
            pid = process.get("id")
            if not pid:
                self.problems.append(Problem("BPMN_PARSE", "可执行流程缺少 id", doc.locate(process)))
                continue
            if pid in self.executable:
                other = self.executable[pid][0].file
                message = f"流程 id {pid} 在部署中重复定义（另见 {other}）"
                self.problems.append(Problem("PROCESS_DUPLICATE", message, doc.locate(process)))
                continue
            process.set("isExecutable", "true")
            self.executable[pid] = (doc, process)
            kept.append(process)
            checker.check(process)
            self.warnings += diagram_warnings(doc, process)
            adapt_timers(doc, process, self.sandbox, self.problems, timer_flags, self.time_limits)
        self.flagged |= {(doc.file, i) for i in checker.dialect_flagged | timer_flags}
        checker.apply_stand_ins()
        # The parser sees only what we deploy: ignored processes and unregistered
        # data stores would otherwise make it refuse or half-build the file.
        for element in list(doc.root):
            if (_bpmn(element, "process") and element not in kept) or _bpmn(element, "dataStore"):
                doc.root.remove(element)

    def _dmn_static(self, doc: XmlDoc) -> None:
        found = dmn_checks.static_problems(doc)
        self.problems += found
        for decision in dmn_checks.decisions(doc)[:1]:
            did = decision.get("id") or ""
            if did in self.decisions:
                message = f"决策 id {did} 在部署中重复定义（另见 {self.decisions[did].file}）"
                self.problems.append(Problem("DMN_INVALID", message, doc.locate(decision)))
            elif not found:
                self.decisions[did] = doc

    def _references(self) -> None:
        for doc, process in self.executable.values():
            for call in process.iter(f"{{{BPMN_NS}}}callActivity"):
                target = call.get("calledElement")
                if target not in self.executable:
                    message = f"调用活动的目标流程 {target or '（未填写）'} 不在本次部署的可执行流程中"
                    self.problems.append(Problem("BPMN_CALL_ACTIVITY", message, doc.locate(call)))
                    doc.rename(call, "task")  # a stand-in, so the rest of the process is still checked
            for task in process.iter(f"{{{BPMN_NS}}}businessRuleTask"):
                ref = next((e.text for e in task.iter(f"{{{SPIFF_NS}}}calledDecisionId")), None)
                if (ref or "").strip() not in self.decisions:
                    wanted = ref or "（未填写 spiffworkflow:calledDecisionId）"
                    message = f"业务规则任务引用的决策 {wanted} 不在本次部署中或未通过检查"
                    self.problems.append(Problem("DMN_MISSING", message, doc.locate(task)))
                    doc.rename(task, "task")

    # -- phase 2: SpiffWorkflow and the built specs ---------------------------------------

    def _build(self) -> dict[str, ProcessDefinition]:
        build = SpiffBuild({**self.bpmn, **self.dmn})
        self.locator = _Locator({**self.bpmn, **self.dmn})
        expressions = ExpressionChecker(self.sandbox, self.locator, self.flagged)
        for doc in {d.file: d for d in self.decisions.values()}.values():
            decision = build.add_dmn(doc)
            if decision is not None:
                dmn_checks.check_decision(doc, decision, expressions)
        added = {d.file: build.add_bpmn(d) for d in {d.file: d for d, _ in self.executable.values()}.values()}
        definitions = {}
        for pid, (doc, process) in self.executable.items():
            if not added[doc.file]:
                continue
            built = build.build(pid, doc, process)
            if built is None:
                continue
            spec, subprocess_specs = built
            specs = [spec, *subprocess_specs.values()]
            for each in specs:
                expressions.spec(each)
            self._unreachable(doc, process, specs)
            stored = build.attempt(partial(spec_to_dict, spec, subprocess_specs), doc, process)
            if stored is not None:
                definitions[pid] = self._definition(pid, doc, process, specs, stored)
        self.problems += build.problems + expressions.problems + self.forms.problems
        return definitions

    def _unreachable(self, doc: XmlDoc, process: Any, specs: list[Any]) -> None:
        built = {ts.bpmn_id for s in specs for ts in s.task_specs.values() if getattr(ts, "bpmn_id", None)}
        for element in process.iter(*(f"{{{BPMN_NS}}}{tag}" for tag in REGISTERED_TAGS)):
            if element.get("id") not in built and not _inside_extension(element):
                message = "该元素没有连接到从开始事件出发的流程中，永远不会执行"
                self.problems.append(Problem("BPMN_UNREACHABLE", message, doc.locate(element)))

    def _definition(
        self, pid: str, doc: XmlDoc, process: Any, specs: list[Any], stored: dict[str, Any]
    ) -> ProcessDefinition:
        user_tasks: dict[str, UserTaskInfo] = {}
        start_form: FormRef | None = None
        start_event: str | None = None
        one_open = False
        starter_roles: tuple[str, ...] = ()
        names: dict[str, str] = {pid: process.get("name") or pid}
        timers: dict[str, str] = {}
        for spec in specs:
            names.setdefault(spec.name, spec.description or spec.name)
            for name, ts in spec.task_specs.items():
                bpmn_id = getattr(ts, "bpmn_id", None)
                if not bpmn_id:
                    continue
                names.setdefault(bpmn_id, ts.bpmn_name or bpmn_id)
                for definition in _timer_definitions(getattr(ts, "event_definition", None)):
                    timers[bpmn_id] = definition.expression
                if getattr(ts, "manual", False):
                    user_tasks[name] = self._user_task(spec.file or doc.file, ts)
                elif isinstance(ts, StartEvent) and spec.name == pid:
                    form = self._form(spec.file or doc.file, ts)
                    if isinstance(ts.event_definition, NoneEventDefinition):
                        starter_roles = self._starters(spec.file or doc.file, ts)
                    if form is not None and isinstance(ts.event_definition, NoneEventDefinition):
                        start_form, start_event = form, bpmn_id
                        one_open = _flag(ts, ONE_OPEN_PROPERTY)
                        if STARTERS_PROPERTY not in _properties(ts):  # an empty value: deliberately nobody
                            self.warnings.append(starters.missing(self.locator.element(spec.file or doc.file, bpmn_id)))
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            names.setdefault(flow.get("id") or "", flow.get("name") or flow.get("id") or "")
        names.pop("", None)
        name = process.get("name") or pid
        return ProcessDefinition(
            pid, name, doc.file, stored, user_tasks, names, timers, start_form, start_event, one_open, starter_roles
        )

    def _starters(self, file: str, ts: Any) -> tuple[str, ...]:
        roles, problems = starters.checked(_properties(ts), self.roles, self.locator.element(file, ts.bpmn_id))
        self.problems += problems
        return roles

    def _form(self, file: str, ts: Any) -> FormRef | None:
        properties = (getattr(ts, "extensions", None) or {}).get("properties") or {}
        return self.forms.form(file, properties, self.locator.element(file, ts.bpmn_id))

    def _user_task(self, file: str, ts: Any) -> UserTaskInfo:
        extensions = getattr(ts, "extensions", None) or {}
        text = extensions.get("instructionsForEndUser")
        broken = instructions.syntax_error(text) if isinstance(text, str) else None
        if broken is not None:
            self.problems.append(Problem("INSTRUCTIONS_TEMPLATE", broken, self.locator.element(file, ts.bpmn_id)))
        return UserTaskInfo(
            ts.bpmn_id,
            ts.bpmn_name or ts.bpmn_id,
            ts.lane,
            self._form(file, ts),
            getattr(ts, "variable", None),
            extensions.get("instructionsForEndUser"),
            _flag(ts, NAME_SHOWS_ITEM_PROPERTY),
        )

    def _final_problems(self, static_done: int) -> list[Problem]:
        static = {(p.location.file, p.location.element_id) for p in self.problems[:static_done]}
        result: list[Problem] = []
        seen: set[Problem] = set()
        for index, problem in enumerate(self.problems):
            where = (problem.location.file, problem.location.element_id)
            if index >= static_done and problem.code in _LATER_PHASE and where in static:
                continue
            if problem not in seen:
                seen.add(problem)
                result.append(problem)
        return result


ONE_OPEN_PROPERTY = "oneOpenApplication"
NAME_SHOWS_ITEM_PROPERTY = "nameShowsItem"


def _properties(ts: Any) -> dict[str, Any]:
    properties: dict[str, Any] = (getattr(ts, "extensions", None) or {}).get("properties") or {}
    return properties


def _flag(ts: Any, name: str) -> bool:
    return str(_properties(ts).get(name, "")).strip().lower() == "true"


def _inside_extension(element: Any) -> bool:
    parent = element.getparent()
    while parent is not None:
        if namespace(parent) != BPMN_NS or local_name(parent) == "extensionElements":
            return True
        parent = parent.getparent()
    return False


def _timer_definitions(definition: Any) -> list[Any]:
    if definition is None:
        return []
    if isinstance(definition, TimerEventDefinition):
        return [definition]
    return [d for child in getattr(definition, "event_definitions", None) or [] for d in _timer_definitions(child)]
