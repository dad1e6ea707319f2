"""The ``hedui`` connector: a service task's call to the household check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.runtime.connectors import ConnectorError, Parameter
from integrations.hedui.check import CheckRequest, HouseholdCheck, Member, NotAuthorised


class HeduiConnector:
    name = "hedui"
    title = "家庭经济状况信息核对"
    parameters: Sequence[Parameter] = (
        Parameter("members", "家庭成员（身份证号、姓名、是否成年、是否已授权核对）", type="list"),
        Parameter("monthly_standard", "当地月低保标准（元/人·月）", type="float"),
    )

    def __init__(self, check: HouseholdCheck) -> None:
        self.check = check

    def call(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            members = [
                Member(str(m["id_number"]), str(m["name"]), bool(m["adult"]), bool(m["authorised"]))
                for m in params["members"]
            ]
            standard = float(params["monthly_standard"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConnectorError(f"核对请求不完整：{exc}", code="HEDUI_REQUEST") from None
        if not members:
            raise ConnectorError("核对请求中没有家庭成员", code="HEDUI_REQUEST")
        try:
            return self.check.check(CheckRequest(members, standard)).to_dict()
        except NotAuthorised as exc:
            raise ConnectorError(str(exc), code="HEDUI_NOT_AUTHORISED") from None
