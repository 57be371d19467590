"""The demo merchant: a checkout page (card flow) and an MPP endpoint (SPT flow)."""
