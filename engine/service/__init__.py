"""The engine facade and the one step pipeline behind it."""

from engine.service.core import SYSTEM_CHAIN, ClockStatus, DeployResult, InstanceView
from engine.service.facade import Engine

__all__ = ["SYSTEM_CHAIN", "ClockStatus", "DeployResult", "Engine", "InstanceView"]
