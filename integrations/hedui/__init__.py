"""The 核对 adapter: household economic-status checks (居民家庭经济状况核对).

``check.py`` holds the interface (:class:`HouseholdCheck`) and the verdict
rules, ``simulated.py`` a deterministic data source read from a file for the
demo and the tests, ``connector.py`` the engine connector ``hedui`` that
service tasks call.
"""

from integrations.hedui.check import CheckReport, CheckRequest, Finding, HouseholdCheck, Member
from integrations.hedui.connector import HeduiConnector
from integrations.hedui.simulated import SimulatedCheck

__all__ = ["CheckReport", "CheckRequest", "Finding", "HeduiConnector", "HouseholdCheck", "Member", "SimulatedCheck"]
