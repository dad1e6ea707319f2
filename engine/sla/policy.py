"""SLA policies as data: one validated JSON file per procedure and region.

A policy names the legal time limits of a procedure — the overall limit from
受理, stage limits, which periods count natural rather than working days,
whether 公示 counts inside the overall limit, which stages pause the clock
(waiting for 补正 materials), the extension (30 → 45 working days) and who
is warned and escalated to. Every figure carries its legal source. Regions
differ, so the handling org unit's region picks the policy: the policy whose
``regions`` entry is the longest prefix of that region code wins
(``CN-ZJ-HZ`` → ``CN-ZJ`` → ``CN``).

File format (``processes/sla/*.sla.json``); abridged from
``processes/sla/dibao.national.sla.json``, which governs the processes
``dibao`` and ``sla_skeleton``::

    {
      "id": "dibao.national", "version": "2021-57", "procedure": "dibao",
      "title": "最低生活保障审核确认时限（全国）", "source": "民政部《最低生活保障审核确认办法》（民发〔2021〕57号）",
      "processes": ["dibao", "sla_skeleton"], "regions": ["CN"],
      "overall": {"name": "审核确认总时限", "limit": 30, "unit": "working_days", "warn_before": 5,
                  "escalate_to": "县级民政局", "source": "第22条：自受理之日起30个工作日"},
      "extension": {"limit": 45, "approver_role": "县级民政局", "source": "第22条：特殊情况可延长至45个工作日"},
      "stages": {
        "awaiting_correction": {"name": "等待补正材料", "limit": 30, "unit": "natural_days",
                                "counts_in_overall": false, "source": "第10条"},
        "start_investigation": {"name": "启动家庭经济状况调查", "limit": 3, "unit": "working_days",
                                "warn_before": 1, "escalate_to": "乡镇审核人", "source": "第15条"},
        "publicity": {"name": "公示", "limit": 7, "unit": "natural_days", "roll_to_working_day": true,
                      "counts_in_overall": true, "source": "第19条：公示7天"}
      },
      "pause_stages": ["awaiting_correction"]
    }

The overall limit starts when the instance starts unless ``"starts_at"``
names the element whose completion is the legal start: for 低保 that is the
受理 task (``"starts_at": "db_accept"``, 第22条 "自受理之日起"; a list when the
policy governs several processes, each naming its own). It starts
once that element has completed and the case has moved on from it (not while
it waits for 补正 and the 受理 task is to be done again). Stages always start
with their own task.

``escalate_to`` names one role or a list of roles: an overdue limit raises one
督办 to each. A stage may take its deadline from the task's own data instead
of counting ``limit`` from the task's start: ``"due_from": "handoff.due_on"``
names the dotted path of an ISO date there (a 联办 item's own feedback date,
computed at the push from the catalogue). ``limit`` stays the fallback when
the data holds no such date.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InvalidRequestError, Location, Problem
from engine.workcal.calendar import PeriodKind


class PolicyInvalid(InvalidRequestError):
    default_code = "SLA_POLICY_INVALID"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"时限政策文件有 {len(problems)} 处错误", location=problems[0].location)
        self.errors = problems

    def problems(self) -> list[Problem]:
        return list(self.errors)


@dataclass(frozen=True)
class Limit:
    key: str
    name: str
    limit: int
    unit: PeriodKind
    warn_before: int = 0
    escalate_to: tuple[str, ...] = ()
    roll_to_working_day: bool = True
    counts_in_overall: bool = True
    source: str | None = None
    due_from: tuple[str, ...] | None = None  # path of the deadline date in the task's data
    starts_at: tuple[str, ...] = ()  # overall only: the element whose completion starts it (受理)


@dataclass(frozen=True)
class Extension:
    limit: int
    approver_role: str
    source: str | None = None


@dataclass(frozen=True)
class SlaPolicy:
    id: str
    version: str
    procedure: str
    title: str
    source: str
    processes: tuple[str, ...]
    regions: tuple[str, ...]
    overall: Limit
    stages: Mapping[str, Limit]
    extension: Extension | None = None
    pause_stages: frozenset[str] = field(default_factory=frozenset)
    digest: str = ""

    def stage(self, key: str) -> Limit:
        if key == "overall":
            return self.overall
        try:
            return self.stages[key]
        except KeyError:
            raise InvalidRequestError(f"时限政策 {self.id} 中没有环节「{key}」", code="SLA_STAGE_UNKNOWN") from None

    def pauses_overall(self, stage: str) -> bool:
        """Does time spent in ``stage`` stop the overall clock?"""
        limit = self.stages.get(stage)
        return stage in self.pause_stages or (limit is not None and not limit.counts_in_overall)


_LIMIT_KEYS = {
    "name",
    "limit",
    "unit",
    "warn_before",
    "escalate_to",
    "roll_to_working_day",
    "counts_in_overall",
    "source",
    "due_from",
    "starts_at",
}
_TOP_KEYS = {
    "id",
    "version",
    "procedure",
    "title",
    "source",
    "processes",
    "regions",
    "overall",
    "extension",
    "stages",
    "pause_stages",
}


_ELEMENT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_DATA_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem("SLA_POLICY_INVALID", f"{path}: {message}", Location(self.source, field=path)))

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{path}{key}", "必须是非空字符串")
            return None
        return value

    def count(
        self, data: Mapping[str, Any], key: str, path: str, *, default: int | None = None, minimum: int = 0
    ) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(f"{path}{key}", f"必须是不小于 {minimum} 的整数")
            return minimum
        return value

    def flag(self, data: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{path}{key}", "必须是 true 或 false")
            return default
        return value

    def strings(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> tuple[str, ...]:
        value = data.get(key, None if required else [])
        if not isinstance(value, list) or (required and not value) or not all(isinstance(v, str) and v for v in value):
            self.fail(f"{path}{key}", "必须是非空字符串组成的列表")
            return ()
        return tuple(value)

    def targets(self, data: Mapping[str, Any], path: str) -> tuple[str, ...]:
        value = data.get("escalate_to")
        if value is None:
            return ()
        if isinstance(value, str) and value.strip():
            return (value,)
        if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
            if len(set(value)) == len(value):
                return tuple(value)
        self.fail(f"{path}escalate_to", "必须是角色名称，或不重复的角色名称列表")
        return ()

    def data_path(self, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...] | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not _DATA_PATH.fullmatch(value):
            self.fail(f"{path}{key}", f"必须是任务数据中的字段路径，如 handoff.due_on，收到 {value!r}")
            return None
        return tuple(value.split("."))

    def elements(self, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        values = [value] if isinstance(value, str) else value
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and _ELEMENT_ID.fullmatch(v) for v in values)
        ):
            self.fail(f"{path}{key}", f"必须是流程中的环节标识（BPMN 元素 id，如 db_accept）或其列表，收到 {value!r}")
            return ()
        return tuple(values)

    def unknown(self, data: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(data) - allowed):
            self.fail(f"{path}{key}", "未知字段")

    def limit(self, key: str, data: Any, path: str) -> Limit | None:
        if not isinstance(data, dict):
            self.fail(path.rstrip("."), "必须是 JSON 对象")
            return None
        self.unknown(data, _LIMIT_KEYS, path)
        unit_text = data.get("unit")
        if unit_text not in {k.value for k in PeriodKind}:
            self.fail(f"{path}unit", "必须是 working_days（工作日）或 natural_days（自然日）")
            unit = PeriodKind.WORKING_DAYS
        else:
            unit = PeriodKind(unit_text)
        limit = self.count(data, "limit", path, minimum=1)
        warn_before = self.count(data, "warn_before", path, default=0)
        if warn_before >= limit and warn_before:
            self.fail(f"{path}warn_before", f"预警提前量 {warn_before} 必须小于时限 {limit}")
        return Limit(
            key=key,
            name=self.text(data, "name", path) or key,
            limit=limit,
            unit=unit,
            warn_before=warn_before,
            escalate_to=self.targets(data, path),
            roll_to_working_day=self.flag(data, "roll_to_working_day", path, True),
            counts_in_overall=self.flag(data, "counts_in_overall", path, True),
            source=self.text(data, "source", path, required=False),
            due_from=self.data_path(data, "due_from", path),
            starts_at=self.elements(data, "starts_at", path),
        )


def load_policy(text: str | bytes, *, source: str) -> SlaPolicy:
    """Parse and validate a policy file; every problem is reported at once."""
    reader = _Reader(source)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PolicyInvalid([Problem("SLA_POLICY_INVALID", f"不是有效的 JSON：{exc}", Location(source))]) from None
    if not isinstance(data, dict):
        raise PolicyInvalid([Problem("SLA_POLICY_INVALID", "顶层必须是 JSON 对象", Location(source))])
    reader.unknown(data, _TOP_KEYS, "")
    overall = reader.limit("overall", data.get("overall"), "overall.")
    if overall is not None and overall.due_from is not None:
        reader.fail("overall.due_from", "总时限自受理起算，不能取自任务数据")
    stages_raw = data.get("stages", {})
    stages: dict[str, Limit] = {}
    if not isinstance(stages_raw, dict):
        reader.fail("stages", "必须是 JSON 对象（环节标识 → 时限）")
    else:
        for key, raw in stages_raw.items():
            if key == "overall":
                reader.fail("stages.overall", "overall 是保留字")
            parsed = reader.limit(key, raw, f"stages.{key}.")
            if parsed is not None and parsed.starts_at:
                reader.fail(f"stages.{key}.starts_at", "环节时限自本环节开始起算，只有总时限可以指定起算环节")
            if parsed is not None:
                stages[key] = parsed
    extension = None
    ext_raw = data.get("extension")
    if ext_raw is not None:
        if not isinstance(ext_raw, dict):
            reader.fail("extension", "必须是 JSON 对象")
        else:
            reader.unknown(ext_raw, {"limit", "approver_role", "source"}, "extension.")
            ext_limit = reader.count(ext_raw, "limit", "extension.", minimum=1)
            if overall is not None and ext_limit <= overall.limit:
                reader.fail("extension.limit", f"延长后的时限 {ext_limit} 必须大于总时限 {overall.limit}")
            approver = reader.text(ext_raw, "approver_role", "extension.") or ""
            extension = Extension(ext_limit, approver, reader.text(ext_raw, "source", "extension.", required=False))
    pauses = reader.strings(data, "pause_stages", "", required=False)
    for i, stage in enumerate(pauses):
        if stage not in stages:
            reader.fail(f"pause_stages[{i}]", f"环节「{stage}」未在 stages 中定义")
    policy_id = reader.text(data, "id", "")
    fields = {name: reader.text(data, name, "") for name in ("version", "procedure", "title", "source")}
    processes = reader.strings(data, "processes", "")
    regions = reader.strings(data, "regions", "")
    if reader.problems or overall is None or policy_id is None:
        raise PolicyInvalid(reader.problems)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return SlaPolicy(
        id=policy_id,
        version=fields["version"] or "",
        procedure=fields["procedure"] or "",
        title=fields["title"] or "",
        source=fields["source"] or "",
        processes=processes,
        regions=regions,
        overall=overall,
        stages=stages,
        extension=extension,
        pause_stages=frozenset(pauses),
        digest=hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16],
    )


class PolicyBook:
    """The policies in force, and which one governs a process in a region
    (policies in the order they were loaded: the latest load of an id wins)."""

    def __init__(self, policies: Iterable[SlaPolicy] = ()) -> None:
        self.policies = list(policies)

    def select(self, process_id: str, region: str | None) -> SlaPolicy | None:
        code = region or "CN"
        best: tuple[int, SlaPolicy] | None = None
        for policy in self.policies:
            if process_id not in policy.processes:
                continue
            for prefix in policy.regions:
                if code == prefix or code.startswith(prefix + "-"):
                    # A policy loaded again (republished with changes) takes over from its earlier load;
                    # the earlier one stays in the book for the cases already running on it.
                    later = best is not None and len(prefix) == best[0] and policy.id == best[1].id
                    if best is None or len(prefix) > best[0] or later:
                        best = (len(prefix), policy)
        return best[1] if best else None


def stage_references(spec: Mapping[str, Any]) -> dict[str, str]:
    """``element id -> slaStage`` for a stored process spec (incl. subprocesses)."""
    found: dict[str, str] = {}
    specs = [spec.get("spec", {}), *spec.get("subprocess_specs", {}).values()]
    for process in specs:
        for name, task in process.get("task_specs", {}).items():
            stage = (task.get("extensions") or {}).get("properties", {}).get("slaStage")
            if stage:
                found[task.get("bpmn_id") or name] = stage
    return found


def start_problems(process_id: str, file: str, spec: Mapping[str, Any], policies: Iterable[SlaPolicy]) -> list[Problem]:
    """A policy's ``starts_at`` must name an element of every process it governs,
    or the overall clock would never start."""
    specs = [spec.get("spec", {}), *spec.get("subprocess_specs", {}).values()]
    elements = {t.get("bpmn_id") or n for p in specs for n, t in p.get("task_specs", {}).items()}
    return [
        Problem(
            "SLA_START_UNKNOWN",
            f"时限政策 {policy.id} 的总时限自「{'、'.join(policy.overall.starts_at)}」起算，本流程没有该环节",
            Location(file, None, None, "starts_at"),
        )
        for policy in policies
        if process_id in policy.processes
        and policy.overall.starts_at
        and not elements.intersection(policy.overall.starts_at)
    ]


def stage_problems(
    process_id: str, file: str, references: Mapping[str, str], policies: Iterable[SlaPolicy]
) -> list[Problem]:
    """Every slaStage a process names must exist in every policy governing it."""
    problems = []
    for policy in policies:
        if process_id not in policy.processes:
            continue
        for element, stage in sorted(references.items()):
            if stage != "overall" and stage not in policy.stages:
                problems.append(
                    Problem(
                        "SLA_STAGE_UNKNOWN",
                        f"环节时限「{stage}」未在时限政策 {policy.id}（{policy.title}）中定义",
                        Location(file, element, None, "slaStage"),
                    )
                )
    return problems
