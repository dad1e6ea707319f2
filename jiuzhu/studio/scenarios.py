"""Rules as tests: a procedure's Chinese Gherkin scenarios run against a draft.

The run is the suite's own: the procedure's feature module
(``tests/features/test_<id>.py``, pytest-bdd; for a procedure without one, the
generic binding ``tests/features/procedure_scenarios.py`` over the draft's
feature files) in a ``python -m pytest`` of its own, over a copy of
``processes/``, ``forms/`` and ``features/`` with the draft written in
(:mod:`jiuzhu.studio.scenario_files`; the feature worlds read their folders
from ``JIUZHU_SCENARIO_PROCESSES_DIR`` / ``JIUZHU_SCENARIO_FORMS_DIR``, see
``tests/conftest.py``). The worlds run on their injected clock and a SQLite
file in the run's temporary folder (:mod:`jiuzhu.studio.scenario_plugin` keeps
only that lifecycle), so nothing of the server's database or clock is touched.

Synchronous, bounded, off the event loop: a run takes 10–30 s; the publish
check has to wait for its answer anyway, and the run endpoint is a plain
``def`` route (Starlette's thread pool), so no request worker of the event
loop is held. One run at a time per process (each is a CPU-bound pytest):
a second waits for the first, within the same time limit
(``JIUZHU_STUDIO_SCENARIO_SECONDS``); past it the subprocess group is killed
and the run counts as failed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET

from jiuzhu.settings import ROOT
from jiuzhu.studio.scenario_files import lay_out, suite_for

_RUNNING = threading.Lock()
MESSAGE_LIMIT = 300
# Plugins the feature modules never use; not loading them halves the run's start-up.
UNUSED_PLUGINS = ("cacheprovider", "cov", "schemathesis", "hypothesispytest", "anyio")


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    feature: str
    passed: bool
    step: str | None = None  # the failing step, keyword and text as written ("并且 「公示」的期限是 …")
    message: str | None = None  # the step's own Chinese assertion message, when it has one


@dataclass(frozen=True)
class ScenarioRun:
    process_id: str
    outcome: str  # passed | failed | error | timeout | none (no scenarios)
    results: tuple[ScenarioResult, ...] = ()
    seconds: float = 0.0
    message: str = ""
    output: str = field(default="", repr=False)  # pytest's tail, for an error the results cannot explain

    @property
    def failed(self) -> list[ScenarioResult]:
        return [r for r in self.results if not r.passed]

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["results"] = [asdict(r) for r in self.results]
        body["passed"] = self.outcome in ("passed", "none")
        return body


def run_scenarios(
    process_id: str,
    files: Mapping[str, bytes],
    *,
    timeout: float,
    names: Sequence[str] | None = None,
    root: Path = ROOT,
) -> ScenarioRun:
    """Run the procedure's scenarios (or only those ``names``) against ``files``."""
    suite = suite_for(process_id, files, root)
    if suite is None:
        return ScenarioRun(process_id, "none", message=f"流程 {process_id} 没有场景（features/{process_id}.feature）")
    started = time.monotonic()
    if not _RUNNING.acquire(timeout=timeout):
        return ScenarioRun(process_id, "timeout", message="另一次场景运行未在时限内结束，请稍后再试")
    try:
        with tempfile.TemporaryDirectory(prefix="jiuzhu-scenarios-") as folder:
            work = Path(folder)
            lay_out(work, process_id, files, root)
            left = max(1.0, timeout - (time.monotonic() - started))
            return _run(suite.process_id, suite.test_module, work, left, names, root, started)
    finally:
        _RUNNING.release()


def _command(test_module: str, work: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        test_module,
        "-p",
        "jiuzhu.studio.scenario_plugin",
        *[arg for plugin in UNUSED_PLUGINS for arg in ("-p", f"no:{plugin}")],
        "-q",
        "-o",
        f"bdd_features_base_dir={work / 'features'}",
        f"--junitxml={work / 'junit.xml'}",
        f"--cucumberjson={work / 'cucumber.json'}",
        f"--basetemp={work / 'tmp'}",
    ]


def _environment(process_id: str, work: Path, names: Sequence[str] | None, root: Path) -> dict[str, str]:
    # Nothing of a surrounding pytest (or its coverage) reaches the run.
    inherited = ("JIUZHU_SCENARIO_", "PYTEST_", "COV_CORE_", "COVERAGE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env |= {
        "JIUZHU_SCENARIO_PROCESS_ID": process_id,  # what the generic binding binds (GENERIC_MODULE)
        "PYTHONPATH": os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "JIUZHU_SCENARIO_PROCESSES_DIR": str(work / "processes"),
        "JIUZHU_SCENARIO_FORMS_DIR": str(work / "forms"),
        "JIUZHU_SCENARIO_FEATURES_DIR": str(work / "features"),
    }
    if names is not None:
        env["JIUZHU_SCENARIO_NAMES"] = json.dumps(list(names), ensure_ascii=False)
    return env


def _run(
    process_id: str,
    test_module: str,
    work: Path,
    timeout: float,
    names: Sequence[str] | None,
    root: Path,
    started: float,
) -> ScenarioRun:
    process = subprocess.Popen(
        _command(test_module, work),
        cwd=root,
        env=_environment(process_id, work, names, root),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so a timeout ends everything it started
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        message = f"场景运行超过时限（{timeout:.0f} 秒）被终止"
        return ScenarioRun(process_id, "timeout", seconds=time.monotonic() - started, message=message)
    seconds = round(time.monotonic() - started, 1)
    tail = output.decode("utf-8", errors="replace")[-4000:]
    results = read_results(work / "junit.xml", work / "cucumber.json")
    if not results:
        return ScenarioRun(process_id, "error", seconds=seconds, message=_error_line(tail), output=tail)
    outcome = "failed" if any(not r.passed for r in results) else "passed"
    return ScenarioRun(process_id, outcome, tuple(results), seconds, output=tail if outcome != "passed" else "")


def _error_line(output: str) -> str:
    if "No module named pytest" in output:
        return "场景运行需要测试依赖（pytest、pytest-bdd），本服务器未安装：pip install -e '.[test]'"
    for line in output.splitlines():
        if line.startswith(("E ", "ERROR", "FAILED")) or "Error" in line:
            return f"场景未能运行：{line.strip()[:MESSAGE_LIMIT]}"
    return "场景未能运行（没有得到任何场景结果）"


def read_results(junit: Path, cucumber: Path) -> list[ScenarioResult]:
    """One result per test of the junit report; the scenario's name and its
    first failing step come from pytest-bdd's cucumber report (keyed by the same test name)."""
    if not junit.is_file():
        return []
    elements: dict[str, dict[str, Any]] = {}
    features: dict[str, str] = {}
    if cucumber.is_file():
        for feature in json.loads(cucumber.read_text(encoding="utf-8") or "[]"):
            for element in feature.get("elements", []):
                elements[element.get("id", "")] = element
                features[element.get("id", "")] = Path(feature.get("uri", "")).name
    results = []
    for case in SafeET.parse(junit).getroot().iter("testcase"):
        test = case.get("name", "")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        element = elements.get(test, {})
        step = _failing_step(element) if problem is not None else None
        message = _message(problem.get("message", "")) if problem is not None else None
        name = element.get("name") or test
        results.append(ScenarioResult(name, features.get(test, ""), problem is None, step, message))
    return results


def _failing_step(element: Mapping[str, Any]) -> str | None:
    for step in element.get("steps", []):
        if step.get("result", {}).get("status") == "failed":
            return f"{step.get('keyword', '').strip()} {step.get('name', '')}".strip()
    return None


def _message(raw: str) -> str:
    first = raw.split("\n", 1)[0].strip()
    for prefix in ("AssertionError: ", "AssertionError"):
        if first.startswith(prefix):
            first = first[len(prefix) :].strip()
    return first[:MESSAGE_LIMIT]


def problems_of(run: ScenarioRun) -> list[dict[str, Any]]:
    """The run as publish problems (the lint problem shape): one per failing scenario."""
    if run.outcome in ("passed", "none"):
        return []
    if not run.results:
        code = "SCENARIO_TIMEOUT" if run.outcome == "timeout" else "SCENARIO_RUN_ERROR"
        return [_problem(code, run.message, None, None, None)]
    out = []
    for result in run.failed:
        where = f"在步骤「{result.step}」" if result.step else "在开始前"
        detail = f"：{result.message}" if result.message else ""
        message = f"场景「{result.name}」未通过，{where}失败{detail}"
        out.append(_problem("SCENARIO_FAILED", message, result.feature, result.name, result.step))
    return out


def _problem(code: str, message: str, feature: str | None, scenario: str | None, step: str | None) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "file": f"features/{feature}" if feature else None,
        "element_id": None,
        "field": scenario,
        "severity": "error",
        "scenario": scenario,
        "step": step,
    }


@dataclass(frozen=True)
class ScenarioCheck:
    """The publish check (``app.state.studio_publish_checks``): a draft that
    breaks one of its procedure's scenarios is refused, naming scenario and step.
    ``names``: only those scenarios (None: all of them)."""

    timeout: float
    names: tuple[str, ...] | None = None
    root: Path = ROOT

    def __call__(self, process_id: str, files: Mapping[str, bytes]) -> list[dict[str, Any]]:
        run = run_scenarios(process_id, files, timeout=self.timeout, names=self.names, root=self.root)
        return problems_of(run)
