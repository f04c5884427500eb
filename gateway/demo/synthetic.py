"""Synthetic partner datasets for the Sluis demo: police, customs and tax rows on one BSN key.

Every person is invented by a seeded ``random.Random``; the same seed gives identical tables.
Some cells are planted on purpose so the anonymiser has something to do: a handful of persons
behind all "mensenhandel" incidents in Zeeland (too few entities), one declarant who dominates
the "chemicalien" declarations at Moerdijk (dominance), and about a fifth of the population
present in all three datasets (so joins find links).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

DATASET_ORG = {
    "police_incidents": "politie",
    "customs_declarations": "douane",
    "tax_records": "belastingdienst",
}
LEGAL_BASIS = {
    "police_incidents": "wpg-art22",
    "customs_declarations": "douanewet",
    "tax_records": "awr-43c",
}
RETENTION_DAYS = 365

_COLUMNS: dict[str, tuple[tuple[str, pa.DataType, str], ...]] = {
    "police_incidents": (
        ("bsn", pa.string(), "identifier"),
        ("incident_date", pa.date32(), "date"),
        ("region", pa.string(), "category"),
        ("incident_type", pa.string(), "category"),
        ("police_unit", pa.string(), "category"),
        ("damage_eur", pa.float64(), "measure"),
    ),
    "customs_declarations": (
        ("bsn", pa.string(), "identifier"),
        ("declaration_date", pa.date32(), "date"),
        ("port", pa.string(), "category"),
        ("goods_category", pa.string(), "category"),
        ("declared_value_eur", pa.float64(), "measure"),
        ("cash_declared", pa.bool_(), "category"),
        ("region", pa.string(), "category"),
    ),
    "tax_records": (
        ("bsn", pa.string(), "identifier"),
        ("tax_year", pa.int64(), "category"),
        ("region", pa.string(), "category"),
        ("income_band", pa.string(), "category"),
        ("declared_income_eur", pa.float64(), "measure"),
        ("cash_deposits_eur", pa.float64(), "measure"),
        ("flagged_by_fiod", pa.bool_(), "category"),
    ),
}
COLUMN_ROLES = {name: {col: role for col, _, role in cols} for name, cols in _COLUMNS.items()}
_SCHEMAS = {n: pa.schema([(c, t) for c, t, _ in cols]) for n, cols in _COLUMNS.items()}

# province: (inhabitants in thousands, CBS 2024 rounded; regional police unit(s) covering it)
PROVINCES = {
    "Zuid-Holland": (3850, ("Rotterdam", "Den Haag")),
    "Noord-Holland": (2950, ("Amsterdam", "Noord-Holland")),
    "Noord-Brabant": (2650, ("Oost-Brabant", "Zeeland-West-Brabant")),
    "Gelderland": (2150, ("Oost-Nederland",)),
    "Utrecht": (1400, ("Midden-Nederland",)),
    "Overijssel": (1180, ("Oost-Nederland",)),
    "Limburg": (1120, ("Limburg",)),
    "Friesland": (660, ("Noord-Nederland",)),
    "Groningen": (590, ("Noord-Nederland",)),
    "Drenthe": (500, ("Noord-Nederland",)),
    "Flevoland": (440, ("Midden-Nederland",)),
    "Zeeland": (390, ("Zeeland-West-Brabant",)),
}
# band: (population share, police propensity, median yearly income in euros)
AGE_BANDS = {
    "18-24": (11, 1.8, 18_000),
    "25-34": (17, 1.5, 36_000),
    "35-44": (16, 1.1, 46_000),
    "45-54": (17, 0.9, 50_000),
    "55-64": (17, 0.6, 46_000),
    "65+": (22, 0.3, 28_000),
}
# type: (frequency, median damage in euros)
INCIDENT_TYPES = {
    "diefstal": (35, 600),
    "geweld": (22, 1_500),
    "drugshandel": (18, 5_000),
    "fraude": (14, 8_000),
    "witwassen": (6, 25_000),
    "wapenbezit": (4, 300),
    "mensenhandel": (1, 15_000),
}
PORTS = {
    "Rotterdam": 40,
    "Schiphol": 25,
    "Antwerpen-grens": 12,
    "Moerdijk": 10,
    "Vlissingen": 8,
    "Eemshaven": 5,
}
# category: (frequency, scale of the Pareto-distributed value in euros)
GOODS = {
    "elektronica": (25, 2_000),
    "textiel": (20, 1_500),
    "voedingsmiddelen": (25, 3_000),
    "chemicalien": (10, 8_000),
    "voertuigen": (12, 15_000),
    "contant geld": (8, 10_000),  # cash must be declared from 10,000 euros (EU 2018/1672)
}
INCOME_BANDS = ((20_000, "<20k"), (40_000, "20-40k"), (60_000, "40-60k"), (100_000, "60-100k"))

OVERLAP_SHARE = 0.20  # persons drawn into all three datasets
SMALL_GROUP_PERSONS = 4  # mensenhandel in Zeeland: visibly below any entity threshold
DOMINANT_VALUE_EUR = 40_000_000.0  # one chemicalien declaration at Moerdijk outweighs the rest
_PERIOD_START = dt.date(2023, 1, 1)
_PERIOD_DAYS = (dt.date(2025, 12, 31) - _PERIOD_START).days + 1
_TAX_YEARS = (2022, 2025)


@dataclass(frozen=True, slots=True)
class _Person:
    bsn: str
    region: str
    age_band: str
    income: float  # base yearly income in 2022
    risky: bool  # involved in cash-flow crime: links the signals across datasets


def is_valid_bsn(value: str) -> bool:
    """Return whether ``value`` is nine digits passing the BSN eleven-test."""
    if len(value) != 9 or not value.isdigit():
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(value, weights, strict=True)) % 11 == 0


def _bsn(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:  # a remainder of 10 cannot be a check digit: draw again
            return "".join(map(str, digits)) + str(check)


def _pick(rng: random.Random, table: dict[str, Any], boost: dict[str, float] | None = None) -> str:
    boost = boost or {}
    freqs = [(w[0] if isinstance(w, tuple) else w) * boost.get(n, 1.0) for n, w in table.items()]
    return rng.choices(list(table), weights=freqs)[0]


def _day(rng: random.Random) -> dt.date:
    return _PERIOD_START + dt.timedelta(days=rng.randrange(_PERIOD_DAYS))


def _extra(rng: random.Random, p_more: float) -> int:
    """One plus a geometric number of further rows, each with chance ``p_more``."""
    return 1 + int(math.log(1.0 - rng.random()) / math.log(p_more))


def _population(rng: random.Random, people: int) -> list[_Person]:
    persons: dict[str, _Person] = {}
    while len(persons) < people:
        bsn = _bsn(rng)
        if bsn in persons:
            continue
        band = _pick(rng, AGE_BANDS)
        income = AGE_BANDS[band][2] * rng.lognormvariate(0, 0.55)
        persons[bsn] = _Person(bsn, _pick(rng, PROVINCES), band, income, False)
    return list(persons.values())


def generate(seed: int = 2026, people: int = 5000) -> dict[str, pa.Table]:
    """Generate the three demo datasets; the same ``seed`` and ``people`` give identical tables."""
    if people < 100:
        raise ValueError("people must be at least 100")
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    persons = _population(rng, people)
    order = list(range(people))
    rng.shuffle(order)
    core = order[: round(people * OVERLAP_SHARE)]
    police, customs, tax = set(core), set(core), set(core)
    for i in order[len(core) :]:
        if rng.random() < 0.25 * AGE_BANDS[persons[i].age_band][1]:
            police.add(i)
        if rng.random() < 0.18:
            customs.add(i)
        if rng.random() < 0.50:
            tax.add(i)
    for i in order:
        risky = rng.random() < (0.35 if i in police and i in customs else 0.02)
        persons[i] = replace(persons[i], risky=risky)
    small_group = core[:SMALL_GROUP_PERSONS]
    for i in small_group:
        persons[i] = replace(persons[i], region="Zeeland", risky=True)
    dominant = persons[core[SMALL_GROUP_PERSONS]]

    police_rows = [r for i in sorted(police) for r in _incidents(rng, persons[i])]
    for i in small_group:
        police_rows += [_incident(rng, persons[i], "Zeeland", "mensenhandel") for _ in range(3)]
    customs_rows = [r for i in sorted(customs) for r in _declarations(rng, persons[i])]
    big = (dominant.bsn, _day(rng), "Moerdijk", "chemicalien", DOMINANT_VALUE_EUR, False)
    customs_rows.append((*big, dominant.region))
    tax_rows = [r for i in sorted(tax) for r in _tax_years(rng, persons[i])]
    return {
        "police_incidents": _table("police_incidents", police_rows, "incident_date"),
        "customs_declarations": _table("customs_declarations", customs_rows, "declaration_date"),
        "tax_records": _table("tax_records", tax_rows, "tax_year"),
    }


def _table(name: str, rows: list[tuple[Any, ...]], order_by: str) -> pa.Table:
    schema = _SCHEMAS[name]
    columns = [list(col) for col in zip(*rows, strict=True)]
    table = pa.Table.from_arrays(
        [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
    )
    return table.sort_by([(order_by, "ascending"), ("bsn", "ascending")])


def _incident(rng: random.Random, p: _Person, region: str, kind: str) -> tuple[Any, ...]:
    unit = "Eenheid " + rng.choice(PROVINCES[region][1])
    median = INCIDENT_TYPES[kind][1]
    damage = 0.0 if rng.random() < 0.3 else round(rng.lognormvariate(math.log(median), 1.2), 2)
    return (p.bsn, _day(rng), region, kind, unit, min(damage, 5_000_000.0))


def _incidents(rng: random.Random, p: _Person) -> list[tuple[Any, ...]]:
    rows = []
    boost = {"witwassen": 6.0, "drugshandel": 3.0} if p.risky else None
    for _ in range(_extra(rng, 1 / 3)):
        region = p.region if rng.random() < 0.85 else _pick(rng, PROVINCES)
        kind = _pick(rng, INCIDENT_TYPES, boost)
        while region == "Zeeland" and kind == "mensenhandel":  # keep the planted group small
            kind = _pick(rng, INCIDENT_TYPES, boost)
        rows.append(_incident(rng, p, region, kind))
    return rows


def _declarations(rng: random.Random, p: _Person) -> list[tuple[Any, ...]]:
    rows = []
    boost = {"contant geld": 5.0} if p.risky else None
    for _ in range(_extra(rng, 0.45)):
        goods = _pick(rng, GOODS, boost)
        value = min(GOODS[goods][1] * rng.paretovariate(1.4), 25_000_000.0)
        cash = goods == "contant geld" or rng.random() < 0.02
        port = _pick(rng, PORTS)
        rows.append((p.bsn, _day(rng), port, goods, round(value, 2), cash, p.region))
    return rows


def _income_band(income: float) -> str:
    return next((band for limit, band in INCOME_BANDS if income < limit), ">100k")


def _tax_years(rng: random.Random, p: _Person) -> list[tuple[Any, ...]]:
    first, last = _TAX_YEARS
    start = rng.randint(first, last)
    end = rng.randint(start, last)
    rows = []
    for year in range(start, end + 1):
        income = round(p.income * 1.03 ** (year - first) * rng.lognormvariate(0, 0.1), 2)
        large = rng.random() < (0.25 if p.risky else 0.03)
        if large:
            deposits = round(min(rng.paretovariate(1.3) * 15_000, 10_000_000.0), 2)
        else:
            deposits = 0.0 if rng.random() < 0.4 else round(rng.expovariate(1 / 400), 2)
        flagged = rng.random() < (0.15 if p.risky and large else 0.004)
        rows.append((p.bsn, year, p.region, _income_band(income), income, deposits, flagged))
    return rows


def write_csv(tables: dict[str, pa.Table], directory: Path) -> dict[str, Path]:
    """Write each table as ``<name>.csv`` in ``directory``; return the paths by name."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / f"{name}.csv" for name in tables}
    for name, table in tables.items():
        pacsv.write_csv(table, paths[name])
    return paths


def demo_meta(name: str) -> dict[str, Any]:
    """Return the upload metadata (legal basis, entity column, roles) for a demo table."""
    if name not in COLUMN_ROLES:
        raise KeyError(f"unknown demo dataset: {name}")
    retention = dt.date.today() + dt.timedelta(days=RETENTION_DAYS)
    return {
        "name": name,
        "legal_basis": LEGAL_BASIS[name],
        "entity_columns": ["bsn"],
        "columns": dict(COLUMN_ROLES[name]),
        "retention_until": retention.isoformat(),
    }
