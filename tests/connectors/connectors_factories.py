"""Test data for the connectors tests: valid BSNs and IBANs, built the way the checks expect."""

from __future__ import annotations

# Valid by the eleven-test.
BSNS = ["111222333", "123456782", "012345672", "999999990"]


def bsn_with_check_digit(first8: str) -> str | None:
    """Complete eight digits to a BSN passing the eleven-test, or None if none exists."""
    total = sum(int(d) * w for d, w in zip(first8, range(9, 1, -1), strict=True))
    check = total % 11
    if check == 10 or (first8 == "00000000" and check == 0):
        return None
    return first8 + str(check)


def iban_with_check_digits(country: str, bban: str) -> str:
    """Build an IBAN with correct mod-97 check digits."""
    rearranged = bban + country + "00"
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    return f"{country}{98 - number % 97:02d}{bban}"
