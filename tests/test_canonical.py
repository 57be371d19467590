"""`linkpay.canonical.dumps` writes the bytes `rfc8785.dumps` writes (or refuses what
it refuses), on generated JSON-like values: the approval binding and the audit chain
hash them, so one differing byte would refuse a reveal or break a chain."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from linkpay.canonical import dumps

# Any code point, lone surrogates and control characters included.
_TEXT = st.text(st.characters(codec=None, categories=None), max_size=12)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.sampled_from([2**53 - 1, -(2**53 - 1), 2**53, -(2**53)])
    | st.floats(allow_nan=True, allow_infinity=True)
    | _TEXT
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(
            _TEXT | st.sampled_from(["a", "b", "\u00e9", "\U0001f600", "\uff61"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)


def _either(value: Any) -> tuple[str, Any]:
    try:
        return "ok", dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as error:
        return "refused", type(error)


def _reference(value: Any) -> tuple[str, Any]:
    try:
        return "ok", rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as error:
        return "refused", type(error)


@settings(max_examples=1500, deadline=None)
@given(_VALUES)
def test_same_bytes_as_rfc8785(value: Any) -> None:
    assert _either(value) == _reference(value)


def test_the_values_we_hash() -> None:
    material = {
        "amount": 1999,
        "currency": "usd",
        "merchant_name": 'Caf\u00e9 "Z\u00fcrich" \\ \x00\x1f\x7f \u2028 \U0001f600',
        "merchant_url": None,
        "line_items": [{"name": "tab\tnew\nline", "quantity": 1, "unit_amount": 1999}],
        "totals": [],
        "credential_type": "card",
        "network_id": None,
        "payment_method": None,
        "test": True,
    }
    assert dumps(material) == rfc8785.dumps(material)
    for refused in ({"n": 2**53}, {"x": float("nan")}, {1: "a"}, "\ud800"):
        assert _either(refused) == _reference(refused)
        assert _either(refused)[0] == "refused"
