"""The public surface of ``engine`` is deliberate: changing it fails here."""

import engine
from tests.conftest import ROOT


def test_public_names_are_pinned() -> None:
    assert sorted(engine.__all__) == [
        "AuditEvent", "CalendarResult", "Clock", "ConflictError", "Connector", "ConnectorError", "Connectors",
        "DeployResult", "Deployment", "DeploymentRefused", "Engine", "FieldError", "FixedClock",
        "FormValidationError", "InstanceRun", "InstanceStateError", "InstanceView", "InvalidRequestError",
        "JiuzhuError", "Location", "NotFoundError", "Parameter", "Problem", "ProcessDefinition", "Sandbox",
        "ScriptError", "SourceFile",
        "SystemClock", "Verdict", "WorkCalendar", "build_deployment", "load_files",
    ]  # fmt: skip
    for name in engine.__all__:
        assert getattr(engine, name) is not None


def test_core_never_reads_the_wall_clock() -> None:
    # Which web, SQL and Redis packages the core may not import: tests/test_architecture.py.
    for path in (ROOT / "engine").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if path == ROOT / "engine" / "clock.py":
            continue
        for call in ("datetime.now(", "date.today(", "datetime.utcnow(", "time.time("):
            assert call not in source, f"{path.relative_to(ROOT)} calls {call}"


def test_every_setting_is_documented_in_the_readme() -> None:
    from jiuzhu.settings import SETTINGS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [s.name for s in SETTINGS if s.name not in readme] == []
