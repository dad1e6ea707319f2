"""Three real 低保 cases of the demo county for the auditors' search and
sampling: 赵大勇's (下庄村, 西湾镇) accepted and filed as a 近亲属 case, 王德顺's
(上庄村, 西湾镇) waiting for 受理, and 周明's (石桥村, 南山镇) through 审核确认
(approved by the county), which started his 一件事联办 case. The twelve days 周明's 公示 takes pass while 赵大勇's
调查 has not started, so his 启动调查 limit runs out (超期)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from fastapi.testclient import TestClient

from engine.clock import SHANGHAI, FixedClock
from integrations.sql.store import SqlStore
from jiuzhu.accounts import hash_password
from jiuzhu.demo_cases import ACCEPT, application, load_households, opening, relatives_filing
from tests.support import decided_cases as dc
from tests.support.web_support import PASSWORD, WebWorld

ZHAO, WANG, ZHOU = "赵大勇", "王德顺", "周明"
ZHOU_JOINT = "周明（一件事）"  # the 一件事联办 case 周明's approval started
TOWNSHIP_AUDITOR = "audit_xiwan"  # an auditor of 西湾镇: sees its villages only


@dataclass
class AuditWorld:
    web: WebWorld
    clock: FixedClock
    ids: dict[str, str]  # family → instance id
    clients: dict[str, TestClient] = field(default_factory=dict)

    def client(self, username: str) -> TestClient:
        """One signed-in client per user (signing in hashes the password: slow on purpose)."""
        if username not in self.clients:
            self.clients[username] = self.web.signed_in(username)
        return self.clients[username]

    def id_number(self, family: str, member: str | None = None) -> str:
        """The applicant's 身份证号, or the household member's named ``member``."""
        application = load_households()[family]["application"]
        if member is None:
            number: str = application["applicant"]["id_number"]
            return number
        return next(str(m["id_number"]) for m in application["members"] if m["name"] == member)


def _open(world: WebWorld, clock: FixedClock, family: str) -> str:
    household = load_households()[family]
    engine = world.engine
    iid = engine.start(
        "dibao", opening(household), actor="system", org_unit=household["org_unit"], region="CN"
    ).record.id
    today = clock.now().astimezone(SHANGHAI).date().isoformat()
    dc.do(engine, iid, "db_apply", application(household, today), "申请人")
    return iid


def audit_world(make_store: Callable[[], SqlStore], clock: FixedClock, db_url: str) -> AuditWorld:
    engine = dc.dibao_engine(make_store(), clock)
    world = dc.dibao_web(engine, db_url)
    base = world.context.accounts.find_user("audit")
    assert base is not None
    township = replace(base, username=TOWNSHIP_AUDITOR, org_unit="qinghe.xiwan", password_hash=hash_password(PASSWORD))
    world.context.accounts.save_users([township])
    zhao = _open(world, clock, ZHAO)
    dc.do(engine, zhao, "db_accept", ACCEPT, "jb_xiwan")
    dc.do(engine, zhao, "db_register_relatives", relatives_filing("QH-BA-2026-001"), "jb_xiwan")
    wang = _open(world, clock, WANG)
    zhou = dc.decided(engine, clock, dc.APPROVE)
    joint = engine.get(zhou).data["yijianshi_case"]["instance_id"]
    return AuditWorld(world, clock, {ZHAO: zhao, WANG: wang, ZHOU: zhou, ZHOU_JOINT: joint})
