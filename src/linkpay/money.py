"""Money as people read it: integer minor units shown in figures and in words.

Amounts are integer minor units everywhere; the currency's exponent decides how many
minor units make one major unit (JPY has none, KWD has three). Imports nothing of ours,
so the wallet, the merchant, the demo and the CLI can all share it.
"""

from __future__ import annotations

# ISO 4217 currencies whose minor unit is the unit itself, and those with three decimals.
_ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
_THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())

_SYMBOLS = {
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "cad": "CA$",
    "aud": "A$",
    "nzd": "NZ$",
    "chf": "CHF ",
    "inr": "₹",
}
# (singular major, plural major, singular minor, plural minor)
_NAMES = {
    "usd": ("US dollar", "US dollars", "cent", "cents"),
    "eur": ("euro", "euros", "cent", "cents"),
    "gbp": ("pound sterling", "pounds sterling", "penny", "pence"),
    "cad": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
    "aud": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "nzd": ("New Zealand dollar", "New Zealand dollars", "cent", "cents"),
    "chf": ("Swiss franc", "Swiss francs", "centime", "centimes"),
    "jpy": ("Japanese yen", "Japanese yen", "", ""),
    "inr": ("Indian rupee", "Indian rupees", "paisa", "paise"),
}

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))


def currency_exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (usually 2)."""
    code = currency.lower()
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def format_money(amount: int | None, currency: str | None) -> str:
    """`1234, "usd"` → `"$12.34 USD"`; unknown currencies → `"12.34 XYZ"`."""
    if amount is None or not currency:
        return "—"
    exponent = currency_exponent(currency)
    sign = "−" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    figures = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(currency.lower(), "")
    return f"{sign}{symbol}{figures} {currency.upper()}"


def number_in_words(n: int) -> str:
    if n < 0:
        return "minus " + number_in_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_in_words(rest)}" if rest else "")
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{number_in_words(high)} {name}" + (f" {number_in_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def money_in_words(amount: int | None, currency: str | None) -> str:
    """`1234, "usd"` → `"twelve US dollars and thirty-four cents"`."""
    if amount is None or not currency:
        return ""
    code = currency.lower()
    exponent = currency_exponent(code)
    major, minor = divmod(abs(amount), 10**exponent)
    names = _NAMES.get(code)
    prefix = "minus " if amount < 0 else ""
    if names is None:
        figures = f"{major}" + (f".{minor:0{exponent}d}" if exponent else "")
        return f"{prefix}{figures} in {code.upper()}"
    one, many, minor_one, minor_many = names
    text = f"{number_in_words(major)} {one if major == 1 else many}"
    if minor and minor_one:
        cents = f"{number_in_words(minor)} {minor_one if minor == 1 else minor_many}"
        text = cents if major == 0 else f"{text} and {cents}"
    return prefix + text


def format_figures(amount: int, currency: str) -> str:
    """`1234, "usd"` → `"12.34 USD"`: the plain form for one-line notifications."""
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    figures = f"{major}" + (f".{minor:0{exponent}d}" if exponent else "")
    return f"{sign}{figures} {currency.upper()}"
