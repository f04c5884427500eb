"""Output scan: look for identifier-like strings in everything a released table shows.

Column names, group-key labels and the values of order-statistic cells (a
min, max or quantile is some entity's own value, so an identifier column's
max would be one) are searched for Dutch identifiers: BSN (eleven-test),
IBAN (mod-97), licence plates (RDW side codes), e-mail addresses, phone
numbers and postcode with house number. Counts, sums and means are not
scanned: they are computed over at least ``min_entities`` entities, and about
one in eleven 9-digit totals would pass the eleven-test by chance. A finding
names where and which detector, never the matched text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from anonymiser.cells import TOTAL, CellTable
from connectors.checksums import is_valid_bsn, is_valid_iban

__all__ = ["DETECTORS", "ScanFinding", "find_identifiers", "scan_table"]

Part = Literal["column_name", "group_key", "value", "table"]


@dataclass(frozen=True)
class ScanFinding:
    """An identifier-like string found in a table: where, and which detector matched.

    ``row`` is None for a column name. ``column`` is the column's name, or
    ``"column <i>"`` (its position) when the name itself matched. Part
    ``"table"`` with detector ``"scan_failed"`` means the scan could not finish.
    """

    part: Part
    row: int | None
    column: str
    detector: str


_D = r"(?<![0-9A-Za-z])"  # not glued to a letter or digit before
_E = r"(?![0-9A-Za-z])"  # ... or after
_BSN = re.compile(_D + r"(?:[0-9][ .]?){7,8}[0-9]" + _E)
_YYYYMMDD = re.compile(r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
_IBAN = re.compile(_D + r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}" + _E)
_EMAIL = re.compile(r"[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:\+31|0031|0)[ \-]?(?:\(0\))?[1-9](?:[ \-]?[0-9]){8}(?![0-9])"
)
_POSTCODE_HOUSE = re.compile(
    _D + r"[1-9][0-9]{3} ?[A-Z]{2}[ ,\-]*[0-9]{1,5}(?:[ \-]?[A-Z0-9]{1,4})?" + _E
)
# RDW side codes 1-14 (L letter, D digit). Hyphens are optional where three groups alternate
# (12ABC3); they are required for shapes that read as a word or code plus a number
# (WEEK12 = LL-LL-DD, GM0363 = LL-DD-DD, 12WEEK, and DDDDLL, which is a postcode).
_SIDE_CODES = (
    "LL-DD-DD", "DD-DD-LL", "DD-LL-DD", "LL-DD-LL", "LL-LL-DD", "DD-LL-LL", "DD-LLL-D",
    "D-LLL-DD", "LL-DDD-L", "L-DDD-LL", "LLL-DD-L", "L-DD-LLL", "D-LL-DDD", "DDD-LL-D",
)  # fmt: skip
_HYPHEN_REQUIRED = frozenset({"LL-DD-DD", "DD-DD-LL", "LL-LL-DD", "DD-LL-LL"})


def _side_code_regex(code: str) -> str:
    groups = ["".join("[A-Z]" if ch == "L" else "[0-9]" for ch in part) for part in code.split("-")]
    return ("-" if code in _HYPHEN_REQUIRED else "-?").join(groups)


_PLATE = re.compile(_D + "(?:" + "|".join(map(_side_code_regex, _SIDE_CODES)) + ")" + _E)


def _bsn(text: str) -> bool:
    for match in _BSN.finditer(text):
        digits = re.sub(r"[ .]", "", match.group())
        # An 8-digit yyyymmdd date is a date label, not a BSN that lost its leading zero.
        if len(digits) == 8 and _YYYYMMDD.fullmatch(digits):
            continue
        if is_valid_bsn(digits):
            return True
    return False


def _iban(text: str) -> bool:
    for match in _IBAN.finditer(text.upper()):
        compact = match.group().replace(" ", "")
        # The pattern is greedy: also try shorter prefixes (text may follow the IBAN).
        if any(is_valid_iban(compact[:n]) for n in range(15, len(compact) + 1)):
            return True
    return False


def _plate(text: str) -> bool:
    return _PLATE.search(text.upper()) is not None


DETECTORS: Final[tuple[tuple[str, re.Pattern[str] | None], ...]] = (
    ("bsn", None),
    ("iban", None),
    ("email", _EMAIL),
    ("phone", _PHONE),
    ("postcode_house_number", _POSTCODE_HOUSE),
    ("licence_plate", None),
)
_CHECKS = {"bsn": _bsn, "iban": _iban, "licence_plate": _plate}


def _text(value: object) -> str | None:
    """The text a value is shown as; whole floats as integers (a BSN stored as 1.23e8)."""
    if value is None or value is TOTAL or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def find_identifiers(value: object) -> tuple[str, ...]:
    """Names of the detectors that match ``value`` (as shown as text); empty when none."""
    text = _text(value)
    if not text:
        return ()
    hits = []
    for name, pattern in DETECTORS:
        check = _CHECKS.get(name)
        matched = check(text) if check else bool(pattern and pattern.search(text.upper()))
        if matched:
            hits.append(name)
    return tuple(hits)


def scan_table(
    table: CellTable, released: Mapping[tuple[int, str], object] | Iterable[tuple[int, str]]
) -> tuple[ScanFinding, ...]:
    """Scan a table's column names, group keys and released order-statistic values.

    ``released`` names the cells that will be shown (a mapping's values are
    what is shown, else the cells' own values are used). Group keys are
    scanned for every row, released or not: a row's label shows even when
    all its cells are suppressed.
    """
    names = table.group_columns + table.value_columns
    findings: list[ScanFinding] = []
    hidden: set[str] = set()
    for i, name in enumerate(names):
        for detector in find_identifiers(name):
            findings.append(ScanFinding("column_name", None, f"column {i}", detector))
            hidden.add(name)

    def shown(name: str) -> str:
        return f"column {names.index(name)}" if name in hidden else name

    seen: dict[tuple[type, object], tuple[str, ...]] = {}  # labels repeat across rows
    for row, key in enumerate(table.keys):
        for name, label in zip(table.group_columns, key, strict=True):
            try:
                hits = seen.get((type(label), label))
            except TypeError:  # an unhashable label: scan it every time
                hits = find_identifiers(label)
            if hits is None:
                hits = seen[(type(label), label)] = find_identifiers(label)
            for detector in hits:
                findings.append(ScanFinding("group_key", row, shown(name), detector))
    values = released if isinstance(released, Mapping) else dict.fromkeys(released)
    for cell in table:
        if cell.key not in values or not cell.fn.is_order_statistic:
            continue
        value = values[cell.key] if isinstance(released, Mapping) else cell.value
        for detector in find_identifiers(value):
            findings.append(ScanFinding("value", cell.row, shown(cell.column), detector))
    return tuple(findings)
