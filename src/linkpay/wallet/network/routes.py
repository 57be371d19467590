"""Test network HTTP routes (placeholder router; filled in by the network work)."""

from fastapi import APIRouter

router = APIRouter()
