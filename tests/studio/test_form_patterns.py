"""A designer's regular expression never holds a worker: a pattern that may
backtrack without bound is refused at deploy (located on the keyword), and a
form that already carries one answers a field error at run time instead of
running it."""

from __future__ import annotations

import pytest

from engine.errors import FormValidationError, Location
from engine.forms.patterns import unsafe_reason
from engine.forms.validate import FormRef, check_form_schema, validate_submission

EVIL_INPUT = "a" * 30 + "!"
SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": "^(a+)+$"},
        "pair": {"type": "string", "pattern": "^(ab|\\w\\w)+$"},
    },
    "patternProperties": {"^(x*)*$": {"type": "string"}},
}


@pytest.mark.parametrize(
    "pattern",
    ["^(a+)+$", "(a*)*b", "(-[A-Z0-9-]+)+", "(\\d*,?)*", "^(x+x+)+y$", "(ab|\\w\\w)+", "(?=(a+)+)a", "a" * 1001],
)
def test_unsafe_shapes_are_named(pattern: str) -> None:
    assert unsafe_reason(pattern)


@pytest.mark.parametrize(
    "pattern",
    ["^[0-9]{17}[0-9X][1-7][1-4]$", "^[0-9A-Za-z\u4e00-\u9fff〔〕-]{4,40}$", "^(\\d{3}-){2}\\d{4}$", "(?:a|b|cd)+",
     "^1[3-9][0-9]{9}$", "(", "^(a|b)+$",
     "^CN(-[A-Z0-9]+)+$", "^(\\d+,)*\\d+$", "^([^,]+,)*$"],
)  # fmt: skip
def test_the_shipped_shapes_and_plain_patterns_are_safe(pattern: str) -> None:
    assert unsafe_reason(pattern) is None


def test_deploy_refuses_each_unsafe_pattern_on_its_keyword() -> None:
    problems = check_form_schema(SCHEMA, location=Location(file="evil-schema.json"))
    found = sorted((p.code, p.location.file, p.location.field) for p in problems)
    assert found == [
        ("FORM_PATTERN_UNSAFE", "evil-schema.json", "patternProperties/^(x*)*$"),
        ("FORM_PATTERN_UNSAFE", "evil-schema.json", "properties/code/pattern"),
        ("FORM_PATTERN_UNSAFE", "evil-schema.json", "properties/pair/pattern"),
    ]
    assert all("耗时失控" in p.message for p in problems)


def test_a_form_deployed_before_the_check_answers_a_field_error_without_running_the_pattern() -> None:
    form = FormRef("evil-schema.json", SCHEMA, None, None)
    with pytest.raises(FormValidationError) as refused:
        validate_submission(form, {"code": EVIL_INPUT, "pair": "ab" * 20 + "!"})
    assert {e.path: e.code for e in refused.value.field_errors} == {
        "code": "FORM_PATTERN_UNSAFE", "pair": "FORM_PATTERN_UNSAFE", "": "FORM_PATTERN_UNSAFE"
    }  # fmt: skip
    named = FormRef("evil-schema.json", {**SCHEMA, "additionalProperties": False}, None, None)
    key = "x" * 40 + "!"
    with pytest.raises(FormValidationError) as refused:
        validate_submission(named, {key: "v"})
    # additionalProperties would run the pattern over the name: the object gets the one error instead.
    assert {e.path: e.code for e in refused.value.field_errors} == {"": "FORM_PATTERN_UNSAFE"}
