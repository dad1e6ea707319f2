"""A deterministic stand-in for the county check centre, for the demo and the tests.

Records are keyed by 身份证号 in a JSON file (``demo/hedui_records.json``);
an ID number without a record has nothing registered anywhere. The verdict
thresholds are in the same file, each with its source, because they are
local policy (Kunming's 低边 asset rules, assistance-rules.md §6).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from integrations.hedui.check import CheckReport, CheckRequest, Finding, Member, NotAuthorised


def _money(value: float) -> float:
    return round(float(value) + 1e-9, 2)


class SimulatedCheck:
    def __init__(self, records: dict[str, Any], rules: dict[str, Any], *, source: str) -> None:
        self.records = records
        self.rules = rules
        self.source = source

    @classmethod
    def from_file(cls, path: Path) -> SimulatedCheck:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["records"], data["rules"], source=f"模拟核对数据源（{path.name}）")

    def check(self, request: CheckRequest) -> CheckReport:
        unsigned = [m.name for m in request.members if m.adult and not m.authorised]
        if unsigned:
            raise NotAuthorised(f"成年家庭成员未签署授权核对声明：{'、'.join(unsigned)}")
        findings = [f for member in request.members for f in self._findings(member)]
        income = _money(sum(f.value for f in findings if f.category in ("tax", "social_insurance")))
        per_capita = _money(income / max(len(request.members), 1))
        reasons = self._reasons(findings, per_capita, request)
        digest = hashlib.sha256("|".join(sorted(m.id_number for m in request.members)).encode()).hexdigest()
        return CheckReport(
            report_no=f"HD-{digest[:10].upper()}",
            eligible=not reasons,
            reasons=tuple(reasons),
            findings=tuple(findings),
            monthly_income=income,
            per_capita_income=per_capita,
            source=self.source,
        )

    def _findings(self, member: Member) -> list[Finding]:
        record = self.records.get(member.id_number, {})

        def found(category: str, summary: str, value: float = 0.0) -> Finding:
            return Finding(category, member.id_number, member.name, summary, _money(value))

        out = [found("registration", record.get("registration", "户籍信息与申报一致"))]
        if record.get("monthly_wage"):
            out.append(found("tax", f"工资薪金收入 {record['monthly_wage']} 元/月", record["monthly_wage"]))
        if record.get("monthly_pension"):
            out.append(
                found("social_insurance", f"领取养老金 {record['monthly_pension']} 元/月", record["monthly_pension"])
            )
        for estate in record.get("real_estate", []):
            out.append(found("real_estate", f"{estate['use']} {estate['area']} 平方米（{estate['place']}）"))
        for vehicle in record.get("vehicles", []):
            out.append(found("vehicles", f"{vehicle['kind']}，购置价 {vehicle['value']} 元", vehicle["value"]))
        if record.get("deposits"):
            out.append(found("deposits", f"银行存款合计 {record['deposits']} 元", record["deposits"]))
        for business in record.get("business", []):
            out.append(found("business", f"{business}（存续）"))
        return out

    def _reasons(self, findings: list[Finding], per_capita: float, request: CheckRequest) -> list[str]:
        rules, reasons = self.rules, []
        persons = max(len(request.members), 1)
        if per_capita >= request.monthly_standard:
            reasons.append(f"经核对家庭月人均收入 {per_capita} 元，不低于当地低保标准 {request.monthly_standard} 元")
        deposits = sum(f.value for f in findings if f.category == "deposits")
        if deposits > rules["deposits_per_person"] * persons:
            reasons.append(f"家庭银行存款 {_money(deposits)} 元，超过人均 {rules['deposits_per_person']} 元的限额")
        homes = [f for f in findings if f.category == "real_estate" and f.summary.startswith("住宅")]
        if len(homes) > rules["max_homes"]:
            reasons.append(f"家庭拥有住房 {len(homes)} 套，超过 {rules['max_homes']} 套")
        if any(f.category == "real_estate" and not f.summary.startswith("住宅") for f in findings):
            reasons.append("家庭拥有非居住类房产")
        if any(f.category == "vehicles" and f.value > rules["max_vehicle_value"] for f in findings):
            reasons.append(f"家庭拥有购置价超过 {rules['max_vehicle_value']} 元的机动车")
        if any(f.category == "business" for f in findings):
            reasons.append("家庭成员登记有存续的经营主体")
        return reasons
