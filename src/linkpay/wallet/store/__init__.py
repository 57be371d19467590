"""Persistence: SQLAlchemy models and engine setup. The store only stores; every rule
lives in the services."""
