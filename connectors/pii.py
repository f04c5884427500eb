"""Detection of Dutch identifiers in an uploaded table, on a sample of its rows.

A finding names a column, a detector and the share of values that matched; never a value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from connectors.checksums import is_valid_bsn, is_valid_iban

__all__ = [
    "DEFAULT_MIN_SHARE",
    "DEFAULT_SAMPLE_ROWS",
    "PiiFinding",
    "detect_identifiers",
    "is_valid_bsn",
    "is_valid_iban",
]

DEFAULT_SAMPLE_ROWS = 10_000
DEFAULT_MIN_SHARE = 0.5

_Kind = Literal["string", "integer", "temporal"]


@dataclass(frozen=True)
class PiiFinding:
    """A column where ``share`` (0..1) of the sampled non-empty values matched ``detector``."""

    column: str
    detector: str
    share: float


@dataclass(frozen=True)
class _Sample:
    column: str
    compact: str  # the column name, lower case, letters and digits only
    tokens: frozenset[str]  # the column name split into lower-case words
    kind: _Kind
    values: pa.StringArray  # trimmed, without nulls and empty strings


# Dutch licence plate side codes 1-14 (L letter, D digit). Hyphens are optional
# except for DDDD-LL, which without them is a postcode.
_SIDE_CODES = (
    "LL-DD-DD", "DD-DD-LL", "DD-LL-DD", "LL-DD-LL", "LL-LL-DD", "DD-LL-LL", "DD-LLL-D",
    "D-LLL-DD", "LL-DDD-L", "L-DDD-LL", "LLL-DD-L", "L-DD-LLL", "D-LL-DDD", "DDD-LL-D",
)  # fmt: skip


def _plate_regex() -> str:
    alternatives = []
    for code in _SIDE_CODES:
        groups = ["".join("[A-Z]" if ch == "L" else "[0-9]" for ch in g) for g in code.split("-")]
        alternatives.append(("-" if code == "DD-DD-LL" else "-?").join(groups))
    return "^(?:" + "|".join(alternatives) + ")$"


_EMAIL = r"^[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$"
_POSTCODE = r"^[1-9][0-9]{3} ?[A-Z]{2}$"
_POSTCODE_HOUSE_NUMBER = r"^[1-9][0-9]{3} ?[A-Z]{2}[ ,\-]*[0-9]{1,5}(?:[ \-]?[A-Z0-9]{1,4})?$"
_PHONE = r"^(?:(?:\+|00)310?[1-9][0-9]{8}|0[1-9][0-9]{8})$"
_PLATE = _plate_regex()
_DATE_TEXT = (
    r"^(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[ T].*)?"
    r"|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{4}|(?:19|20)[0-9]{6})$"
)
_DATE_NUMBER = r"^(?:19|20)[0-9]{6}$"
_NAME_LIKE = r"^\p{L}[\p{L}'\x{2019}.\- ]*$"  # a bounded repeat would compile slowly
_NAME_MAX_CHARS = 100
_DOB_MIN_VALUES = 20
_DOB_FIRST_YEAR = 1900
_DOB_MIN_SPREAD_YEARS = 15

_NAME_SUFFIXES = ("naam", "name", "namen", "names")
_NAME_WORDS = frozenset({"voorletters", "initialen", "initials", "tussenvoegsel"})


def _share(mask: pa.Array, total: int) -> float:
    hits = pc.sum(mask).as_py() or 0
    return float(hits) / total


def _regex_share(values: pa.StringArray, pattern: str) -> float:
    return _share(pc.match_substring_regex(values, pattern), len(values))


def _upper_compact(values: pa.StringArray, separators: str = r"\s") -> pa.StringArray:
    stripped = pc.replace_substring_regex(values, separators, "")
    result: pa.StringArray = pc.utf8_upper(stripped)
    return result


def _count_valid(values: pa.StringArray, prefilter: pa.Array, check: Callable[[str], bool]) -> int:
    candidates = values.filter(prefilter)
    return sum(1 for value in candidates.to_pylist() if value is not None and check(value))


def _name_like(values: pa.StringArray) -> pa.Array:
    letters = pc.match_substring_regex(values, _NAME_LIKE)
    return pc.and_(letters, pc.less_equal(pc.utf8_length(values), _NAME_MAX_CHARS))


def _bsn(sample: _Sample) -> float | None:
    digits = pc.replace_substring_regex(sample.values, r"[\s.]", "")
    prefilter = pc.match_substring_regex(digits, r"^[0-9]{8,9}$")
    return _count_valid(digits, prefilter, is_valid_bsn) / len(sample.values)


def _iban(sample: _Sample) -> float | None:
    compact = _upper_compact(sample.values)
    prefilter = pc.match_substring_regex(compact, r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
    hits = _count_valid(compact, prefilter, is_valid_iban)
    return hits / len(sample.values)


def _email(sample: _Sample) -> float | None:
    return _regex_share(sample.values, _EMAIL)


def _postcode_house_number(sample: _Sample) -> float | None:
    return _regex_share(pc.utf8_upper(sample.values), _POSTCODE_HOUSE_NUMBER)


def _postcode(sample: _Sample) -> float | None:
    return _regex_share(pc.utf8_upper(sample.values), _POSTCODE)


def _phone(sample: _Sample) -> float | None:
    return _regex_share(_upper_compact(sample.values, r"[\s\-().]"), _PHONE)


def _licence_plate(sample: _Sample) -> float | None:
    return _regex_share(pc.utf8_upper(sample.values), _PLATE)


def _kvk(sample: _Sample) -> float | None:
    hinted = any(h in sample.compact for h in ("kvk", "handelsregister", "chamberofcommerce"))
    if not (hinted or "coc" in sample.tokens or "kamervankoophandel" in sample.compact):
        return None
    # 8 digits; a number loses a leading zero.
    pattern = r"^[0-9]{7,8}$" if sample.kind == "integer" else r"^[0-9]{8}$"
    return _regex_share(sample.values, pattern)


def _birth_years(sample: _Sample) -> pa.Array:
    pattern = _DATE_NUMBER if sample.kind == "integer" else _DATE_TEXT
    dates = sample.values.filter(pc.match_substring_regex(sample.values, pattern))
    years = pc.struct_field(pc.extract_regex(dates, r"(?P<y>(?:19|20)[0-9]{2})"), [0])
    result: pa.Array = years.cast(pa.int32())
    return result


def _date_of_birth(sample: _Sample) -> float | None:
    hinted = "geboorte" in sample.compact or "birth" in sample.compact
    if hinted or sample.tokens & {"dob", "gebdat", "gebdatum"}:
        if sample.kind == "temporal":
            return 1.0
        pattern = _DATE_NUMBER if sample.kind == "integer" else _DATE_TEXT
        return _regex_share(sample.values, pattern)
    # Unhinted: dates in the past spread over decades look like birth dates;
    # event dates (registrations, payments) span a few years at most.
    years = _birth_years(sample)
    if len(years) < _DOB_MIN_VALUES:
        return None
    plausible = pc.and_(
        pc.greater_equal(years, _DOB_FIRST_YEAR), pc.less_equal(years, dt.date.today().year)
    )
    quartiles = pc.quantile(years, q=[0.25, 0.75]).to_pylist()
    if quartiles[1] - quartiles[0] < _DOB_MIN_SPREAD_YEARS:
        return None
    return _share(plausible, len(sample.values))


@cache
def _known_names() -> frozenset[str]:
    text = resources.files("connectors").joinpath("data/names.txt").read_text(encoding="utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _has_known_name(value: str) -> bool:
    words = value.lower().replace("-", " ").split()
    known = _known_names()
    return any(
        " ".join(words[start : start + size]) in known
        for size in (1, 2, 3, 4)
        for start in range(len(words) - size + 1)
    )


def _name(sample: _Sample) -> float | None:
    hinted = any(t.endswith(_NAME_SUFFIXES) for t in sample.tokens) or bool(
        sample.tokens & _NAME_WORDS
    )
    name_like = _name_like(sample.values)
    if hinted:
        return _share(name_like, len(sample.values))
    return _count_valid(sample.values, name_like, _has_known_name) / len(sample.values)


_Detector = Callable[[_Sample], float | None]
_ALL_KINDS: frozenset[_Kind] = frozenset({"string", "integer"})
_DETECTORS: tuple[tuple[str, frozenset[_Kind], _Detector], ...] = (
    ("bsn", _ALL_KINDS, _bsn),
    ("iban", frozenset({"string"}), _iban),
    ("email", frozenset({"string"}), _email),
    ("postcode_house_number", frozenset({"string"}), _postcode_house_number),
    ("postcode", frozenset({"string"}), _postcode),
    ("phone", frozenset({"string"}), _phone),
    ("licence_plate", frozenset({"string"}), _licence_plate),
    ("kvk", _ALL_KINDS, _kvk),
    ("date_of_birth", frozenset({"string", "integer", "temporal"}), _date_of_birth),
    ("name", frozenset({"string"}), _name),
)


def _kind(arrow_type: pa.DataType) -> _Kind | None:
    if pa.types.is_dictionary(arrow_type):
        return _kind(arrow_type.value_type)
    if (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    ):
        return "string"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type):
        return "temporal"
    return None


def _column_words(name: str) -> frozenset[str]:
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+", name)
    return frozenset(word.lower() for word in words)


def _sample(column: str, data: pa.ChunkedArray, kind: _Kind, rows: int) -> _Sample:
    head = data.slice(0, rows)
    if pa.types.is_dictionary(head.type):
        head = head.cast(head.type.value_type)
    strings = pc.utf8_trim_whitespace(head.cast(pa.string()).combine_chunks())
    values = strings.filter(pc.not_equal(strings, ""))
    compact = re.sub(r"[^0-9a-z]", "", column.lower())
    return _Sample(column, compact, _column_words(column), kind, values)


def detect_identifiers(
    table: pa.Table,
    *,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    min_share: float = DEFAULT_MIN_SHARE,
) -> list[PiiFinding]:
    """Find columns that hold Dutch identifiers, judged on the first ``sample_rows`` rows.

    Text and integer columns are checked by every detector that applies (BSN,
    IBAN, e-mail, postcode with or without house number, phone, licence plate,
    KvK number and date of birth when the column name hints at them, names);
    date columns only for a date of birth. A finding is reported when at least
    ``min_share`` of the non-empty sampled values match. Findings come in
    column order, then detector order; a column may have several.
    """
    findings: list[PiiFinding] = []
    for index, field in enumerate(table.schema):
        kind = _kind(field.type)
        if kind is None:
            continue
        sample = _sample(field.name, table.column(index), kind, sample_rows)
        if len(sample.values) == 0:
            continue
        for detector, kinds, detect in _DETECTORS:
            if kind not in kinds:
                continue
            share = detect(sample)
            if share is not None and share >= min_share:
                findings.append(PiiFinding(field.name, detector, round(share, 4)))
    return findings
