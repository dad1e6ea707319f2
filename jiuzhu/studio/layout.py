"""Where a procedure's files live, and what the files of a version are.

In a checkout (and an exported zip) a procedure ``<folder>`` is laid out as
``processes/<folder>/*.bpmn``, ``*.dmn`` and ``*.decisions.json``,
``forms/<folder>/*.json`` (a user task names its form by file name, property
``formJsonSchemaFilename``) and ``processes/sla/*.sla.json`` (a policy
governs the processes its ``"processes"`` list names) and the procedure's
scenarios, ``features/<id>.feature`` (and ``<id>_*.feature``). A draft holds
the same files by bare name; the kind of a file follows from its name.

Publishing stores every one of them with the version (:func:`deployed_name`),
so a version's files are what it was published with, not what the checkout or
the policy store holds today.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from string import Template
from xml.sax.saxutils import quoteattr

from engine.errors import InvalidRequestError, Location, NotFoundError
from engine.service.facade import Engine
from integrations.sql.store import SqlUnit
from jiuzhu.settings import ROOT
from jiuzhu.studio.drafts import check_file_name
from jiuzhu.studio.scenario_files import feature_texts
from jiuzhu.studio.version_files import companions, policies_in_force

FORM_REFERENCE = re.compile(r'name="(?:formJsonSchemaFilename|formUiSchemaFilename)"\s+value="([^"]+)"')
NEW_PROCEDURE = Path(__file__).with_name("new_procedure.bpmn")
ZIP_LIMIT = 200  # files in an imported zip
ZIP_BYTES = 8 * 1024 * 1024  # uncompressed, all files together


def kind(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".sla.json"):
        return "policy"
    if lower.endswith(".decisions.json"):
        return "decisions"
    if lower.endswith(".bpmn"):
        return "bpmn"
    if lower.endswith(".dmn"):
        return "dmn"
    if lower.endswith(".feature"):
        return "feature"
    return "form"


def layout_path(name: str, folder: str) -> str:
    """Where a draft file goes in the ``processes/`` + ``forms/`` layout."""
    found = kind(name)
    if found == "policy":
        return f"processes/sla/{name}"
    if found == "feature":
        return f"features/{name}"
    if found == "form":
        return f"forms/{folder}/{name}"
    return f"processes/{folder}/{name}"


def deployed_name(name: str, folder: str) -> str:
    """The name a draft file is deployed (and stored with its version) under,
    as ``jiuzhu deploy processes/`` names models: relative to ``processes/``;
    forms by name, as a model names them."""
    found = kind(name)
    if found == "policy":
        return f"sla/{name}"
    if found == "feature":
        return f"features/{name}"
    if found == "form":
        return name
    return f"{folder}/{name}"


@dataclass(frozen=True)
class VersionFiles:
    process_id: str
    version: int
    folder: str  # the procedure's folder under processes/ and forms/
    files: dict[str, str]


def folder_of(model_file: str | None, process_id: str) -> str:
    parent = PurePosixPath(model_file or "").parent.name
    return parent or process_id


def version_files(
    engine: Engine, processes_dir: Path, process_id: str, version: int | None = None, *, root: Path = ROOT
) -> VersionFiles:
    """A deployed version's files as a draft holds them: its model, the DMN
    models beside it, the forms it names, and what it was published with: its
    policies, decision rules and scenarios. A version deployed from the checkout
    stored none of these: its policies are those in force when it was deployed,
    its rules and scenarios the checkout's (where they are read from)."""
    with engine.store.reader() as unit:
        record = unit.latest_version(process_id) if version is None else unit.get_version(process_id, version)
        deployment = unit.find_deployment(record.deployment_hash) if record is not None else None
        loaded = unit.policies_loaded() if isinstance(unit, SqlUnit) else []
    if record is None or deployment is None:
        wanted = process_id if version is None else f"{process_id} v{version}"
        raise NotFoundError(f"没有已发布的流程版本 {wanted}", code="VERSION_NOT_FOUND")
    model = str(record.definition.get("file") or "")
    folder = folder_of(model, process_id)
    stored = dict(deployment.files)
    files: dict[str, str] = {}
    text = stored.get(model, b"").decode("utf-8")
    files[PurePosixPath(model).name] = text
    beside = PurePosixPath(model).parent
    for name, content in stored.items():
        if name.lower().endswith(".dmn") and PurePosixPath(name).parent == beside:
            files[PurePosixPath(name).name] = content.decode("utf-8")
    for form in sorted(set(FORM_REFERENCE.findall(text))):
        if form in stored:
            files[PurePosixPath(form).name] = stored[form].decode("utf-8")
    kept = {name: content.decode("utf-8") for name, content in companions(stored, model, process_id).items()}
    if not any(kind(n) == "policy" for n in kept):
        in_force = policies_in_force(process_id, record.created_at, loaded)
        kept |= {name: body.decode("utf-8") for name, body in in_force.items()}
    if not any(kind(n) == "decisions" for n in kept):
        rules = processes_dir / folder / f"{process_id}.decisions.json"
        if rules.is_file():
            kept[rules.name] = rules.read_text("utf-8")
    if not any(kind(n) == "feature" for n in kept):
        kept |= feature_texts(process_id, {}, root)
    files |= kept
    return VersionFiles(process_id, record.version, folder, files)


def minimal_model(process_id: str, name: str) -> str:
    """A new procedure: start → end, laid out, executable."""
    template = Template(NEW_PROCEDURE.read_text("utf-8"))
    return template.substitute(pid_bare=process_id, pid=quoteattr(process_id), title=quoteattr(name))


def to_zip(files: dict[str, str], folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(layout_path(name, folder), files[name].encode("utf-8"))
    return buffer.getvalue()


def from_zip(data: bytes) -> dict[str, str]:
    """A zip in the ``processes/`` + ``forms/`` (+ ``features/``) layout, as draft files; anything
    else in it (another folder, a path escaping, a name twice, not UTF-8) is
    refused, located, rather than dropped."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [e for e in archive.infolist() if not e.is_dir()]
    except zipfile.BadZipFile:
        raise InvalidRequestError("上传的不是 zip 文件", code="STUDIO_IMPORT_INVALID") from None
    if len(entries) > ZIP_LIMIT or sum(e.file_size for e in entries) > ZIP_BYTES:
        raise InvalidRequestError("zip 文件过大", code="STUDIO_IMPORT_INVALID")
    files: dict[str, str] = {}
    for entry in entries:
        path = PurePosixPath(entry.filename)
        where = Location(entry.filename)
        laid_out = path.parts[:1] in (("processes",), ("forms",)) and len(path.parts) == 3
        scenario = path.parts[:1] == ("features",) and len(path.parts) == 2 and path.suffix == ".feature"
        if not (laid_out or scenario) or ".." in path.parts:
            message = "zip 中的文件须在 processes/<流程目录>/、processes/sla/、forms/<流程目录>/ 或 features/ 下"
            raise InvalidRequestError(message, code="STUDIO_IMPORT_INVALID", location=where)
        name = check_file_name(path.name)
        if name in files:
            message = f"zip 中有两个同名文件 {name}"
            raise InvalidRequestError(message, code="STUDIO_IMPORT_INVALID", location=where)
        try:
            files[name] = archive.read(entry).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequestError("文件不是 UTF-8 文本", code="STUDIO_IMPORT_INVALID", location=where) from None
    return files
