"""The transaction budget (``budget_cases.py``), run in a pytest of its own without
coverage's tracer.

Under a tracer, the watchdog's asynchronous interrupt would be delivered at
points an untraced server never stops at (between taking a lock and entering
the ``with`` that would release it), so traced it only cancels statements
(:mod:`engine.sandbox.interrupt`) and the cases of a runaway Python loop would
run on. Untraced, as the server runs, they are stopped. Each database runs as
its own case, so a failure names it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CASES = "tests/integrations/sql/budget_cases.py"


@pytest.mark.parametrize("marks", ["not postgres", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_budget_cases_pass_untraced(marks: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:cov", "-m", marks, CASES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout
