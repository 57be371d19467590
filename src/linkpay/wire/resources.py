"""Payment methods, shipping addresses, user info, transactions, observations."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CardDetails(BaseModel):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class BankAccountDetails(BaseModel):
    last4: str
    bank_name: str | None = None


class PaymentDetail(BaseModel):
    id: str  # csmrpd_…
    type: Literal["card", "bank_account"]
    is_default: bool
    nickname: str | None = None
    card_details: CardDetails | None = None
    bank_account_details: BankAccountDetails | None = None


class PaymentDetailsList(BaseModel):
    payment_details: list[PaymentDetail]


class Address(BaseModel):
    name: str | None = None
    line_1: str | None = None
    line_2: str | None = None
    locality: str | None = None
    dependent_locality: str | None = None
    administrative_area: str | None = None
    postal_code: str | None = None
    sorting_code: str | None = None
    country_code: str | None = None


class ShippingAddress(BaseModel):
    id: str
    is_default: bool
    nickname: str | None = None
    address: Address


class ShippingAddressList(BaseModel):
    shipping_addresses: list[ShippingAddress]


class UserInfo(BaseModel):
    email: str
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


class Transaction(BaseModel):
    id: str
    source_id: str | None = None
    amount: int
    currency: str
    created_date: str  # ISO 8601
    description: str = ""  # never null: clients declare it a string
    origin: Literal["link", "external_connection"] = "link"
    category: str | None = None
    status: str


class TransactionList(BaseModel):
    data: list[Transaction]
    has_more: bool = False


class AgentObservation(BaseModel):
    """Body of `POST /agent_observations` (the CLI's `report`)."""

    domain: str = Field(min_length=1, max_length=253)
    outcome: Literal["success", "blocked", "abandoned"]
    spend_request_id: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    step: str | None = Field(default=None, max_length=500)
    freeform_context: str | None = Field(default=None, max_length=500)


class Source(BaseModel):
    """A funding source the agent may draw on (`GET /sources`): one per payment method."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["source"] = "source"
    name: str | None = None
    type: str | None = None  # card | bank_account
    is_default: bool = False
    card: dict[str, Any] | None = None
    bank_account: dict[str, Any] | None = None
    capabilities: dict[str, Any] | None = None
    granted_actions: list[str] | None = None


class SourceList(BaseModel):
    data: list[Source]
    has_more: bool = False


class BalanceLimit(BaseModel):
    """One rule that bounds spending from a source: its size and what is left of it."""

    model_config = ConfigDict(extra="allow")

    type: str  # per_request (later also budget windows)
    amount: int
    remaining: int
    currency: str


class Balance(BaseModel):
    """What the agent may still spend from one source (`GET /balances`). `current` is
    the most one spend request can ask for right now, in minor units."""

    model_config = ConfigDict(extra="allow")

    object: Literal["balance"] = "balance"
    source_id: str
    type: Literal["cash", "credit"] = "credit"
    current: int
    currency: str
    as_of: str  # ISO 8601
    cash: dict[str, Any] | None = None
    credit: dict[str, Any] | None = None
    limits: list[BalanceLimit] = Field(default_factory=list)


class BalanceList(BaseModel):
    data: list[Balance]
    has_more: bool = False
