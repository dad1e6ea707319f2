"""Engine.version_source: the model file a version was deployed from."""

from __future__ import annotations

import pytest

from engine.errors import NotFoundError
from engine.service.facade import Engine
from tests.conftest import SAMPLE


def test_version_source_is_the_deployed_file_byte_for_byte(sample_engine: Engine) -> None:
    source = sample_engine.version_source("material_review", 1)
    assert source.content == SAMPLE.read_bytes() and source.name.endswith("material_review.bpmn")
    with pytest.raises(NotFoundError) as missing:
        sample_engine.version_source("material_review", 2)
    assert missing.value.code == "VERSION_NOT_FOUND"
