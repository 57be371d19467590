"""Command-line shapes for nested inputs, and wire validation that names flags.

`--line-item name:Mug,quantity:2,unit_amount:1500`, `--total type:total,amount:3000`,
`--metadata order:123`. A value may contain commas and colons: a comma only starts a
new pair when what follows looks like `key:`. Unknown keys are INVALID_INPUT naming the
allowed keys. The assembled body is validated with the wire model before any network
call, and the message names the flag the person typed, not the API field.
"""

import re
from typing import Any

from linkpay.cli.context import CommandError

LINE_ITEM_KEYS = {
    "name": str,
    "quantity": int,
    "unit_amount": int,
    "description": str,
    "sku": str,
    "url": str,
    "image_url": str,
    "product_url": str,
}
TOTAL_KEYS = {"type": str, "display_text": str, "amount": int}

# API field -> the flag that sets it.
FIELD_FLAGS = {
    "payment_details": "--payment-method-id",
    "credential_type": "--credential-type",
    "network_id": "--network-id",
    "amount": "--amount",
    "currency": "--currency",
    "merchant_name": "--merchant-name",
    "merchant_url": "--merchant-url",
    "context": "--context",
    "line_items": "--line-item",
    "totals": "--total",
    "metadata": "--metadata",
    "expires_at": "--expires-at",
    "execution_method": "--execution-method",
    "merchant_account_id": "--merchant-account-id",
    "approval_details": "--approval-detail",
    "profile_id": "--profile-id",
    "merchant_id": "--merchant-id",
    "request_approval": "--request-approval",
    "test": "--test",
    "domain": "--domain",
    "outcome": "--outcome",
    "spend_request_id": "--spend-request-id",
    "tags": "--tag",
    "step": "--step",
    "freeform_context": "--freeform-context",
}

_PAIR_START = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:")


def parse_pairs(raw: str, allowed: dict[str, type], flag: str) -> dict[str, Any]:
    """`key:value,key:value` → dict, with types from `allowed`."""
    pairs: list[list[str]] = []
    for segment in raw.split(","):
        match = _PAIR_START.match(segment)
        if match:
            key = match.group(1)
            if key not in allowed:
                raise CommandError(
                    "INVALID_INPUT",
                    f"{flag}: unknown key '{key}'; allowed keys: {', '.join(allowed)}",
                )
            pairs.append([key, segment[match.end() :]])
        elif pairs:
            pairs[-1][1] += "," + segment
        else:
            raise CommandError(
                "INVALID_INPUT",
                f"{flag}: expected key:value pairs separated by commas "
                f"(allowed keys: {', '.join(allowed)})",
            )
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CommandError("INVALID_INPUT", f"{flag}: key '{key}' given twice")
        value = value.strip()
        if allowed[key] is int:
            try:
                result[key] = int(value)
            except ValueError:
                raise CommandError(
                    "INVALID_INPUT", f"{flag}: {key} must be a whole number (cents or a count)"
                ) from None
        else:
            result[key] = value
    return result


def as_list(value: Any) -> Any:
    """Input models take one item or a list: MCP callers often send a lone object."""
    if isinstance(value, (str, dict)):
        return [value]
    return value


def parse_item(value: str | dict[str, Any], allowed: dict[str, type], flag: str) -> dict[str, Any]:
    """One `key:value,…` string (CLI) or object (MCP) with only the allowed keys."""
    if isinstance(value, str):
        return parse_pairs(value, allowed, flag)
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise CommandError(
            "INVALID_INPUT",
            f"{flag}: unknown key '{unknown[0]}'; allowed keys: {', '.join(allowed)}",
        )
    return dict(value)


def parse_line_items(values: list[str | dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if not values:
        return None
    items = [parse_item(value, LINE_ITEM_KEYS, "--line-item") for value in values]
    for number, item in enumerate(items, 1):
        if not item.get("name"):
            raise CommandError("INVALID_INPUT", f"--line-item #{number}: name is required")
    return items


def parse_totals(values: list[str | dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if not values:
        return None
    totals = [parse_item(value, TOTAL_KEYS, "--total") for value in values]
    for number, total in enumerate(totals, 1):
        for required in ("type", "amount"):
            if required not in total:
                raise CommandError("INVALID_INPUT", f"--total #{number}: {required} is required")
    return totals


def parse_metadata(values: list[str | dict[str, Any]] | None) -> dict[str, str] | None:
    if not values:
        return None
    metadata: dict[str, str] = {}
    for value in values:
        if isinstance(value, dict):
            metadata.update({str(key): str(item) for key, item in value.items()})
            continue
        key, sep, item = value.partition(":")
        if not sep or not key.strip():
            raise CommandError("INVALID_INPUT", "--metadata: expected key:value")
        metadata[key.strip()] = item
    return metadata


def validate_wire(model: Any, body: dict[str, Any]) -> Any:
    """Build a wire model, turning the first validation error into INVALID_INPUT that
    names the flag (values are never echoed back)."""
    from pydantic import ValidationError

    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise CommandError("INVALID_INPUT", describe_for_flags(exc.errors())) from None


def describe_for_flags(errors: list[Any]) -> str:
    from linkpay.wire import describe_validation_errors

    param, text = describe_validation_errors(errors)
    if not param:
        return text
    parts = param.split(".")
    flag = FIELD_FLAGS.get(parts[0], "--" + parts[0].replace("_", "-"))
    where = flag
    rest = parts[1:]
    if rest and rest[0].isdigit():
        where += f" #{int(rest[0]) + 1}"
        rest = rest[1:]
    if rest:
        where += f": {'.'.join(rest)}"
    message = text.split(": ", 1)[1] if text.startswith(param + ": ") else text
    return f"{where}: {message}"
