"""Jiuzhu's deterministic core. Collaborators (store, clock, sandbox) come in
as arguments; nothing here imports a web framework, SQL or Redis."""

from engine.audit import AuditEvent, Verdict
from engine.clock import Clock, FixedClock, SystemClock
from engine.deploy.builder import build_deployment
from engine.deploy.model import Deployment, ProcessDefinition, SourceFile, load_files
from engine.errors import (
    ConflictError,
    DeploymentRefused,
    FieldError,
    FormValidationError,
    InstanceStateError,
    InvalidRequestError,
    JiuzhuError,
    Location,
    NotFoundError,
    Problem,
    ScriptError,
)
from engine.runtime.connectors import Connector, ConnectorError, Connectors, Parameter
from engine.runtime.run import InstanceRun
from engine.sandbox.scripts import Sandbox
from engine.service.facade import DeployResult, Engine, InstanceView
from engine.workcal.calendar import CalendarResult, WorkCalendar

__all__ = [
    "AuditEvent",
    "CalendarResult",
    "Clock",
    "ConflictError",
    "Connector",
    "ConnectorError",
    "Connectors",
    "DeployResult",
    "Deployment",
    "DeploymentRefused",
    "Engine",
    "FieldError",
    "FixedClock",
    "FormValidationError",
    "InstanceRun",
    "InstanceStateError",
    "InstanceView",
    "InvalidRequestError",
    "JiuzhuError",
    "Location",
    "NotFoundError",
    "Parameter",
    "Problem",
    "ProcessDefinition",
    "Sandbox",
    "ScriptError",
    "SourceFile",
    "SystemClock",
    "Verdict",
    "WorkCalendar",
    "build_deployment",
    "load_files",
]
