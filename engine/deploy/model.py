"""What a deployment is made of and yields: source files in, process
definitions out. :mod:`engine.deploy.builder` turns the one into the other."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InvalidRequestError, Problem
from engine.forms.validate import FormRef as FormRef

FormResolver = Callable[[str, str], "SourceFile | None"]


@dataclass(frozen=True)
class SourceFile:
    name: str  # path as given (relative), used in every error message
    content: bytes


@dataclass(frozen=True)
class UserTaskInfo:
    element_id: str  # the BPMN id; the user_tasks key is the task spec name ("x [child]" for multi-instance)
    name: str
    lane: str | None
    form: FormRef | None
    variable_name: str | None
    instructions: str | None
    # Property ``nameShowsItem``: a multi-instance task over a keyed collection is named with
    # its item ("成员单位出具意见（医保局）") in the inbox, on its page and in the timeline.
    name_shows_item: bool = False


@dataclass(frozen=True)
class ProcessDefinition:
    process_id: str
    name: str
    file: str
    spec: dict[str, Any]
    user_tasks: dict[str, UserTaskInfo]
    element_names: dict[str, str]
    timers: dict[str, str]
    # The none start event's form: what a caseworker fills in to open a case.
    start_form: FormRef | None = None
    start_event: str | None = None
    # Start event property ``oneOpenApplication``: a second open case for the
    # same applicant 身份证号 is refused (a procedure may allow several).
    one_open_per_applicant: bool = False
    # Start event property ``starterRoles``: the role codes whose users may
    # start the process (新建申请, the API for signed-in users); empty: nobody.
    starter_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deployment:
    content_hash: str
    files: tuple[SourceFile, ...]
    processes: dict[str, ProcessDefinition]
    documentation_only: tuple[str, ...]
    # Located findings that do not stop the deployment (e.g. BPMN_NO_DI: a process without a diagram).
    warnings: tuple[Problem, ...] = ()


def content_hash(files: Sequence[SourceFile]) -> str:
    digest = hashlib.sha256()
    for name, content in sorted((f.name, f.content) for f in files):
        encoded = name.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big") + encoded + len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


MODEL_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn")


def load_files(paths: Sequence[Path], forms_dir: Path | None) -> tuple[list[SourceFile], FormResolver]:
    """Model files for the CLI; forms resolve next to the BPMN file first, then in ``forms_dir``.

    In ``forms_dir`` a form is looked up directly, then in the sub-folder named
    like the BPMN file's folder (``processes/sample/x.bpmn`` → ``forms/sample/``),
    then anywhere below it if exactly one file matches (two matches are refused
    rather than guessed).
    """
    # Names are what the deployment hashes and people see: relative to the
    # folder given (or the bare file name), never where the checkout lives.
    found: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.name.lower().endswith(MODEL_SUFFIXES):
                    found[child.relative_to(path).as_posix()] = child
        elif path.is_file():
            found[path.name] = path
        else:
            raise InvalidRequestError(f"找不到文件或目录：{path}", code="FILE_NOT_FOUND")
    files = [SourceFile(name, p.read_bytes()) for name, p in found.items()]

    def resolve(bpmn_name: str, form_name: str) -> SourceFile | None:
        relative = Path(form_name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            return None  # a model must not reach outside its folders
        model = found.get(bpmn_name)
        bases = [model.parent] if model is not None else []
        if forms_dir is not None:
            bases += [forms_dir, forms_dir / (model.parent.name if model else Path(bpmn_name).parent.name)]
        for base in bases:
            candidate = base / relative
            if candidate.is_file():
                return SourceFile(relative.as_posix(), candidate.read_bytes())
        if forms_dir is None or not forms_dir.is_dir():
            return None
        matches = sorted(p for p in forms_dir.rglob(relative.name) if p.is_file() and p.match(relative.as_posix()))
        if len(matches) > 1:
            listed = ", ".join(str(m.relative_to(forms_dir)) for m in matches)
            raise InvalidRequestError(f"表单目录中有多个 {form_name}：{listed}", code="FORM_AMBIGUOUS")
        return SourceFile(relative.as_posix(), matches[0].read_bytes()) if matches else None

    return files, resolve
