"""Approval binding: what the person approves is pinned by a hash of the purchase.

`material_hash` is the SHA-256 (hex) of the RFC 8785 (JCS) canonical JSON of the fields
that decide what money can move and where: amount, currency, merchant, line items,
totals, credential type, network id and payment method. The approval page sends back
the hash it displayed; approval is refused if it no longer matches, and a credential is
only revealed while the stored approval hash still equals the current one.

It lives below the services (it imports only the wire models) because both the spend
service, which records the hash at approval, and the issuers, which check it before a
reveal or a charge, need it.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any, Protocol

from linkpay.canonical import dumps as canonical_json
from linkpay.wire import LineItem, Total

MATERIAL_FIELDS = (
    "amount",
    "currency",
    "merchant_name",
    "merchant_url",
    "line_items",
    "totals",
    "credential_type",
    "network_id",
    "payment_method",
)
# The stored columns `material_fields` reads (the payment method is its id).
MATERIAL_COLUMNS = tuple(
    "payment_method_id" if name == "payment_method" else name for name in MATERIAL_FIELDS
)


def normalize_line_items(items: list[Any] | None) -> list[dict[str, Any]]:
    """One stored and hashed form: validated, without null fields."""
    return [LineItem.model_validate(item).model_dump(exclude_none=True) for item in items or []]


def normalize_totals(totals: list[Any] | None) -> list[dict[str, Any]]:
    return [Total.model_validate(total).model_dump(exclude_none=True) for total in totals or []]


def material_of(
    *,
    amount: int,
    currency: str,
    merchant_name: str | None,
    merchant_url: str | None,
    line_items: list[Any] | None,
    totals: list[Any] | None,
    credential_type: str,
    network_id: str | None,
    payment_method: str | None,
) -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": currency,
        "merchant_name": merchant_name,
        "merchant_url": merchant_url,
        "line_items": normalize_line_items(line_items),
        "totals": normalize_totals(totals),
        "credential_type": credential_type,
        "network_id": network_id,
        "payment_method": payment_method,
    }


class Material(Protocol):
    """What the hash reads of a stored request: a `SpendRequest`, or a row of its columns
    under the same names."""

    @property
    def amount(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def merchant_name(self) -> str | None: ...
    @property
    def merchant_url(self) -> str | None: ...
    @property
    def line_items(self) -> list[Any] | None: ...
    @property
    def totals(self) -> list[Any] | None: ...
    @property
    def credential_type(self) -> str: ...
    @property
    def network_id(self) -> str | None: ...
    @property
    def payment_method_id(self) -> str | None: ...


def material_fields(row: Material) -> dict[str, Any]:
    """The material fields of a stored spend request (store.models.SpendRequest)."""
    return material_of(
        amount=row.amount,
        currency=row.currency,
        merchant_name=row.merchant_name,
        merchant_url=row.merchant_url,
        line_items=row.line_items,
        totals=row.totals,
        credential_type=row.credential_type,
        network_id=row.network_id,
        payment_method=row.payment_method_id,
    )


def hash_material(material: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(material)).hexdigest()


def material_hash(row: Material) -> str:
    """SHA-256 hex of the RFC 8785 canonical JSON of the row's material fields."""
    return hash_material(material_fields(row))


def material_hash_of_columns(columns: dict[str, Any]) -> str:
    """The same hash for a request not inserted yet, from its column values by name."""
    return material_hash(SimpleNamespace(**columns))
