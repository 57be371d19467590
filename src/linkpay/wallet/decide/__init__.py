"""One authorization decision for every card backend (Stripe, Lithic, test network)."""

from linkpay.wallet.decide.merchant import merchant_matches, normalize_name
from linkpay.wallet.decide.record import authorize, record
from linkpay.wallet.decide.rules import MESSAGES, AuthorizationAsk, Decision, decide

__all__ = [
    "MESSAGES",
    "AuthorizationAsk",
    "Decision",
    "authorize",
    "decide",
    "merchant_matches",
    "normalize_name",
    "record",
]
