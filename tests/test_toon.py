"""`linkpay.toon` writes exactly what toon_format writes, or declines (`Unsure`), on
generated data; and it does not decline the shapes our commands print."""

from __future__ import annotations

from typing import Any

import pytest
import toon_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkpay.toon import Unsure, dumps

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Characters that change how TOON writes a string or key, and some that do not.
TRICKY = st.sampled_from(
    list(',:"\\[]{}#- \t\n\r\x00\x1f\x7f.+_eE0123456789aZé€\u2028\ufeff|')
    + ["true", "false", "null", "-1", "1e5", "05", "1.5", "x y", "\ud800"]
)
TEXT = st.lists(TRICKY, max_size=6).map("".join) | st.text(max_size=8)
PRIMITIVE = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | TEXT
ANY_JSON = st.recursive(
    PRIMITIVE | st.floats(allow_nan=True),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=25,
)


def _table(keys: list[str]) -> Any:
    row = st.fixed_dictionaries({key: PRIMITIVE for key in keys})
    return st.lists(row, min_size=1, max_size=4)


TABLE = st.lists(TEXT, min_size=1, max_size=4, unique=True).flatmap(_table)
COMMON_VALUE = st.recursive(
    PRIMITIVE | st.lists(PRIMITIVE, max_size=4) | TABLE,
    lambda inner: st.dictionaries(TEXT, inner, max_size=4).filter(
        lambda d: len(d) < 2 or not all(type(v) is dict for v in d.values())
    ),
    max_leaves=20,
)
COMMON = st.dictionaries(TEXT, COMMON_VALUE, max_size=6).filter(
    lambda d: len(d) < 2 or not all(type(v) is dict for v in d.values())
)


def _toon_format(data: Any) -> str | type[Exception]:
    try:
        return toon_format.dumps(data)
    except (ValueError, TypeError) as exc:
        return type(exc)


@SETTINGS
@given(st.dictionaries(TEXT, ANY_JSON, max_size=5) | ANY_JSON)
def test_same_text_or_unsure(data: Any) -> None:
    try:
        ours = dumps(data)
    except Unsure:
        return
    assert ours == _toon_format(data)


@SETTINGS
@given(COMMON)
def test_common_shapes_are_ours(data: Any) -> None:
    expected = _toon_format(data)
    if not isinstance(expected, str):  # unpaired surrogates: toon_format refuses them
        with pytest.raises(Unsure):
            dumps(data)
        return
    assert dumps(data) == expected


def test_a_spend_request() -> None:
    data = {
        "id": "lsrq_1",
        "status": "approved",
        "merchant_url": "https://mugs.example",
        "amount": 1200,
        "livemode": False,
        "metadata": {},
        "line_items": [{"name": "Mug, blue", "quantity": 1, "unit_amount": 1200}],
        "totals": [],
        "card": {"number": "4242424242424242", "exp_month": 12, "cvc": "042"},
        "_next": {"command": "link-cli spend-request retrieve lsrq_1 --include card"},
        "tags": ["a", "-b", ""],
    }
    assert dumps(data) == toon_format.dumps(data)


@pytest.mark.parametrize(
    "data",
    [[1, 2], "text", {"a": {"x": 1}, "b": {"x": 2}}, {"f": 1.5}, {"l": [[1]]}, {"l": [{}]}],
)
def test_declines_what_it_does_not_write(data: Any) -> None:
    with pytest.raises(Unsure):
        dumps(data)
