"""Tables of the person's web app (sessions, passkeys, push subscriptions, channels).
Same `Base` as models.py; created by migration 0002_web."""

from linkpay.wallet.store.models import Base

__all__ = ["Base"]
