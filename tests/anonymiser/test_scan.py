"""Output scan: identifiers in column names, group keys or released order statistics block."""

from __future__ import annotations

import json
import sys

import pytest

from anonymiser import AggregateFn, CellStats, CellTable, DisclosureConfig, assess, find_identifiers
from anonymiser.report import analyst_report, reviewer_report

BSN = "111222333"  # passes the eleven-test
IBAN = "NL91ABNA0417164300"  # the standard mod-97 example


@pytest.mark.parametrize(
    ("text", "detector"),
    [
        (BSN, "bsn"),
        ("111.222.333", "bsn"),
        (111222333, "bsn"),
        (111222333.0, "bsn"),
        (f"case of {BSN}", "bsn"),
        (IBAN, "iban"),
        ("nl91 abna 0417 1643 00", "iban"),
        (f"account {IBAN} closed", "iban"),
        ("AB-12-CD", "licence_plate"),
        ("12-ABC-3", "licence_plate"),
        ("12ABC3", "licence_plate"),
        ("gf-12-kl", "licence_plate"),
        ("AB-CD-12", "licence_plate"),
        ("jan.jansen@example.nl", "email"),
        ("06-12345678", "phone"),
        ("+31 20 1234567", "phone"),
        ("0031612345678", "phone"),
        ("1234 AB 12", "postcode_house_number"),
        ("1234AB 12a", "postcode_house_number"),
    ],
)
def test_detectors_find_identifiers(text: object, detector: str) -> None:
    assert detector in find_identifiers(text)


@pytest.mark.parametrize(
    "text",
    [
        "Noord-Holland",
        "111222334",  # fails the eleven-test
        "NL91ABNA0417164301",  # fails mod-97
        "GM0363",  # CBS municipality code
        "20240101",  # a yyyymmdd date label
        "1234 AB",  # a postcode alone is a region, not an address
        2024,
        12.5,
        None,
        float("nan"),
        "2024-Q1",
        "p10",
        "week12",  # word + number, not a plate without hyphens
        "kind10",
        "12week",
        "AB1234",
    ],
)
def test_ordinary_labels_pass(text: object) -> None:
    assert find_identifiers(text) == ()


def _table(label: object, column: str = "region", max_value: float = 5.0) -> CellTable:
    cells = (
        CellStats(0, "count", AggregateFn.COUNT, 40, 40),
        CellStats(0, "max_x", AggregateFn.MAX, max_value, 40, at_or_below=40, at_or_above=20),
        CellStats(1, "count", AggregateFn.COUNT, 40, 40),
        CellStats(1, "max_x", AggregateFn.MAX, 5.0, 40, at_or_below=40, at_or_above=20),
    )
    return CellTable((column,), ("count", "max_x"), ((label,), ("Zuid",)), cells)


def test_identifier_in_a_group_key_blocks_release_and_names_no_value() -> None:
    result = assess(_table(BSN), DisclosureConfig())
    assert result.blocked
    assert result.released_values() == {}
    # Callers that only read the verdicts release nothing either.
    assert result.released == frozenset()
    assert result.rule_counts()["output_scan"] == 4
    [finding] = result.scan
    assert (finding.part, finding.row, finding.column, finding.detector) == (
        "group_key",
        0,
        "region",
        "bsn",
    )
    for report in (reviewer_report(result), analyst_report(result)):
        assert BSN not in json.dumps(report)


def test_identifier_in_a_suppressed_row_still_blocks() -> None:
    # The row's label shows even when all its cells are suppressed.
    table = _table("jan@example.nl")
    cells = tuple(
        CellStats(
            c.row,
            c.column,
            c.fn,
            c.value,
            1 if c.row == 0 else c.entities,
            c.top,
            c.total,
            c.at_or_below,
            c.at_or_above,
        )
        for c in table
    )
    table = CellTable(table.group_columns, table.value_columns, table.keys, cells)
    result = assess(table, DisclosureConfig())
    assert result.blocked


def test_identifier_as_a_column_name_is_reported_by_position() -> None:
    result = assess(_table("Noord", column=IBAN), DisclosureConfig())
    assert [(f.part, f.column) for f in result.scan] == [("column_name", "column 0")]
    assert IBAN not in json.dumps(reviewer_report(result))


def test_identifier_as_a_released_max_blocks_until_it_is_suppressed() -> None:
    result = assess(_table("Noord", max_value=111222333.0), DisclosureConfig())
    assert [(f.part, f.row, f.column) for f in result.scan] == [("value", 0, "max_x")]
    assert result.released_values() == {}
    # Suppressing that cell (as secondary suppression might) lifts the block.
    later = result.with_secondary({(0, "max_x")}, rule="manual")
    assert not later.blocked
    assert (0, "max_x") not in later.released_values()
    assert later.released_values()[(0, "count")] == 40
    assert "output_scan" not in later.rule_counts()


def test_suppressed_values_are_not_scanned_and_clean_tables_pass() -> None:
    table = _table("Noord", max_value=111222333.0)
    cells = tuple(
        CellStats(
            c.row, c.column, c.fn, c.value, c.entities, at_or_below=c.at_or_below, at_or_above=1
        )
        if c.column == "max_x"
        else c
        for c in table
    )
    table = CellTable(table.group_columns, table.value_columns, table.keys, cells)
    result = assess(table, DisclosureConfig())
    assert not result.blocked
    assert result.released_values() == {(0, "count"): 40, (1, "count"): 40}


def test_a_scan_that_fails_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> tuple[()]:
        raise RuntimeError

    monkeypatch.setattr(sys.modules["anonymiser.assess"], "scan_table", broken)
    result = assess(_table("Noord"), DisclosureConfig())
    assert result.blocked and result.released_values() == {}
    assert [f.detector for f in result.scan] == ["scan_failed"]
