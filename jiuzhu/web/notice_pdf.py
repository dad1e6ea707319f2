"""Written notices as printable PDF (A4), from line templates.

A template (``templates/notice/*.txt``, Jinja2, autoescaped) renders to
lines ``@style text``; each style is a paragraph look. reportlab draws them
with its built-in CJK font ``STSong-Light`` (an Adobe CID font every PDF
reader has), so no font file ships with us.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined

from engine.errors import InvalidRequestError, Location
from engine.sandbox.templates import TemplateBudgetError, environment

TEMPLATES = Path(__file__).resolve().parent / "templates" / "notice"
FONT = "STSong-Light"
# The values are case data people typed: the template renders in the metered
# sandbox (the scripts' CPU and memory budget, an output cap), like instructions.
_env = environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)


def _rendered(template: str, values: dict[str, Any]) -> str:
    try:
        return _env.render_budgeted(_env.get_template(template), values)
    except TemplateBudgetError as exc:
        where = Location(file=f"jiuzhu/web/templates/notice/{template}")
        raise InvalidRequestError(
            f"通知模板 {template} 无法生成：{exc.message}", code=exc.code, location=where
        ) from None


def notice_lines(template: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(style, text) pairs; text is reportlab paragraph markup (escaped)."""
    out = []
    for raw in _rendered(template, values).splitlines():
        line = raw.strip()
        if not line:
            continue
        style, _, text = line.partition(" ")
        if not style.startswith("@"):
            raise InvalidRequestError(f"通知模板 {template} 的行缺少样式标记：{line[:20]}", code="NOTICE_TEMPLATE")
        out.append((style[1:], text.strip()))
    return out


def _styles() -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("p", fontName=FONT, fontSize=12, leading=22, wordWrap="CJK", spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=30, alignment=TA_CENTER, spaceAfter=6),
        "number": ParagraphStyle("number", parent=base, fontSize=11, alignment=TA_CENTER, spaceAfter=18),
        "p": base,
        "indent": ParagraphStyle("indent", parent=base, firstLineIndent=24),
        "field": ParagraphStyle("field", parent=base, leftIndent=48),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT, spaceBefore=6),
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=14, spaceBefore=30, textColor="#555555"),
        # The 送达回证: cut off and brought back by whoever delivered the notice.
        "cut": ParagraphStyle(
            "cut", parent=base, fontSize=8, leading=12, alignment=TA_CENTER, spaceBefore=24, textColor="#777777"
        ),
        "heading": ParagraphStyle("heading", parent=base, fontSize=15, leading=24, alignment=TA_CENTER, spaceAfter=8),
    }


def notice_pdf(template: str, values: dict[str, Any], *, title: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    styles = _styles()
    story: list[Any] = []
    for style, text in notice_lines(template, values):
        if style not in styles:
            raise InvalidRequestError(f"通知模板 {template} 使用了未知样式 @{style}", code="NOTICE_TEMPLATE")
        if style == "right" and story and not isinstance(story[-1], Spacer) and text.endswith("（盖章）"):
            story.append(Spacer(1, 18 * mm))
        story.append(Paragraph(text, styles[style]))
    out = BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, title=title, author=str(values.get("issuer", "")),
        leftMargin=28 * mm, rightMargin=26 * mm, topMargin=37 * mm, bottomMargin=35 * mm,
    )  # fmt: skip
    doc.build(story)
    return out.getvalue()
