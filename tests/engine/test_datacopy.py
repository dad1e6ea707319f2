"""engine.datacopy: the deep copy of case data is copy.deepcopy's, only cheaper."""

from __future__ import annotations

import copy
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from engine.datacopy import data_copy


def household() -> dict[str, Any]:
    return {
        "applicant": {"name": "周明", "birth_date": date(1983, 6, 6)},
        "members": [{"name": "周明", "monthly_income": {"wages": 500}}, {"name": "周秀兰", "income": 200.5}],
        "amount": Decimal("1100.00"),
        "decided_at": datetime(2026, 11, 14, 1, tzinfo=UTC),
        "window": timedelta(days=3),
        "case": UUID("39905d1f-f83b-496a-b0cd-4c3235aa4c4d"),
        "flags": [True, False, None],
        "pair": (1, [2, 3]),
        "tags": {"低保", "在保"},
        "ordered": OrderedDict(a=[1]),
    }


def test_equal_to_deepcopy_and_independent_of_the_original() -> None:
    data = household()
    copied = data_copy(data)
    assert copied == copy.deepcopy(data)
    copied["members"][0]["monthly_income"]["wages"] = 0
    copied["pair"][1].append(4)
    copied["ordered"]["a"].append(2)
    copied["tags"].add("停保")
    assert data == household()
    assert type(copied["ordered"]) is OrderedDict


def test_keeps_aliasing_inside_the_data_as_deepcopy_does() -> None:
    shared = [1, 2]
    data: dict[str, Any] = {"a": shared, "b": shared, "c": {"d": shared}, "e": (shared,)}
    copied = data_copy(data)
    assert copied["a"] is copied["b"] is copied["c"]["d"] is copied["e"][0]
    assert copied["a"] is not shared


def test_copies_cycles() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    data: dict[str, Any] = {"loop": loop}
    data["self"] = data
    copied = data_copy(data)
    assert copied["self"] is copied and copied["loop"][1] is copied["loop"]
    assert copied["loop"] is not loop


def test_non_text_keys_are_copied_too() -> None:
    key = (1, 2)
    assert data_copy({key: "x", 3: "y"}) == {(1, 2): "x", 3: "y"}


def test_values_that_cannot_change_are_returned_as_they_are() -> None:
    for value in ("文本", 3, 2.5, None, True, Decimal("1.5"), date(2026, 1, 1)):
        assert data_copy(value) is value
