"""What a household economic-status check asks and answers.

民发〔2021〕57号 第17条: the county's check centre queries registration, tax,
social insurance, real estate, business registration, vehicles, deposits…
for every member of the household, on the members' written authorisation,
and reports per category. Whatever platform answers (a provincial 核对平台,
the simulated source), it is a :class:`HouseholdCheck`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

CATEGORIES = {
    "registration": "户籍",
    "tax": "纳税（工资薪金等收入）",
    "social_insurance": "社会保险",
    "real_estate": "不动产",
    "vehicles": "车辆",
    "deposits": "银行存款",
    "business": "工商登记",
}


@dataclass(frozen=True)
class Member:
    id_number: str
    name: str
    adult: bool
    authorised: bool  # signed the 授权核对声明


@dataclass(frozen=True)
class CheckRequest:
    members: Sequence[Member]
    monthly_standard: float  # the local 低保 standard, 元/人·月: what income is compared with


@dataclass(frozen=True)
class Finding:
    category: str
    id_number: str
    name: str
    summary: str
    value: float = 0.0  # income per month, deposits, vehicle value… in 元 where it applies


@dataclass(frozen=True)
class CheckReport:
    report_no: str
    eligible: bool
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...]
    monthly_income: float  # verified household income per month
    per_capita_income: float
    source: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        by_category: dict[str, list[dict[str, Any]]] = {key: [] for key in CATEGORIES}
        for finding in self.findings:
            by_category[finding.category].append({k: v for k, v in asdict(finding).items() if k != "category"})
        return {
            "report_no": self.report_no,
            "eligible": self.eligible,
            "verdict": "符合" if self.eligible else "不符合",
            "reasons": list(self.reasons),
            "findings": by_category,
            "monthly_income": self.monthly_income,
            "per_capita_income": self.per_capita_income,
            "source": self.source,
            **self.extra,
        }


class NotAuthorised(Exception):
    """An adult member has not signed the authorisation: the check must not run."""


class HouseholdCheck(Protocol):
    def check(self, request: CheckRequest) -> CheckReport: ...
