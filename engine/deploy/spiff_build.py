"""The one place deployment talks to SpiffWorkflow's parser.

Its exceptions are uneven: ``ValidationException`` sometimes lacks the id or
tag, messages embed lxml element reprs, and a few paths raise ``KeyError`` or
``AttributeError`` (style notes B.6). Everything raised here becomes a located
:class:`Problem`; nothing else escapes.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.deploy.model_xml import XmlDoc
from engine.errors import Problem

T = TypeVar("T")

_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>")
_BYTES_REPR = re.compile(r"b'<[^']{120,}'")


def clean_message(exc: BaseException) -> str:
    text = (str(exc) or type(exc).__name__).strip().replace("..", ".")
    text = _ELEMENT_REPR.sub(lambda m: m.group(1), text)
    text = _BYTES_REPR.sub("<…>", text)
    notes = [n for n in getattr(exc, "notes", []) or [] if isinstance(n, str)]
    if notes:
        text = f"{text}（{'；'.join(notes)}）"
    return text if len(text) <= 400 else text[:400] + "…"


class SpiffBuild:
    """A fresh parser for one deployment (parser state is sticky, notes §2.1)."""

    def __init__(self, docs: dict[str, XmlDoc]) -> None:
        self.parser = SpiffBpmnParser()
        self.docs = docs
        self.problems: list[Problem] = []

    def attempt(self, action: Callable[[], T], doc: XmlDoc, fallback: Any, code: str = "BPMN_PARSE") -> T | None:
        try:
            with warnings.catch_warnings():
                # The spiff parser warns when a message payload sits on bpmn:message,
                # which is where it belongs (notes §2.8); it is not a finding.
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"SpiffWorkflow\.")
                return action()
        except ValidationException as exc:
            self.problems.append(self._validation_problem(exc, doc, fallback, code))
        except Exception as exc:
            message = f"SpiffWorkflow 无法处理该模型：{type(exc).__name__}: {clean_message(exc)}"
            self.problems.append(Problem(code, message, doc.locate(fallback)))
        return None

    def _validation_problem(self, exc: ValidationException, doc: XmlDoc, fallback: Any, code: str) -> Problem:
        doc = self.docs.get(getattr(exc, "file_name", "") or "", doc)
        element_id = getattr(exc, "id", "") or ""
        line = getattr(exc, "line_number", None)
        if element_id and element_id in doc.by_id:
            location = doc.locate(doc.by_id[element_id])
        elif isinstance(line, int) and line > 0:
            location = doc.locate_line(line, fallback)
        else:
            location = doc.locate(fallback)
        return Problem(code, f"SpiffWorkflow 拒绝了该模型：{clean_message(exc)}", location)

    def add_bpmn(self, doc: XmlDoc) -> bool:
        before = len(self.problems)
        self.attempt(lambda: self.parser.add_bpmn_xml(doc.root, filename=doc.file), doc, doc.root)
        return len(self.problems) == before

    def add_dmn(self, doc: XmlDoc) -> Any:
        """Register a DMN file and return its parsed decision (None on failure)."""

        def add() -> Any:
            self.parser.add_dmn_xml(doc.root, filename=doc.file)
            dmn_parser = next(p for p in self.parser.dmn_parsers.values() if p.filename == doc.file)
            dmn_parser.parse()
            return dmn_parser.decision

        return self.attempt(add, doc, doc.root, code="DMN_INVALID")

    def build(self, process_id: str, doc: XmlDoc, process: Any) -> tuple[Any, dict[str, Any]] | None:
        def get() -> tuple[Any, dict[str, Any]]:
            return self.parser.get_spec(process_id), self.parser.get_subprocess_specs(process_id)

        return self.attempt(get, doc, process)
