"""Checksum validators for Dutch identifiers: the BSN eleven-test and IBAN mod-97."""

from __future__ import annotations

import re

__all__ = ["is_valid_bsn", "is_valid_iban"]

_BSN_SEPARATORS = re.compile(r"[\s.]")
_BSN_SHAPE = re.compile(r"[0-9]{8,9}")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")

# IBAN length per country (SWIFT IBAN registry); other countries: 15..34 characters.
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def is_valid_bsn(s: str) -> bool:
    """Whether ``s`` is a burgerservicenummer that passes the eleven-test.

    Spaces and dots are ignored; 8 digits are read with a leading zero (a BSN
    stored as a number loses it). The weighted sum 9*d1 + 8*d2 + ... + 2*d8 - d9
    must be divisible by 11, and 000000000 is refused.
    """
    digits = _BSN_SEPARATORS.sub("", s)
    if not _BSN_SHAPE.fullmatch(digits):
        return False
    digits = digits.zfill(9)
    if digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def is_valid_iban(s: str) -> bool:
    """Whether ``s`` is an IBAN with a valid mod-97 check (any country; spaces ignored).

    Countries in the IBAN registry must also have their registered length.
    """
    iban = "".join(s.split()).upper()
    if not _IBAN_SHAPE.fullmatch(iban):
        return False
    expected = _IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1
