"""Issuers of one-time credentials (virtual cards, shared payment tokens)."""
