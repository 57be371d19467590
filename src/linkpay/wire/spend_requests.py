"""Spend request models: the create/update bodies (with every field rule of the spec)
and the SpendRequest object the wallet returns.

Field-level rules live here so the CLI rejects bad input before any network call and the
wallet answers 400 naming the field, from one definition. Rules that need the person's
state (their own lower limit, payment method ownership) live in the wallet's spend
service.
"""

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from linkpay.wire.policy import Decision

MAX_AMOUNT = 50_000  # cents; a person may set a lower limit
MIN_CONTEXT_LENGTH = 100
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500

CredentialType = Literal["card", "shared_payment_token"]
SpendRequestStatus = Literal[
    "created",
    "pending_approval",
    "approved",
    "denied",
    "expired",
    "succeeded",
    "failed",
    "canceled",
    "requires_action",
]
TOTAL_TYPES = (
    "subtotal",
    "tax",
    "total",
    "items_base_amount",
    "items_discount",
    "discount",
    "fulfillment",
    "shipping",
    "fee",
    "gift_wrap",
    "tip",
    "store_credit",
)
TotalType = Literal[
    "subtotal",
    "tax",
    "total",
    "items_base_amount",
    "items_discount",
    "discount",
    "fulfillment",
    "shipping",
    "fee",
    "gift_wrap",
    "tip",
    "store_credit",
]
ACTIVE_STATUSES = ("created", "pending_approval", "approved")
POLL_TERMINAL_STATUSES = ("approved", "denied", "expired", "succeeded", "failed", "canceled")

_CURRENCY_PATTERN = r"^[a-z]{3}$"


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=500)
    quantity: int | None = Field(default=None, ge=1, le=100_000)
    unit_amount: int | None = Field(default=None, ge=0, le=100_000_000)
    description: str | None = Field(default=None, max_length=1000)
    sku: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=2048)
    image_url: str | None = Field(default=None, max_length=2048)
    product_url: str | None = Field(default=None, max_length=2048)


class Total(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: TotalType
    display_text: str | None = Field(default=None, max_length=200)
    amount: int = Field(ge=-100_000_000, le=100_000_000)


def _check_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return value
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"at most {MAX_METADATA_KEYS} keys")
    for key, item in value.items():
        if not key or len(key) > MAX_METADATA_KEY_LENGTH:
            raise ValueError(f"keys must be 1 to {MAX_METADATA_KEY_LENGTH} characters")
        if len(item) > MAX_METADATA_VALUE_LENGTH:
            raise ValueError(f"values must be at most {MAX_METADATA_VALUE_LENGTH} characters")
    return value


def unix_seconds(value: Any) -> Any:
    """Timestamps that clients declare as numbers go out as unix seconds. Accepts a
    datetime or an ISO 8601 string too (rows and answers written before the change)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(moment.timestamp())
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value  # let the int field reject it
        return unix_seconds(moment)
    return value


def _lower_currency(value: Any) -> Any:
    """Clients send what their user typed ("USD"); the contract is lower case."""
    return value.lower() if isinstance(value, str) else value


# `_check_http_url` as a JSON Schema pattern, so /openapi.json says what is accepted
# (documented only: the validator keeps its own message).
_HTTP_URL: dict[str, Any] = {"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"}


def _check_http_url(value: str | None) -> str | None:
    if value is not None and not value.lower().startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value


def _check_total_matches_amount(amount: int | None, totals: list[Total] | None) -> None:
    """Our addition to the spec: a `total` of type `total` must equal `amount`, so the
    person never approves one figure while a larger credential is issued."""
    if amount is None or not totals:
        return
    for total in totals:
        if total.type == "total" and total.amount != amount:
            raise ValueError(
                f"totals: the total of type 'total' ({total.amount}) must equal amount ({amount})"
            )


class SpendRequestCreate(BaseModel):
    """Body of `POST /spend_requests` (and `create_delegated`)."""

    model_config = ConfigDict(extra="forbid")

    payment_details: str | None = Field(
        default=None, max_length=100, description="Payment method id (csmrpd_…); default if absent"
    )
    credential_type: CredentialType = "card"
    network_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Required for shared_payment_token"
    )
    amount: int = Field(gt=0, le=MAX_AMOUNT, description="Integer cents")
    currency: str = Field(default="usd", pattern=_CURRENCY_PATTERN)
    merchant_name: str | None = Field(default=None, min_length=1, max_length=200)
    merchant_url: str | None = Field(
        default=None, min_length=1, max_length=2048, json_schema_extra=_HTTP_URL
    )
    context: str = Field(
        min_length=MIN_CONTEXT_LENGTH,
        max_length=5000,
        description="What is being bought and why; the person reads this",
    )
    line_items: list[LineItem] | None = Field(default=None, max_length=100)
    totals: list[Total] | None = Field(default=None, max_length=20)
    request_approval: bool = False
    test: bool = False
    metadata: dict[str, str] | None = None
    expires_at: int | None = Field(default=None, ge=0, le=32_503_680_000)
    approval_details: dict[str, Any] | None = None
    execution_method: Literal["link_pay_token"] | None = Field(
        default=None, description="link_pay_token: a merchant-bound credential"
    )
    merchant_account_id: str | None = Field(default=None, min_length=1, max_length=200)

    _currency_case = field_validator("currency", mode="before")(_lower_currency)

    @field_validator("metadata")
    @classmethod
    def _metadata_limits(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return _check_metadata(value)

    @field_validator("merchant_url")
    @classmethod
    def _merchant_url_is_http(cls, value: str | None) -> str | None:
        return _check_http_url(value)

    @model_validator(mode="after")
    def _credential_rules(self) -> "SpendRequestCreate":
        if self.execution_method is not None:
            if not self.merchant_account_id:
                raise ValueError("merchant_account_id: required with execution_method")
        elif self.credential_type == "card":
            if not self.merchant_name:
                raise ValueError("merchant_name: required for card spend requests")
            if not self.merchant_url:
                raise ValueError("merchant_url: required for card spend requests")
            if self.network_id is not None:
                raise ValueError("network_id: only for shared_payment_token spend requests")
        else:
            if not self.network_id:
                raise ValueError("network_id: required for shared_payment_token spend requests")
            if self.merchant_name is not None or self.merchant_url is not None:
                raise ValueError(
                    "merchant_name: merchant_name and merchant_url must be absent for "
                    "shared_payment_token spend requests"
                )
        _check_total_matches_amount(self.amount, self.totals)
        return self


class SpendRequestUpdate(BaseModel):
    """Body of `POST /spend_requests/{id}` (before approval only)."""

    model_config = ConfigDict(extra="forbid")

    payment_details: str | None = Field(default=None, max_length=100)
    amount: int | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    merchant_url: str | None = Field(
        default=None, min_length=1, max_length=2048, json_schema_extra=_HTTP_URL
    )
    currency: str | None = Field(default=None, pattern=_CURRENCY_PATTERN)
    line_items: list[LineItem] | None = Field(default=None, max_length=100)
    totals: list[Total] | None = Field(default=None, max_length=20)
    profile_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The merchant's network profile id (becomes `network_id`; SPT requests)",
    )
    merchant_id: str | None = Field(default=None, min_length=1, max_length=200)

    _currency_case = field_validator("currency", mode="before")(_lower_currency)

    @field_validator("merchant_url")
    @classmethod
    def _merchant_url_is_http(cls, value: str | None) -> str | None:
        return _check_http_url(value)

    @model_validator(mode="after")
    def _totals(self) -> "SpendRequestUpdate":
        _check_total_matches_amount(self.amount, self.totals)
        return self


class BillingAddress(BaseModel):
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Card(BaseModel):
    """A one-time virtual card. Only present with `include=card` once approved."""

    id: str
    brand: str
    number: str
    cvc: str
    exp_month: int
    exp_year: int
    billing_address: BillingAddress | None = None
    valid_until: str | None = None  # ISO 8601

    def __repr__(self) -> str:  # never print the PAN or CVC by accident
        return f"Card(id={self.id!r}, brand={self.brand!r}, last4={self.number[-4:]!r})"

    __str__ = __repr__


class SharedPaymentToken(BaseModel):
    id: str  # spt_…
    billing_address: BillingAddress | None = None
    valid_until: str | None = None


class PaymentStatusDetails(BaseModel):
    outcome: Literal["success", "failure"]
    code: str | None = None
    decline_code: str | None = None
    amount: int | None = None
    currency: str | None = None
    created: int | None = None  # unix seconds

    _created = field_validator("created", mode="before")(unix_seconds)


class NextAction(BaseModel):
    type: str
    resolution: Literal[
        "auto_resume", "create_new_spend_request", "create_new_spend_request_after_completion"
    ]
    display_message: str | None = None
    action_url: str | None = None
    expires_at: int | None = None  # unix seconds

    _expires = field_validator("expires_at", mode="before")(unix_seconds)


class RequiresAction(BaseModel):
    failure_code: str | None = None
    next_action: NextAction


class StatusDetails(BaseModel):
    requires_action: RequiresAction | None = None


class SpendRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str  # lsrq_…
    object: Literal["spend_request"] = "spend_request"
    status: SpendRequestStatus
    merchant_name: str | None = None
    merchant_url: str | None = None
    context: str
    amount: int
    currency: str
    line_items: list[LineItem] = Field(default_factory=list)
    totals: list[Total] = Field(default_factory=list)
    payment_method: str | None = None
    payment_details: str | None = None
    credential_type: CredentialType
    network_id: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    approval_url: str | None = None
    card: Card | None = None
    shared_payment_token: SharedPaymentToken | None = None
    payment_status_details: PaymentStatusDetails | None = None
    status_details: StatusDetails | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    expires_at: int | None = None  # unix seconds
    created_at: str
    updated_at: str
    livemode: bool = False
    test: bool = True
    status_history: list[dict[str, Any]] | None = None

    _expires = field_validator("expires_at", mode="before")(unix_seconds)
    # Who decided (person or policy), under which rule, and why (absent until decided).
    decision: Decision | None = None


class SpendRequestList(BaseModel):
    data: list[SpendRequest]
    # More requests follow this page: ask again with starting_after=<last id>.
    has_more: bool = False


class ApprovalLink(BaseModel):
    id: str
    approval_link: str


def is_poll_terminal(request: SpendRequest) -> bool:
    """Terminal for polling: the listed statuses, and requires_action
    unless it will resume by itself."""
    if request.status in POLL_TERMINAL_STATUSES:
        return True
    if request.status == "requires_action":
        details = request.status_details
        action = details.requires_action if details else None
        return not (action and action.next_action.resolution == "auto_resume")
    return False
