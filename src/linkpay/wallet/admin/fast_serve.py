"""`link-wallet serve …` in its common spellings, parsed without cyclopts: importing it
and building the command tree was ~5% of a wallet's start-up. Anything else (help, an
unknown, repeated or valueless option, a number cyclopts might read another way) is
declined and takes the cyclopts path, which reports errors. `tests/wallet/
test_fast_serve.py` checks that both parsers bind the same values."""

from __future__ import annotations

from typing import Any

from linkpay.argv import option_value

_VALUED = {"--host": "host", "--port": "port", "--public-url": "public_url", "--workers": "workers"}
_NUMBERS = {"port", "workers"}
_FLAGS = {"--access-log": True, "--no-access-log": False}


def parse(tokens: list[str]) -> dict[str, Any] | None:
    """The options of `serve` from the tokens after it, or None to decline."""
    options: dict[str, Any] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        name = token.partition("=")[0]
        if token in _FLAGS:
            if "access_log" in options:
                return None
            options["access_log"] = _FLAGS[token]
        elif name in _VALUED:
            key = _VALUED[name]
            if key in options:
                return None
            value, index = option_value(tokens, index)
            if not value or value.startswith("-"):
                return None
            if key in _NUMBERS:
                if not (value.isascii() and value.isdigit()) or value != str(int(value)):
                    return None
                options[key] = int(value)
            else:
                options[key] = value
        else:
            return None
        index += 1
    return options
