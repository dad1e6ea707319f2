"""The inbox's procedure and org-unit filters as choices: procedures by their
Chinese names, org units as the viewer's part of the tree (村 under 乡镇 under
县). The query parameters stay the codes (``process``, ``org``), so links
written with codes keep working."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.ports import VersionRecord
from jiuzhu.accounts import COUNTY_WIDE_KINDS, Directory
from jiuzhu.web.auth import Viewer, in_scope

# Offices and partner departments keep no household's case: the tree is the
# administrative one (县, 乡镇, 村 and whatever levels a deployment adds).
NOT_IN_TREE = (*COUNTY_WIDE_KINDS, "partner")
INDENT = "\u3000"  # an ideographic space: a browser keeps it inside <option>


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    depth: int = 0

    @property
    def indented(self) -> str:
        return INDENT * self.depth + self.label


def procedure_choices(versions: Iterable[VersionRecord], chosen: str | None) -> list[Choice]:
    """Each deployed procedure once, named as its newest version names it."""
    newest: dict[str, VersionRecord] = {}
    for v in versions:
        if v.process_id not in newest or v.version > newest[v.process_id].version:
            newest[v.process_id] = v
    choices = [Choice(pid, v.name or pid) for pid, v in sorted(newest.items())]
    return _keeping(choices, chosen, chosen or "")


def org_choices(viewer: Viewer, directory: Directory, chosen: str | None) -> list[Choice]:
    """The units in the viewer's scope, depth first, each under its parent."""
    units = {code: u for code, u in directory.units.items() if u.kind not in NOT_IN_TREE and in_scope(viewer, code)}
    children: dict[str | None, list[str]] = {}
    for code in sorted(units):
        parent = units[code].parent
        children.setdefault(parent if parent in units else None, []).append(code)
    choices: list[Choice] = []

    def walk(code: str, depth: int) -> None:
        choices.append(Choice(code, units[code].name, depth))
        for child in children.get(code, []):
            walk(child, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    return _keeping(choices, chosen, directory.unit_name(chosen))


def _keeping(choices: list[Choice], chosen: str | None, label: str) -> list[Choice]:
    # A value from an older link that the list does not offer stays selectable,
    # so the filter shown is the filter applied.
    if chosen and all(c.value != chosen for c in choices):
        return [*choices, Choice(chosen, label)]
    return choices
