"""Loading the project's and the corpus's forms for the renderer tests."""

from __future__ import annotations

import json
from pathlib import Path

from jiuzhu.web.formrender import Form, compile_form
from tests.conftest import ROOT

FORMS = ROOT / "forms"
SPIFF = ROOT / "tests" / "corpora" / "spiff"


def ui_path(schema: Path) -> Path:
    return schema.with_name(schema.name.removesuffix("-schema.json") + "-uischema.json")


def compile_path(schema: Path) -> Form:
    ui = ui_path(schema)
    return compile_form(
        json.loads(schema.read_text(encoding="utf-8")),
        json.loads(ui.read_text(encoding="utf-8")) if ui.exists() else None,
        source=schema.name,
        ui_source=ui.name if ui.exists() else None,
    )


def project_form(name: str) -> Form:
    [path] = FORMS.rglob(f"{name}-schema.json")
    return compile_path(path)
