"""Resolving and checking the forms user tasks refer to, once per deployment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.deploy.model import SourceFile
from engine.errors import Location, Problem
from engine.forms.validate import FormRef, check_form_schema, check_ui_schema, load_form_json

SCHEMA_PROPERTY = "formJsonSchemaFilename"
UI_SCHEMA_PROPERTY = "formUiSchemaFilename"


@dataclass
class _Loaded:
    source: SourceFile
    data: Any


class FormLoader:
    """Caches by (BPMN file, form file) so one broken form is reported once."""

    def __init__(self, resolve: Callable[[str, str], SourceFile | None]) -> None:
        self.resolve = resolve
        self.files: dict[str, SourceFile] = {}
        self.problems: list[Problem] = []
        self._loaded: dict[tuple[str, str], _Loaded | None] = {}
        self._forms: dict[tuple[str, str, str | None], FormRef | None] = {}

    def form(self, bpmn_file: str, properties: dict[str, Any], location: Location) -> FormRef | None:
        schema_name = properties.get(SCHEMA_PROPERTY)
        ui_name = properties.get(UI_SCHEMA_PROPERTY)
        if not schema_name and not ui_name:
            return None
        if not schema_name:
            message = f"只配置了界面配置 {UI_SCHEMA_PROPERTY}，缺少表单 schema（{SCHEMA_PROPERTY}）"
            self.problems.append(Problem("FORM_MISSING", message, location))
            return None
        key = (bpmn_file, str(schema_name), str(ui_name) if ui_name else None)
        if key not in self._forms:
            self._forms[key] = self._build(bpmn_file, key[1], key[2], location)
        return self._forms[key]

    def _build(self, bpmn_file: str, schema_name: str, ui_name: str | None, location: Location) -> FormRef | None:
        schema = self._load(bpmn_file, schema_name, location)
        ui = self._load(bpmn_file, ui_name, location) if ui_name else None
        if schema is None or (ui_name and ui is None):
            return None
        found = check_form_schema(schema.data, location=location)
        if ui is not None:
            found += check_ui_schema(ui.data, location=location)
        for problem in found:
            self.problems.append(Problem(problem.code, f"表单 {schema_name}：{problem.message}", problem.location))
        if found:
            return None
        return FormRef(schema.source.name, schema.data, ui.source.name if ui else None, ui.data if ui else None)

    def _load(self, bpmn_file: str, name: str, location: Location) -> _Loaded | None:
        key = (bpmn_file, name)
        if key in self._loaded:
            return self._loaded[key]
        self._loaded[key] = None
        try:
            source = self.resolve(bpmn_file, name)
        except Exception as exc:  # a resolver bug still refuses, located
            reason = getattr(exc, "message", None) or str(exc)
            self.problems.append(Problem("FORM_MISSING", f"读取表单文件 {name} 失败：{reason}", location))
            return None
        if source is None:
            self.problems.append(Problem("FORM_MISSING", f"找不到表单文件 {name}", location))
            return None
        data, error = load_form_json(source.name, source.content)
        if error:
            self.problems.append(Problem("FORM_SCHEMA_INVALID", error, location))
            return None
        self.files.setdefault(source.name, source)
        self._loaded[key] = _Loaded(source, data)
        return self._loaded[key]
