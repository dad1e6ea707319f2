"""审计查询: the auditors' case search. The database narrows the cases by what
it indexes (``integrations/sql/audit_queries.py``: scope, procedure, start
dates, 身份证号, who acted, 超期, 近亲属备案), bounded by a limit; the
decision (read from the audit record with the procedure's decision rules, as
the case page reads it) and the household's names and 身份证号 are then
checked here. Every moment is a Beijing day at the edge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from engine.audit import AuditEvent
from engine.clock import SHANGHAI
from engine.decisions import Decision
from engine.runtime.task_facts import applicant, mask_id
from integrations.sql.audit_queries import OVERDUE_EVENT, CaseFilter, CaseHit, find_cases
from jiuzhu.accounts import Directory
from jiuzhu.audit_policy import AuditPolicy
from jiuzhu.timefmt import day_of
from jiuzhu.web.case_data import household, id_numbers
from jiuzhu.web.case_decision import OUTCOME_LABELS, decision_of
from jiuzhu.web.context import WebContext
from jiuzhu.web.ledger import STATUS_LABELS

PAGE_SIZE = 20
CANDIDATE_LIMIT = 2000  # cases the database hands over for one search; past it, narrower terms are asked for
PENDING = "pending"  # no decision recorded (yet)
OUTCOME_CHOICES = {**OUTCOME_LABELS, PENDING: "尚无决定"}


@dataclass(frozen=True)
class Terms:
    id_number: str | None = None  # the applicant's or a household member's, exact (either case of X)
    name: str | None = None  # any household member's name contains it
    org_unit: str | None = None  # the unit and everything under it
    process_id: str | None = None
    started_from: date | None = None  # Beijing days, both ends included
    started_until: date | None = None
    decided_from: date | None = None
    decided_until: date | None = None
    outcome: str | None = None  # an outcome of engine.decisions, or PENDING
    outcomes: tuple[str, ...] = ()  # any of these (the 抽查 population)
    overdue: bool | None = None
    relatives: bool | None = None
    handled_by: str | None = None

    def needs_decision(self) -> bool:
        return bool(self.outcome or self.outcomes or self.decided_from or self.decided_until)


@dataclass(frozen=True)
class Hit:
    instance_id: str
    case_no: str
    procedure: str
    org_name: str
    applicant: str | None
    id_masked: str | None
    status: str
    started_at: datetime
    outcome: str | None  # in Chinese
    decided_at: datetime | None
    overdue: bool
    relatives: bool


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int
    page: int
    pages: int
    truncated: bool  # the database's limit was reached: older cases were not searched
    limit: int


def beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), SHANGHAI)


def units_under(directory: Directory, scope: Sequence[str] | None, org_unit: str | None) -> list[str] | None:
    """The org unit codes searched: the chosen unit's subtree within the viewer's scope (None: all)."""
    if not org_unit:
        return None if scope is None else list(scope)
    subtree = [c for c in directory.units if c == org_unit or c.startswith(org_unit + ".")]
    return subtree if scope is None else [c for c in subtree if c in scope]


class Candidate:
    """One case the database found, its audit record and data read only when a check needs them."""

    def __init__(self, context: WebContext, hit: CaseHit, policy: AuditPolicy) -> None:
        self.context, self.hit, self.policy = context, hit, policy

    @cached_property
    def events(self) -> list[AuditEvent]:
        return self.context.engine.events(self.hit.id)

    @cached_property
    def data(self) -> dict[str, Any]:
        return dict(self.context.engine.get(self.hit.id).data)

    @cached_property
    def decided(self) -> Decision | None:
        record = self.context.engine.instance_record(self.hit.id)
        return decision_of(self.context.settings.processes_dir, record, self.events, self.context.engine)

    def id_numbers(self) -> set[str]:
        """The applicant's 身份证号 (as the engine reads it) and every household member's, upper-cased."""
        found = [applicant(self.data)[1], *id_numbers(household(self.data))]
        return {n.upper() for n in found if n}

    def names(self) -> list[str]:
        people = household(self.data)
        found = [people.applicant.get("name"), *(m.get("name") for m in people.members)]
        return [n for n in found if isinstance(n, str)]

    def hit_row(self) -> Hit:
        context, hit = self.context, self.hit
        people = household(self.data)
        decided = self.decided
        filing = set(self.policy.filing_tasks.get(hit.process_id, ()))
        return Hit(
            instance_id=hit.id,
            case_no=hit.business_key or hit.id[:8],
            procedure=context.process_name(hit.process_id),
            org_name=context.directory().unit_name(hit.org_unit),
            applicant=people.applicant.get("name"),
            id_masked=mask_id(people.applicant.get("id_number")),
            status=STATUS_LABELS.get(hit.status, hit.status),
            started_at=hit.created_at,
            outcome=OUTCOME_LABELS.get(decided.outcome, decided.outcome) if decided else None,
            decided_at=decided.decided_at if decided else None,
            overdue=any(e.type == OVERDUE_EVENT for e in self.events),
            relatives=any(e.type == "task_completed" and e.element_id in filing for e in self.events),
        )


def _decided_as(terms: Terms, decided: Decision | None) -> bool:
    if terms.outcome == PENDING:
        return decided is None
    if decided is None:
        return not terms.needs_decision()
    if terms.outcome and decided.outcome != terms.outcome:
        return False
    if terms.outcomes and decided.outcome not in terms.outcomes:
        return False
    day = day_of(decided.decided_at)
    return not (
        (terms.decided_from and day < terms.decided_from) or (terms.decided_until and day > terms.decided_until)
    )


def matching(
    context: WebContext, scope: Sequence[str] | None, terms: Terms, policy: AuditPolicy, *, limit: int
) -> tuple[list[Candidate], bool]:
    """The cases that meet every term, newest first, and whether the database's limit cut the search short."""
    until = terms.started_until
    if terms.decided_until is not None and (until is None or terms.decided_until < until):
        until = terms.decided_until  # a case decided by D was started by D
    query = CaseFilter(
        org_units=units_under(context.directory(), scope, terms.org_unit),
        process_id=terms.process_id,
        id_number=terms.id_number,
        started_from=beijing_midnight(terms.started_from) if terms.started_from else None,
        started_before=beijing_midnight(until + timedelta(days=1)) if until else None,
        actor=terms.handled_by,
        overdue=terms.overdue,
        relatives=terms.relatives,
        filing_tasks=policy.all_filing_tasks(),
        mentions=terms.name,
    )
    hits = find_cases(context.engine, query, limit=limit)
    found = [Candidate(context, h, policy) for h in hits]
    if terms.id_number:  # the database found it on the chain; the household as it stands now decides
        found = [c for c in found if terms.id_number.upper() in c.id_numbers()]
    if terms.name:
        found = [c for c in found if any(terms.name in n for n in c.names())]
    if terms.needs_decision() or terms.outcome == PENDING:
        found = [c for c in found if _decided_as(terms, c.decided)]
    return found, len(hits) >= limit


def search(
    context: WebContext,
    scope: Sequence[str] | None,
    terms: Terms,
    policy: AuditPolicy,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    limit: int = CANDIDATE_LIMIT,
) -> Results:
    found, truncated = matching(context, scope, terms, policy, limit=limit)
    pages = max(1, -(-len(found) // page_size))
    page = min(max(1, page), pages)
    shown = found[(page - 1) * page_size : page * page_size]
    return Results([c.hit_row() for c in shown], len(found), page, pages, truncated, limit)
