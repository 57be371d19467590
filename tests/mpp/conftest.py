"""Registers the MPP fixtures, which live in mpp_helpers.py beside their helpers."""

from mpp_helpers import cli, cli_logged_out, merchant, processor  # noqa: F401
