"""What a browser would post from rendered form HTML (the successful controls, in document order)."""

from __future__ import annotations

from typing import Any

import lxml.html


def _inert(el: Any) -> bool:
    """Inside a <template>, or disabled itself or by an ancestor <fieldset disabled>."""
    for node in [el, *el.iterancestors()]:
        if node.tag == "template":
            return True
        if node.get("disabled") is not None and (node is el or node.tag == "fieldset"):
            return True
    return False


def browser_post(html: str, *, submitter: tuple[str, str] | None = None, edits: dict[str, Any] | None = None) -> dict:
    """``{name: [values]}`` as the form would post; ``edits`` set text values or check options first."""
    root = lxml.html.fragment_fromstring(str(html), create_parent="div")
    for name, value in (edits or {}).items():
        _edit(root, name, value)
    pairs: list[tuple[str, str]] = []
    for el in root.iter("input", "select", "textarea"):
        name = el.get("name")
        if not name or _inert(el):
            continue
        kind = (el.get("type") or "text").lower()
        if el.tag == "input" and kind in ("submit", "button", "file", "reset"):
            continue
        if el.tag == "input" and kind in ("radio", "checkbox"):
            if el.get("checked") is not None:
                pairs.append((name, el.get("value", "on")))
        elif el.tag == "select":
            chosen = [o for o in el.iter("option") if o.get("selected") is not None]
            if not chosen and el.get("multiple") is None:
                chosen = list(el.iter("option"))[:1]
            pairs += [(name, o.get("value", o.text_content())) for o in chosen]
        elif el.tag == "textarea":
            pairs.append((name, el.text or ""))
        else:
            pairs.append((name, el.get("value", "")))
    if submitter:
        pairs.append(submitter)
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def _edit(root: Any, name: str, value: Any) -> None:
    controls = [el for el in root.iter("input", "select", "textarea") if el.get("name") == name]
    assert controls, f"no control named {name}"
    for el in controls:
        kind = (el.get("type") or "text").lower()
        if el.tag == "input" and kind in ("radio", "checkbox"):
            wanted = value if isinstance(value, list) else [value]
            if el.get("value") in wanted:
                el.set("checked", "checked")
            elif "checked" in el.attrib:
                del el.attrib["checked"]
        elif el.tag == "select":
            wanted = value if isinstance(value, list) else [value]
            for option in el.iter("option"):
                if option.get("value") in wanted:
                    option.set("selected", "selected")
                elif "selected" in option.attrib:
                    del option.attrib["selected"]
        elif el.tag == "textarea":
            el.text = value
        elif kind != "hidden":
            el.set("value", value)
