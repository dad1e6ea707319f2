"""The auditors' policy data (``JIUZHU_AUDIT_FILE``, ``demo/audit.json``): the
share of decided cases the county draws for 入户抽查 with its legal source,
which outcomes make up the population, and which tasks' completion is a
近亲属单独登记备案. A figure here is never a literal in code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InvalidRequestError


@dataclass(frozen=True)
class SamplePolicy:
    share_percent: float  # the least share a sample may draw, and the form's default
    outcomes: tuple[str, ...]  # decisions whose cases are sampled (engine.decisions outcomes)
    source: str


@dataclass(frozen=True)
class AuditPolicy:
    sample: SamplePolicy
    filing_tasks: Mapping[str, tuple[str, ...]]  # process id → element ids of the 近亲属 filing task

    def all_filing_tasks(self) -> tuple[str, ...]:
        return tuple(sorted({t for tasks in self.filing_tasks.values() for t in tasks}))


def _bad(path: Path, what: str) -> InvalidRequestError:
    return InvalidRequestError(f"{path.name}：{what}", code="AUDIT_POLICY_INVALID")


def load_audit_policy(path: Path) -> AuditPolicy:
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _bad(path, f"无法读取审计配置（{exc}）") from exc
    sample = raw.get("inspection_sample") if isinstance(raw, dict) else None
    if not isinstance(sample, dict):
        raise _bad(path, "缺少 inspection_sample")
    share = sample.get("share_percent")
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 100:
        raise _bad(path, "inspection_sample.share_percent 应为 0 至 100 之间的百分比")
    outcomes = sample.get("outcomes")
    source = sample.get("source")
    if not isinstance(outcomes, list) or not outcomes or not all(isinstance(o, str) for o in outcomes):
        raise _bad(path, "inspection_sample.outcomes 应为非空的决定结果列表")
    if not isinstance(source, str) or not source.strip():
        raise _bad(path, "inspection_sample.source 应写明抽查比例的依据")
    filing = raw.get("relatives_filing_tasks", {})
    if not isinstance(filing, dict) or not all(
        isinstance(v, list) and all(isinstance(t, str) for t in v) for v in filing.values()
    ):
        raise _bad(path, "relatives_filing_tasks 应为 流程 → 环节列表")
    return AuditPolicy(
        SamplePolicy(float(share), tuple(outcomes), source.strip()),
        {str(k): tuple(v) for k, v in filing.items()},
    )
