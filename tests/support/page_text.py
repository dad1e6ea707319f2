"""What a person reads on a page: the text outside tags, scripts and styles
(attributes such as ``data-code`` are for machines and left out)."""

from __future__ import annotations

import html
import re

_HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
# A stable error code (HANDOFF_LOCKED, DEAD_LETTER_NOT_FOUND): for machines, not for people.
RAW_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def visible_text(page: str) -> str:
    return html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", page)))


def raw_codes(page: str) -> list[str]:
    """Error codes a person would see on the page."""
    return RAW_CODE.findall(visible_text(page))


def pdf_text(body: bytes) -> str:
    """What a reader extracts from a PDF, without the spaces and line breaks layout puts in."""
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(body))
    return "".join(page.extract_text() for page in reader.pages).replace(" ", "").replace("\n", "")


def cell(page: str, testid: str) -> str:
    """The text of the first element marked ``data-testid=testid`` (no nested tags)."""
    found = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', page)
    assert found, f"no {testid} on the page"
    return found.group(1).strip()
