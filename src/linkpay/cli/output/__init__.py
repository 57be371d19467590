"""Turning results into text: sanitizing, filtering, the five formats, TTY views, and
the safe writer for credential files."""
