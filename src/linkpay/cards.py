"""Card-number helpers: the Luhn (mod 10) check. The test issuer makes valid numbers,
the test network and the demo checkout reject invalid ones, and the log filter uses it
to tell a card number from an order id. Imports nothing of ours."""


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload + digit` pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:  # doubled: these sit at odd positions once the check digit is added
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when `number` (digits only, at least two) passes the Luhn check."""
    if len(number) < 2 or not number.isdigit():
        return False
    return luhn_check_digit(number[:-1]) == number[-1]
