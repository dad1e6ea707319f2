"""The engine facade and the one step pipeline behind it."""

from engine.service.facade import SYSTEM_CHAIN, ClockStatus, DeployResult, Engine, InstanceView

__all__ = ["SYSTEM_CHAIN", "ClockStatus", "DeployResult", "Engine", "InstanceView"]
