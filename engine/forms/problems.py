"""The refusal every form check speaks: a stable code and a Chinese message."""

from __future__ import annotations

FORM_ID_NUMBER = "FORM_ID_NUMBER"
FORM_MOBILE = "FORM_MOBILE"
FORM_BANK_CARD = "FORM_BANK_CARD"
FORM_MONEY = "FORM_MONEY"
FORM_ID_MISMATCH = "FORM_ID_MISMATCH"
FORM_REQUIRED = "FORM_REQUIRED"
FORM_ATTACHMENT = "FORM_ATTACHMENT"
FORM_PATTERN_UNSAFE = "FORM_PATTERN_UNSAFE"


class FormProblem(ValueError):
    """A failed check that knows its stable code and Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
