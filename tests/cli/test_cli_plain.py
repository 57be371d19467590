"""`cli/plain.py` against pydantic on generated wallet answers: whenever `decode`
accepts an answer, it equals `SpendRequest.model_validate(…).model_dump(mode="json",
exclude_none=True)` key for key and in the same order, and `Plain` reads like the
model; answers already in their final form are always accepted (so the fast path is
taken), and everything pydantic rejects is declined."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkpay.cli.plain import Plain, Unsure, decode
from linkpay.cli.prebuilt import shapes
from linkpay.wire import SpendRequest

TEXT = st.text(max_size=12)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
ODD = st.one_of(  # values pydantic coerces, rejects or treats specially
    st.sampled_from(["12", "1.0", "true", "", "\ud800", "2026-11-25T14:00:00Z"]),
    st.sampled_from([1.0, 2.5, True, False, 0, -1, [], {}, None, float("inf")]),
)


def _canonical(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values already in final form that satisfy every declared constraint."""
    kind = spec["t"]
    if kind == "opt":
        return st.one_of(st.none(), _canonical(spec["of"]))
    if kind == "str":
        return st.text(min_size=spec.get("min", 0), max_size=min(spec.get("max", 20), 20))
    if kind == "int":
        low = spec.get("ge", spec["gt"] + 1 if "gt" in spec else -(2**40))
        high = spec.get("le", spec["lt"] - 1 if "lt" in spec else 2**40)
        return st.integers(low, high)
    if kind == "bool":
        return st.booleans()
    if kind == "lit":
        return st.sampled_from(spec["v"])
    if kind == "list":
        return st.lists(_canonical(spec["of"]), max_size=2)
    if kind == "dict":
        return st.dictionaries(TEXT, _canonical(spec["of"]), max_size=2)
    if kind == "model":
        return _model(spec["name"], odd=False)
    assert kind == "any", kind
    return JSON


def _field_value(spec: dict[str, Any], odd: bool) -> st.SearchStrategy[Any]:
    if not odd:
        return _canonical(spec)
    inner = spec["of"] if spec["t"] == "opt" else spec
    if inner["t"] == "model":
        return st.one_of(_model(inner["name"], odd=True), ODD)
    if inner["t"] == "list" and inner["of"]["t"] == "model":
        return st.one_of(st.lists(_model(inner["of"]["name"], odd=True), max_size=2), ODD)
    return st.one_of(_canonical(spec), ODD, JSON)


@st.composite
def _model_draw(draw: Any, name: str, odd: bool) -> dict[str, Any]:
    shape = shapes()[name]
    data: dict[str, Any] = {}
    for field_name, spec, default in shape["fields"]:
        if default != "required" and draw(st.booleans()):
            continue  # absent: the default applies
        if odd and draw(st.integers(0, 9)) == 0:
            continue  # even a required field may be missing
        data[field_name] = draw(_field_value(spec, odd))
    if (odd or shape["extra"] != "forbid") and draw(st.booleans()):
        extras = draw(st.dictionaries(st.sampled_from(["x", "zz", "note"]), JSON, max_size=2))
        data.update(extras)
    if draw(st.booleans()):  # the wallet's key order need not be the model's
        keys = list(data)
        order = draw(st.permutations(keys))
        data = {key: data[key] for key in order}
    return data


def _model(name: str, *, odd: bool) -> st.SearchStrategy[dict[str, Any]]:
    return _model_draw(name, odd)


def _pydantic(data: Any) -> Any:
    from pydantic import ValidationError

    try:
        return SpendRequest.model_validate(data)
    except ValidationError:
        return None


def _ordered(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)  # keeps key order, compares exactly


def _same_reading(plain: Any, model: Any) -> None:
    """Attribute by attribute, a Plain reads like the model it stands for."""
    for name in type(model).model_fields:
        mine, theirs = getattr(plain, name), getattr(model, name)
        if hasattr(theirs, "model_dump"):
            assert isinstance(mine, Plain)
            _same_reading(mine, theirs)
        elif isinstance(theirs, list) and theirs and hasattr(theirs[0], "model_dump"):
            assert len(mine) == len(theirs)
            for a, b in zip(mine, theirs, strict=True):
                _same_reading(a, b)
        else:
            assert mine == theirs, name


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(_model("SpendRequest", odd=False))
def test_final_form_answers_are_decoded_like_pydantic(data: dict[str, Any]) -> None:
    model = _pydantic(data)
    assert model is not None, "the canonical strategy made an invalid answer"
    decoded = decode("SpendRequest", data)  # never Unsure: the fast path is taken
    assert _ordered(decoded) == _ordered(model.model_dump(mode="json", exclude_none=True))
    plain = Plain("SpendRequest", decoded)
    _same_reading(plain, model)
    assert _ordered(plain.model_dump(mode="json", exclude_none=True)) == _ordered(decoded)


@SETTINGS
@given(_model("SpendRequest", odd=True))
def test_any_answer_is_decoded_like_pydantic_or_declined(data: dict[str, Any]) -> None:
    model = _pydantic(data)
    try:
        decoded = decode("SpendRequest", data)
    except Unsure:
        return  # the caller asks pydantic: equal by construction
    assert model is not None, f"accepted what pydantic rejects: {data!r}"
    assert _ordered(decoded) == _ordered(model.model_dump(mode="json", exclude_none=True))


@pytest.mark.parametrize(
    "change",
    [
        {"expires_at": "2026-11-25T14:00:00Z"},  # the validator converts ISO text
        {"amount": "1500"},
        {"amount": 1500.0},
        {"livemode": 1},
        {"status": "unknown"},
        {"line_items": [{"name": "Mug", "colour": "blue"}]},  # LineItem forbids extras
        {"merchant_name": "\ud800"},
    ],
)
def test_declines_what_pydantic_would_coerce_or_reject(change: dict[str, Any]) -> None:
    base = {
        "id": "lsrq_1",
        "status": "approved",
        "context": "c",
        "amount": 1500,
        "currency": "usd",
        "credential_type": "card",
        "created_at": "2026-11-25T14:00:00Z",
        "updated_at": "2026-11-25T14:00:00Z",
    }
    decode("SpendRequest", base)
    with pytest.raises(Unsure):
        decode("SpendRequest", {**base, **change})
