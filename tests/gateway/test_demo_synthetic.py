"""Tests for the synthetic demo partner datasets."""

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from gateway.demo.synthetic import DATASET_ORG, demo_meta, generate, is_valid_bsn, write_csv

NAMES = ("police_incidents", "customs_declarations", "tax_records")
PEOPLE = 5000


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return generate()


def _persons(table: pa.Table) -> set[str]:
    return set(table["bsn"].to_pylist())


def test_returns_the_three_partner_datasets(tables):
    assert set(tables) == set(NAMES) == set(DATASET_ORG)
    assert DATASET_ORG == {
        "police_incidents": "politie",
        "customs_declarations": "douane",
        "tax_records": "belastingdienst",
    }


def test_same_seed_gives_identical_tables():
    first, second = generate(seed=7, people=800), generate(seed=7, people=800)
    for name in NAMES:
        assert first[name].equals(second[name])


def test_other_seed_gives_other_tables():
    first, second = generate(seed=7, people=800), generate(seed=8, people=800)
    assert not first["police_incidents"].equals(second["police_incidents"])


def test_default_seed_is_stable(tables):
    assert generate()["tax_records"].equals(tables["tax_records"])


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("111222333", True),  # 9+8+7+12+10+8+9+6 - 3 = 66 = 6 * 11
        ("123456782", True),
        ("123456789", False),
        ("11122233", False),
        ("11122233x", False),
    ],
)
def test_eleven_test(value, valid):
    assert is_valid_bsn(value) is valid


def test_every_bsn_passes_the_eleven_test(tables):
    for table in tables.values():
        assert table.schema.field("bsn").type == pa.string()
        assert all(is_valid_bsn(bsn) for bsn in table["bsn"].to_pylist())


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("police_incidents", 0.3, 1.0),
        ("customs_declarations", 0.3, 1.0),
        ("tax_records", 0.6, 1.6),
    ],
)
def test_row_counts_are_plausible(tables, name, low, high):
    rows = tables[name].num_rows
    assert low * PEOPLE <= rows <= high * PEOPLE
    assert len(_persons(tables[name])) <= PEOPLE


def test_police_has_about_one_and_a_half_incidents_per_person(tables):
    police = tables["police_incidents"]
    assert 1.3 <= police.num_rows / len(_persons(police)) <= 1.7


def test_about_a_fifth_of_people_appear_in_all_three(tables):
    police, customs, tax = (_persons(tables[name]) for name in NAMES)
    assert 0.15 * PEOPLE <= len(police & customs & tax) <= 0.25 * PEOPLE


def test_mensenhandel_in_zeeland_is_a_small_group(tables):
    police = tables["police_incidents"]
    mask = pc.and_(
        pc.equal(police["incident_type"], "mensenhandel"), pc.equal(police["region"], "Zeeland")
    )
    group = police.filter(mask)
    assert 1 <= len(_persons(group)) < 10
    assert group.num_rows > len(_persons(group))  # rows overstate the persons behind them


def test_one_declarant_dominates_chemicalien_at_moerdijk(tables):
    customs = tables["customs_declarations"]
    mask = pc.and_(
        pc.equal(customs["port"], "Moerdijk"), pc.equal(customs["goods_category"], "chemicalien")
    )
    values = sorted(customs.filter(mask)["declared_value_eur"].to_pylist())
    assert values[-1] > 0.85 * sum(values)


def test_values_stay_in_their_domains(tables):
    police, customs, tax = (tables[name] for name in NAMES)
    dates = police["incident_date"].to_pylist() + customs["declaration_date"].to_pylist()
    assert all(dt.date(2023, 1, 1) <= day <= dt.date(2025, 12, 31) for day in dates)
    assert set(tax["tax_year"].to_pylist()) <= {2022, 2023, 2024, 2025}
    assert set(tax["income_band"].to_pylist()) == {"<20k", "20-40k", "40-60k", "60-100k", ">100k"}
    assert pc.min(police["damage_eur"]).as_py() == 0.0
    assert all(p.startswith("Eenheid ") for p in police["police_unit"].to_pylist())
    assert len(set(police["region"].to_pylist())) == 12
    assert 0 < sum(tax["flagged_by_fiod"].to_pylist()) < 0.05 * tax.num_rows


def test_cash_is_always_declared_as_cash(tables):
    customs = tables["customs_declarations"]
    cash = customs.filter(pc.equal(customs["goods_category"], "contant geld"))
    assert cash.num_rows > 0
    assert all(cash["cash_declared"].to_pylist())


@pytest.mark.parametrize(
    ("name", "legal_basis"),
    [
        ("police_incidents", "wpg-art22"),
        ("customs_declarations", "douanewet"),
        ("tax_records", "awr-43c"),
    ],
)
def test_demo_meta_matches_the_table(tables, name, legal_basis):
    meta = demo_meta(name)
    assert set(meta) == {"name", "legal_basis", "entity_columns", "columns", "retention_until"}
    assert meta["name"] == name
    assert meta["legal_basis"] == legal_basis
    assert meta["entity_columns"] == ["bsn"]
    assert list(meta["columns"]) == tables[name].column_names
    assert set(meta["columns"].values()) <= {"identifier", "category", "measure", "date"}
    assert meta["columns"]["bsn"] == "identifier"
    retention = dt.date.fromisoformat(meta["retention_until"])
    assert retention == dt.date.today() + dt.timedelta(days=365)


def test_demo_meta_roles_follow_column_types(tables):
    for name in NAMES:
        roles = demo_meta(name)["columns"]
        for field in tables[name].schema:
            if pa.types.is_floating(field.type):
                assert roles[field.name] == "measure"
            elif pa.types.is_boolean(field.type):
                assert roles[field.name] == "category"
            elif pa.types.is_date(field.type):
                assert roles[field.name] == "date"


def test_demo_meta_refuses_unknown_names():
    with pytest.raises(KeyError):
        demo_meta("prosecution_cases")


def test_write_csv_round_trips(tmp_path):
    tables = generate(seed=3, people=300)
    paths = write_csv(tables, tmp_path / "demo")
    assert set(paths) == set(NAMES)
    for name, path in paths.items():
        assert path == tmp_path / "demo" / f"{name}.csv"
        options = pacsv.ConvertOptions(column_types={"bsn": pa.string()})
        back = pacsv.read_csv(path, convert_options=options)
        assert back.column_names == tables[name].column_names
        assert back.num_rows == tables[name].num_rows
        assert back["bsn"].to_pylist() == tables[name]["bsn"].to_pylist()
