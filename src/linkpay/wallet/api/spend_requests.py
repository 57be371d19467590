"""Spend request routes (placeholder router; filled in by the spend service work)."""

from fastapi import APIRouter

router = APIRouter()
