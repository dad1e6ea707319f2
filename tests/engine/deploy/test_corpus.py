"""Every model in the external corpora (tests/corpora/) either deploys, is stored as
documentation, or is refused with located problems — never anything else.

Corpus files are flattened as ``<origin>__<folder>__<file>`` (see each
MANIFEST.txt), so a form ``x-schema.json`` referenced by
``epm__1-2-forms__form_examples.bpmn`` is ``epm__1-2-forms__x-schema.json``.

A refusal of a file that has no parsable element at all is located at the
pseudo element ``#document``; otherwise every problem names an element id (the
root element's tag when nothing on the path to the error has an id).
Run with ``-s`` to see the summary table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.deploy.builder import build_deployment
from engine.deploy.model import SourceFile
from engine.errors import DeploymentRefused, Location, Problem
from engine.forms.validate import check_form_schema, check_ui_schema, load_form_json
from engine.sandbox.scripts import Sandbox
from tests.conftest import ROOT

CORPORA = ROOT / "tests" / "corpora"
SANDBOX = Sandbox()
MODEL_SUFFIXES = (".bpmn", ".bpmn20.xml")
MODEL_FOLDERS = ("epm__", "spiffarena__")  # origins whose <folder> is one process model (MANIFEST.txt)

# Outcomes the summary must keep showing; a change here is a behaviour change worth a look.
EXPECTED = {
    "miwg/A.1.0.bpmn": "documentation",
    "miwg/B.2.0.bpmn": "documentation",
    "miwg/C.4.0.bpmn": "documentation",  # isExecutable omitted
    "miwg/C.3.0.bpmn": "refused",
    "camunda/platform__BoundaryTimerEventTest.testMultipleTimersOnUserTask.bpmn": "deployed",  # unquoted PT1H
    "camunda/platform__StartTimerEventTest.testFixedDateStartTimerEvent.bpmn": "refused",  # naive date
    "spiff/epm__0-2-basic-example__user-guide-basics.bpmn": "deployed",  # with its DMN
    "spiff/epm__1-6-roles__my_vacation.bpmn": "deployed",  # with forms
    "spiff/spiffworkflow__bpmn__Invalid-Workflows__No-Start-Event.bpmn20.xml": "refused",
    "spiff/spiffworkflow__bpmn__timer-cycle.bpmn": "refused",  # R2/PT0.1S: interval under the 1-minute minimum
}
EXPECTED_CODES = {
    "camunda/examples__loan-granting.bpmn": {"TIMER_INVALID", "BPMN_DIALECT", "BPMN_SERVICE_TASK"},
    "miwg/C.9.0.bpmn": {"BPMN_UNSUPPORTED_ELEMENT", "BPMN_CALL_ACTIVITY", "BPMN_DIALECT"},
    "spiff/epm__1-2-forms__form_examples.bpmn": {"FORM_DIALECT"},
    "spiff/spiffworkflow__bpmn__Invalid-Workflows__No-Start-Event.bpmn20.xml": {"BPMN_NO_START"},
    "spiff/spiffworkflow__bpmn__timer-cycle.bpmn": {"TIMER_OUT_OF_RANGE"},
}


@dataclass
class Outcome:
    label: str
    outcome: str
    codes: Counter[str]


def _corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.fail(f"the corpora are missing at {CORPORA}")
    return CORPORA


def _source(path: Path) -> SourceFile:
    return SourceFile(str(path.relative_to(CORPORA)), path.read_bytes())


def _group(path: Path) -> str:
    return path.name.rsplit("__", 1)[0] if "__" in path.name else path.stem


def _resolver(folder: Path) -> Callable[[str, str], SourceFile | None]:
    def resolve(bpmn_name: str, form_name: str) -> SourceFile | None:
        candidate = folder / f"{_group(Path(bpmn_name))}__{form_name}"
        return _source(candidate) if candidate.is_file() else None

    return resolve


def _deploy(label: str, models: list[Path]) -> Outcome:
    folder = models[0].parent
    files = [_source(p) for p in models]
    if any(b"businessRuleTask" in f.content for f in files):
        groups = {_group(p) for p in models}
        files += [_source(d) for d in sorted(folder.glob("*.dmn")) if _group(d) in groups]
    try:
        deployment = build_deployment(files, sandbox=SANDBOX, resolve_form=_resolver(folder))
    except DeploymentRefused as refusal:
        for problem in refusal.errors:
            assert problem.location.file, problem
            assert problem.location.element_id, problem
        return Outcome(label, "refused", Counter(p.code for p in refusal.errors))
    if deployment.processes:
        return Outcome(label, "deployed", Counter(deployment.processes.keys()))
    if files[0].name.endswith(".dmn"):
        return Outcome(label, "deployed", Counter(["(decision table only)"]))
    assert deployment.documentation_only == (files[0].name,)
    return Outcome(label, "documentation", Counter())


def _print_table(outcomes: list[Outcome]) -> None:
    width = max(len(o.label) for o in outcomes)
    print(f"\n{'corpus file':<{width}}  outcome        detail")  # noqa: T201
    for o in outcomes:
        detail = ", ".join(f"{code}×{n}" if n > 1 else code for code, n in sorted(o.codes.items()))
        print(f"{o.label:<{width}}  {o.outcome:<13}  {detail}")  # noqa: T201
    totals = Counter(o.outcome for o in outcomes)
    print("totals: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())))  # noqa: T201


def test_every_corpus_model_deploys_documents_or_is_refused_with_located_problems() -> None:
    root = _corpora()
    models = sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(MODEL_SUFFIXES))
    assert len(models) >= 50
    outcomes = [_deploy(str(p.relative_to(root)), [p]) for p in models]
    # A spiff process-model folder with several BPMN files also goes in whole, so call activities resolve.
    groups: dict[str, list[Path]] = {}
    for path in models:
        if path.parent.name == "spiff" and path.name.startswith(MODEL_FOLDERS):
            groups.setdefault(_group(path), []).append(path)
    for group, members in sorted(groups.items()):
        if len(members) > 1:
            outcomes.append(_deploy(f"spiff/{group}__* (together)", members))
    for dmn in sorted(root.rglob("*.dmn")):
        outcomes.append(_deploy(str(dmn.relative_to(root)), [dmn]))
    _print_table(outcomes)
    by_label = {o.label: o for o in outcomes}
    for label, outcome in EXPECTED.items():
        assert by_label[label].outcome == outcome, (label, by_label[label])
    for label, codes in EXPECTED_CODES.items():
        assert codes <= set(by_label[label].codes), (label, by_label[label])
    together = by_label["spiff/epm__2-3-sub-processes__* (together)"]
    assert "BPMN_CALL_ACTIVITY" not in together.codes  # the call activity resolves within the group


def test_every_other_corpus_file_is_refused_cleanly_when_fed_as_a_model() -> None:
    root = _corpora()
    others = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith((*MODEL_SUFFIXES, ".dmn")))
    assert any(p.name == "MANIFEST.txt" for p in others)
    for path in others:
        with pytest.raises(DeploymentRefused) as caught:
            build_deployment(
                [SourceFile(f"{path.name}.bpmn", path.read_bytes())], sandbox=SANDBOX, resolve_form=lambda *_: None
            )
        assert all(p.location.file and p.location.element_id for p in caught.value.errors), path


def test_manifests_list_the_files_present() -> None:
    root = _corpora()
    for manifest in sorted(root.glob("*/MANIFEST.txt")):
        listed = [
            line.split("|")[0].strip()
            for line in manifest.read_text().splitlines()
            if "|" in line and not line.startswith("#")
        ]
        assert listed, manifest
        for name in listed:
            assert (manifest.parent / name).is_file(), (manifest, name)


def test_every_spiff_form_schema_passes_or_is_refused_with_a_problem() -> None:
    folder = _corpora() / "spiff"
    schemas = sorted(folder.glob("*-schema.json"))
    assert len(schemas) >= 8
    refused: dict[str, set[str]] = {}
    for schema_path in schemas:
        location = Location(schema_path.name, "#form")
        schema, error = load_form_json(schema_path.name, schema_path.read_bytes())
        assert error is None, error
        problems: list[Problem] = check_form_schema(schema, location=location)
        ui_path = schema_path.with_name(schema_path.name.replace("-schema.json", "-uischema.json"))
        if ui_path.is_file():
            ui, ui_error = load_form_json(ui_path.name, ui_path.read_bytes())
            assert ui_error is None, ui_error
            problems += check_ui_schema(ui, location=location)
        assert all(p.code.startswith("FORM_") and p.message for p in problems)
        if problems:
            refused[schema_path.name] = {p.code for p in problems}
    assert refused == {"epm__1-2-forms__test-schema.json": {"FORM_DIALECT"}}
