"""A version carries the scenario it was published with: the next draft made
from it holds that scenario, and the publish check runs it, not the
checkout's. 低保 with 公示 cut to 5 days and its scenario updated is
published as v2; another designer's draft from v2 is checked with the updated
scenario and passes (the checkout's would fail at the 公示 step, see
tests/studio/test_scenarios.py). Each check is one real scenario run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jiuzhu.studio.scenarios import ScenarioCheck
from tests.conftest import ROOT
from tests.support.studio_versions import NORMAL, publicity_on_the_ninth
from tests.support.studio_world import shipped_dibao

SEVEN_DAYS = '"publicity": {"name": "公示", "limit": 7'
POLICY = "dibao.national.sla.json"


@pytest.mark.timeout(300)
def test_the_next_draft_is_checked_with_the_scenario_its_version_was_published_with(tmp_path: Path) -> None:
    world, _clock = shipped_dibao(tmp_path)
    check = ScenarioCheck(timeout=240, names=(NORMAL,))
    world.app.state.studio_publish_checks.append(check)
    client = world.signed_in("designer")
    h = {"X-CSRF-Token": re.search(r'data-csrf="([^"]+)"', client.get("/studio/dibao").text).group(1)}  # type: ignore[union-attr]
    draft = client.get("/api/studio/drafts/dibao").json()
    shipped = (ROOT / "features" / "dibao.feature").read_text(encoding="utf-8")
    assert draft["files"]["dibao.feature"] == shipped  # v1 came from the checkout: its scenarios are the checkout's
    updated = publicity_on_the_ninth(shipped)
    revision = draft["revision"]
    for name, text in ((POLICY, draft["files"][POLICY].replace(SEVEN_DAYS, SEVEN_DAYS[:-1] + "5")),
                       ("dibao.feature", updated)):  # fmt: skip
        headers = {**h, "If-Match": str(revision), "Content-Type": "text/plain; charset=utf-8"}
        saved = client.put(f"/api/studio/drafts/dibao/files/{name}", content=text.encode(), headers=headers).json()
        assert saved["problems"] == [], saved
        revision = saved["revision"]
    published = client.post("/api/studio/drafts/dibao/publish", json={"note": "公示缩短为5个工作日"}, headers=h)
    assert published.status_code == 200, published.text
    v2 = client.get("/api/studio/procedures/dibao/versions/2/files").json()["files"]
    assert v2["dibao.feature"] == updated and '"limit": 5' in v2[POLICY]
    # Another designer's draft from v2 holds v2's scenario, and the check runs that one.
    other = world.signed_in("admin").get("/api/studio/drafts/dibao").json()
    assert other["base_version"] == 2 and other["files"] == v2
    assert check("dibao", {name: text.encode() for name, text in other["files"].items()}) == []
