"""入户抽查: a random sample of the decided cases of a county or township for
the county 民政局's household spot checks.

The share is policy data (``jiuzhu/audit_policy.py``). The draw is
reproducible: the population (decided cases of the scope, procedure and
decision dates, with an outcome the policy names) is sorted by instance id
and ``random.Random(seed).sample`` picks ``ceil(share × population)`` of
them. The seed, the parameters, who drew it and when, and the chosen cases
are stored (``audit_sample``) and written as one event on the system chain,
in one transaction: anyone can draw again with the same seed and compare.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.errors import ForbiddenError, InvalidRequestError
from engine.events import EventDraft
from engine.ports import Unit
from integrations.sql.audit_samples import StoredSample, insert_sample
from jiuzhu.audit_policy import AuditPolicy
from jiuzhu.audit_search import Terms, matching
from jiuzhu.web.context import WebContext

SAMPLE_EVENT = "inspection_sample_drawn"
POPULATION_LIMIT = 10_000  # decided cases one draw reads; a larger population is drawn per township or period
SEED_BITS = 63


@dataclass(frozen=True)
class SampleRequest:
    org_unit: str  # the county or township sampled (its whole subtree)
    share_percent: float
    process_id: str | None = None
    decided_from: date | None = None
    decided_until: date | None = None

    def parameters(self, policy: AuditPolicy) -> dict[str, Any]:
        return {
            "org_unit": self.org_unit,
            "process_id": self.process_id,
            "decided_from": self.decided_from.isoformat() if self.decided_from else None,
            "decided_until": self.decided_until.isoformat() if self.decided_until else None,
            "share_percent": self.share_percent,
            "outcomes": list(policy.sample.outcomes),
            "policy_share_percent": policy.sample.share_percent,
            "policy_source": policy.sample.source,  # the policy file may change; the sample keeps its basis
        }

    @classmethod
    def of(cls, parameters: dict[str, Any]) -> SampleRequest:
        def day(key: str) -> date | None:
            value = parameters.get(key)
            return date.fromisoformat(value) if isinstance(value, str) else None

        return cls(
            str(parameters["org_unit"]),
            float(parameters["share_percent"]),
            parameters.get("process_id"),
            day("decided_from"),
            day("decided_until"),
        )


def sample_size(population: int, share_percent: float) -> int:
    return min(population, math.ceil(population * share_percent / 100))


def draw(population: Sequence[str], share_percent: float, seed: int) -> list[str]:
    """The chosen instance ids, in drawing order: the same population and seed, the same list."""
    ordered = sorted(population)
    return random.Random(seed).sample(ordered, sample_size(len(ordered), share_percent))


def population(context: WebContext, request: SampleRequest, outcomes: Sequence[str], policy: AuditPolicy) -> list[str]:
    """Every decided case of the request's scope, sorted by instance id."""
    terms = Terms(
        org_unit=request.org_unit,
        process_id=request.process_id,
        decided_from=request.decided_from,
        decided_until=request.decided_until,
        outcomes=tuple(outcomes),
    )
    found, truncated = matching(context, None, terms, policy, limit=POPULATION_LIMIT)
    if truncated:
        raise InvalidRequestError(
            f"抽样范围内案件超过 {POPULATION_LIMIT} 件，请按乡镇(街道)或缩短决定日期范围分别抽取",
            code="SAMPLE_POPULATION_TOO_LARGE",
        )
    return sorted(c.hit.id for c in found)


def checked(context: WebContext, scope: Sequence[str] | None, request: SampleRequest, policy: AuditPolicy) -> None:
    least = policy.sample.share_percent
    if not least <= request.share_percent <= 100:
        raise InvalidRequestError(
            f"抽取比例应在 {least:g}% 至 100% 之间（{policy.sample.source}）", code="SAMPLE_SHARE_INVALID"
        )
    if context.directory().unit(request.org_unit) is None:
        raise InvalidRequestError(f"没有组织机构「{request.org_unit}」", code="ORG_UNIT_UNKNOWN")
    if scope is not None and request.org_unit not in scope:
        raise ForbiddenError("抽样范围不在您的管辖范围内", code="FORBIDDEN")
    if request.decided_from and request.decided_until and request.decided_from > request.decided_until:
        raise InvalidRequestError("决定日期的起始日晚于截止日", code="INVALID_DATE_RANGE")


def take_sample(
    context: WebContext,
    scope: Sequence[str] | None,
    request: SampleRequest,
    policy: AuditPolicy,
    *,
    actor: str,
    seed: int | None = None,
) -> StoredSample:
    """Draw, store and audit a sample (a new random seed unless one is given)."""
    checked(context, scope, request, policy)
    seed = secrets.randbits(SEED_BITS) if seed is None else seed
    parameters = request.parameters(policy)
    people = population(context, request, policy.sample.outcomes, policy)
    if not people:
        raise InvalidRequestError("抽样范围内没有已作出决定的案件", code="SAMPLE_POPULATION_EMPTY")
    chosen = draw(people, request.share_percent, seed)
    sample = StoredSample(
        secrets.token_hex(6), context.engine.clock.now(), actor, seed, request.org_unit, parameters, len(people), chosen
    )
    payload = {
        "sample_id": sample.id,
        "seed": str(seed),
        "parameters": parameters,
        "population": len(people),
        "selected": chosen,
    }

    def write(unit: Unit) -> None:
        insert_sample(unit, sample)

    context.engine.audit_system(EventDraft(SAMPLE_EVENT, payload, actor=actor), write)
    return sample


def redraw(context: WebContext, sample: StoredSample, policy: AuditPolicy) -> list[str]:
    """The sample drawn again with its own seed and parameters over today's records."""
    request = SampleRequest.of(sample.parameters)
    outcomes = sample.parameters.get("outcomes") or policy.sample.outcomes
    return draw(population(context, request, outcomes, policy), request.share_percent, sample.seed)
