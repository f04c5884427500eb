"""Compile a resolved :class:`Plan` into the SQL statements of one query, for DuckDB or Spark.

Two layers. The *base* select (joins, filters, group expressions, measures) is the only
place user input enters; sqlglot builds it from checked names (quoted identifiers) and
bound parameters (``$p0`` in DuckDB, ``:p0`` in Spark: named markers, values passed beside
the SQL, never spliced in). Above it sits fixed SQL over internal aliases only (``g0``,
``e``, ``m0``...): the per-(group, entity) pre-aggregation ``pe`` and the statistics read
from it. That layer is written per dialect by hand because a few functions differ (top-n,
discrete quantiles, hex parsing) and sqlglot's transpiler does not keep discrete quantiles
discrete.

``pe`` holds one row per (grouping set, group, entity) with the entity's row count and, per
measure, its sum, value count, min and max. Every statistic comes from it: distinct
entities, sums and means (summed contributions, so a person in several joined datasets
counts once), dominance (top-n and total of |per-entity sums|), entity-set sketches, and the
at-or-below / at-or-above counts of order statistics (an entity has a value <= v iff its
min <= v). Only order statistics need a second scan of the base rows (for the value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from anonymiser.cells import TOP_CONTRIBUTORS, AggregateFn
from gateway.engine.plan import GroupPlan, Plan, Ref
from gateway.engine.spec import Scalar

Dialect = str  # "duckdb" | "spark"
SKETCH_BUCKETS = 64
SKETCH_TABLES = 3

_SQL_TYPE = {
    "integer": "BIGINT",
    "float": "DOUBLE",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
_COMPARE = {"eq": exp.EQ, "ne": exp.NEQ, "lt": exp.LT, "le": exp.LTE, "gt": exp.GT, "ge": exp.GTE}


@dataclass(frozen=True)
class EngineOptions:
    """What to compute beyond values and entity counts.

    ``sketches``: the entity-set sketch per row (differencing), a second aggregation.
    ``dp_max_groups`` (L) and ``dp_clip`` (U): when both are set, ``dp_value`` per cell (each
    entity kept in at most L rows per grouping set, chosen by a hash of entity and group;
    per-entity per-cell sums clipped to [-U, U]) and ``max_cells_per_entity``.
    """

    sketches: bool = True
    dp_max_groups: int | None = None
    dp_clip: float | None = None

    def __post_init__(self) -> None:
        """Reject bounds that would make the DP statistics meaningless."""
        if self.dp_max_groups is not None and self.dp_max_groups < 1:
            raise ValueError("dp_max_groups must be at least 1")
        if self.dp_clip is not None and not (0 < self.dp_clip < float("inf")):
            raise ValueError("dp_clip must be a positive finite number")

    @property
    def dp(self) -> bool:
        """Whether the differential-privacy statistics are asked."""
        return self.dp_max_groups is not None and self.dp_clip is not None


@dataclass
class Measure:
    """One measured column in the base select (``m{i}``) and what ``pe`` keeps of it."""

    index: int
    ref: Ref
    sums: bool = False
    extremes: bool = False


@dataclass(frozen=True)
class Statements:
    """The SQL of one query. ``pe`` is a SELECT to materialise (or inline) as ``pe``."""

    dialect: Dialect
    tables: tuple[str, ...]  # table i of the plan is read from tables[i]
    pe_name: str
    params: dict[str, Scalar]
    base: str  # the base SELECT (with parameter markers)
    pe: str  # SELECT ... FROM base
    cells: str  # SELECT ... FROM pe
    order: str | None  # WITH ov AS (...) SELECT ... (reads base and pe)
    sketch: str | None  # SELECT ... FROM pe
    l0: str | None  # SELECT MAX(...) FROM pe
    measures: dict[Ref, Measure] = field(default_factory=dict)

    def with_base(self, select: str, pe_inline: bool) -> str:
        """``select`` with the base CTE (and ``pe`` too, when it is not materialised)."""
        ctes = [f"base AS ({self.base})"]
        if pe_inline:
            ctes.append(f"{self.pe_name} AS ({self.pe})")
        head = "WITH " + ", ".join(ctes)
        if select.startswith("WITH "):
            return head + ", " + select[len("WITH ") :]
        return head + " " + select


def entity_hash_sql(dialect: Dialect, value: str) -> str:
    """SQL for the sketch key h of an entity value (a BIGINT; the contract of the sketches)."""
    return _Fns(dialect).entity_hash(value)


def check_hash_sql(dialect: Dialect, key: str) -> str:
    """SQL for the sketch check g of a key h (a BIGINT)."""
    return _Fns(dialect).check_hash(key)


class _Fns:
    """The few functions whose spelling differs between the dialects."""

    def __init__(self, dialect: Dialect) -> None:
        self.spark = dialect == "spark"
        self.text = "STRING" if self.spark else "VARCHAR"

    def top(self, x: str, n: int) -> str:
        if self.spark:
            return f"SLICE(SORT_ARRAY(COLLECT_LIST(ABS({x})), FALSE), 1, {n})"
        return f"MAX(ABS({x}), {n})"

    def quantile(self, x: str, q: float) -> str:
        # Both are the SQL standard's discrete percentile: the value at 1-based rank
        # ceil(n*q) of the ordered values (checked against each other in the parity tests).
        if self.spark:
            return f"PERCENTILE_DISC({q!r}) WITHIN GROUP (ORDER BY {x})"
        return f"QUANTILE_DISC({x}, {q!r})"

    def hex60(self, s: str) -> str:
        """The first 15 hex digits of md5(s) as a BIGINT (60 bits, non-negative)."""
        if self.spark:
            return f"CAST(CONV(SUBSTR(MD5({s}), 1, 15), 16, 10) AS BIGINT)"
        return f"CAST('0x' || SUBSTR(MD5({s}), 1, 15) AS BIGINT)"

    def entity_hash(self, value: str) -> str:
        """The sketch key h of an entity value (see :mod:`anonymiser.sketch`)."""
        return self.hex60(f"CAST({value} AS {self.text})")

    def check_hash(self, key: str) -> str:
        """The sketch check g of a key h (see :mod:`anonymiser.sketch`)."""
        return self.hex60(f"CAST({key} AS {self.text})")

    def shr(self, x: str, n: str) -> str:
        return f"SHIFTRIGHT({x}, {n})" if self.spark else f"({x} >> {n})"


def _col(table: int, name: str) -> exp.Column:
    return exp.column(name, table=f"t{table}", quoted=True)


class _Params:
    def __init__(self) -> None:
        self.values: dict[str, Scalar] = {}

    def bind(self, value: Scalar, sql_type: str) -> exp.Expr:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return exp.Cast(this=exp.Placeholder(this=name), to=exp.DataType.build(sql_type))


def _group_expr(g: GroupPlan, params: _Params) -> exp.Expr:
    column = _col(g.ref.table, g.ref.column)
    if g.trunc is not None:
        trunc = exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string(g.trunc), column])
        return exp.Cast(this=trunc, to=exp.DataType.build("DATE"))
    if g.bins is not None:
        # Bin index: 0 below the first edge, i for [edge i-1, edge i), len(edges) above.
        ifs = [exp.If(this=exp.Is(this=column.copy(), expression=exp.Null()), true=exp.Null())]
        for i, edge in enumerate(g.bins):
            below = exp.LT(this=column.copy(), expression=params.bind(edge, "DOUBLE"))
            ifs.append(exp.If(this=below, true=exp.Literal.number(i)))
        return exp.Case(ifs=ifs, default=exp.Literal.number(len(g.bins)))
    return column


def _base(
    plan: Plan,
    tables: Sequence[str],
    measures: dict[Ref, Measure],
    dialect: str,
    entity_hashes: tuple[str, str] | None,
) -> tuple[str, dict[str, Scalar]]:
    params = _Params()
    select: list[exp.Expr] = [
        _group_expr(g, params).as_(f"g{i}") for i, g in enumerate(plan.groups)
    ]
    select.append(_col(plan.entity.table, plan.entity.column).as_("e"))
    if entity_hashes is not None:
        key, check = entity_hashes
        select += [_col(plan.entity.table, key).as_("eh"), _col(plan.entity.table, check).as_("eg")]
    select += [_col(m.ref.table, m.ref.column).as_(f"m{m.index}") for m in measures.values()]
    query = exp.select(*select).from_(exp.to_table(tables[0]).as_("t0"))
    for j in plan.joins:
        on = exp.EQ(
            this=_col(j.left.table, j.left.column), expression=_col(j.table, j.right.column)
        )
        query = query.join(
            exp.to_table(tables[j.table]).as_(f"t{j.table}"),
            on=on,
            join_type="LEFT" if j.how == "left" else "INNER",
        )
    conditions: list[exp.Expr] = []
    for f in plan.filters:
        sql_type = _SQL_TYPE[f.ref.info.type]
        column = _col(f.ref.table, f.ref.column)
        if f.op == "in":
            conditions.append(
                exp.In(this=column, expressions=[params.bind(v, sql_type) for v in f.values])
            )
        elif f.op == "between":
            low, high = (params.bind(v, sql_type) for v in f.values)
            conditions.append(exp.Between(this=column, low=low, high=high))
        else:
            bound = params.bind(f.values[0], sql_type)
            conditions.append(_COMPARE[f.op](this=column, expression=bound))
    if conditions:
        query = query.where(exp.and_(*conditions))
    return query.sql(dialect=dialect), params.values


def _measures(plan: Plan) -> dict[Ref, Measure]:
    measures: dict[Ref, Measure] = {}
    for a in plan.aggregates:
        if a.ref is None:
            continue
        m = measures.setdefault(a.ref, Measure(len(measures), a.ref))
        fn = AggregateFn(a.fn)
        m.sums |= fn.is_magnitude
        m.extremes |= fn.is_order_statistic
    return measures


def compile_plan(
    plan: Plan,
    dialect: Dialect,
    tables: Sequence[str],
    options: EngineOptions,
    pe_name: str = "pe",
    entity_hashes: tuple[str, str] | None = None,
) -> Statements:
    """All statements of one query for ``dialect``.

    ``tables[i]`` names table i of the plan, ``pe_name`` the per-(group, entity)
    pre-aggregation (a CTE or a temporary table/view). ``entity_hashes`` names the
    entity table's columns holding each entity's sketch key and check, computed when the
    table was loaded (:mod:`gateway.engine.hashes`); without them the sketches hash in SQL.
    """
    fns = _Fns(dialect)
    measures = _measures(plan)
    hashed = options.sketches and entity_hashes is not None
    base, params = _base(plan, tables, measures, dialect, entity_hashes if hashed else None)
    k = len(plan.groups)
    g = [f"g{i}" for i in range(k)]
    totals = plan.totals and k > 0
    if totals:
        gid = " + ".join(f"GROUPING(g{i}) * {1 << (k - 1 - i)}" for i in range(k))
        subsets = [
            [g[i] for i in range(k) if not mask >> (k - 1 - i) & 1] for mask in range(1 << k)
        ]
        pe_groups = (
            "GROUPING SETS (" + ", ".join(f"({', '.join([*s, 'e'])})" for s in subsets) + ")"
        )
        ov_groups = "GROUPING SETS (" + ", ".join(f"({', '.join(s)})" for s in subsets) + ")"
    else:
        gid = "0"
        pe_groups = ", ".join([*g, "e"])
        ov_groups = ", ".join(g)
    pe_cols = [*g, "e", f"{gid} AS gid", "COUNT(*) AS n_rows"]
    if hashed:  # one value per entity: MIN just carries it through
        pe_cols += ["MIN(eh) AS eh", "MIN(eg) AS eg"]
    for m in measures.values():
        i = m.index
        pe_cols.append(f"COUNT(m{i}) AS c{i}")
        if m.sums:
            pe_cols.append(f"SUM(m{i}) AS s{i}")
        if m.extremes:
            pe_cols += [f"MIN(m{i}) AS lo{i}", f"MAX(m{i}) AS hi{i}"]
    pe = f"SELECT {', '.join(pe_cols)} FROM base GROUP BY {pe_groups}"  # noqa: S608 (internal aliases only)

    keys = ["gid", *g]
    group_clause = f" GROUP BY {', '.join(keys)}" if k else ""
    # Without groups the cells query is one global aggregate: one row even over no data.
    cells_cols = [*(keys if k else ["0 AS gid"]), "COUNT(e) AS o_n", "SUM(n_rows) AS o_rows"]
    source = pe_name
    if options.dp:
        assert options.dp_max_groups is not None and options.dp_clip is not None
        # Deterministic choice of the L rows an entity keeps: a hash of entity and group.
        key = (
            f"CONCAT_WS('|', CAST(e AS {fns.text}), "
            + ", ".join([f"CAST(g{i} AS {fns.text})" for i in range(k)] + ["''"])
            + ")"
        )
        source = (
            f"(SELECT *, ROW_NUMBER() OVER (PARTITION BY gid, e ORDER BY MD5({key})) AS rk "  # noqa: S608 (internal aliases only)
            f"FROM {pe_name}) AS pe"
        )
        clip = f"CAST({float(options.dp_clip)!r} AS DOUBLE)"
        kept = f"e IS NOT NULL AND rk <= {int(options.dp_max_groups)}"
        cells_cols += [
            f"COUNT(CASE WHEN {kept} THEN e END) AS o_dp_n",
            f"SUM(CASE WHEN {kept} THEN LEAST(n_rows, {clip}) END) AS o_dp_rows",
        ]
    for m in measures.values():
        i = m.index
        cells_cols.append(f"COUNT(CASE WHEN c{i} > 0 THEN e END) AS o_n{i}")
        if m.sums:
            # Contributions are per entity: rows without an entity have none.
            entity_sum = f"CASE WHEN e IS NOT NULL THEN s{i} END"
            cells_cols += [
                f"SUM(s{i}) AS o_s{i}",
                f"SUM(c{i}) AS o_c{i}",
                f"{fns.top(entity_sum, TOP_CONTRIBUTORS)} AS o_top{i}",
                f"SUM(ABS({entity_sum})) AS o_total{i}",
            ]
            if options.dp:
                cells_cols += [
                    f"SUM(CASE WHEN {kept} AND c{i} > 0 THEN "
                    f"LEAST(GREATEST(CAST(s{i} AS DOUBLE), -{clip}), {clip}) END) AS o_dp_s{i}",
                    f"COUNT(CASE WHEN {kept} AND c{i} > 0 THEN e END) AS o_dp_c{i}",
                ]
        if m.extremes:
            cells_cols += [f"MIN(lo{i}) AS o_lo{i}", f"MAX(hi{i}) AS o_hi{i}"]
    cells = f"SELECT {', '.join(cells_cols)} FROM {source}{group_clause}"  # noqa: S608 (internal aliases only)

    order = None
    ordered = [
        a for a in plan.aggregates if a.ref is not None and AggregateFn(a.fn).is_order_statistic
    ]
    if ordered:
        quantiles = any(
            AggregateFn(a.fn) not in (AggregateFn.MIN, AggregateFn.MAX) for a in ordered
        )
        ov_cols, counts = [f"{gid} AS gid", *g], []
        for j, a in enumerate(ordered):
            assert a.ref is not None
            i = measures[a.ref].index
            fn = AggregateFn(a.fn)
            if quantiles:
                q = fn.quantile
                assert q is not None
                expr = {0.0: f"MIN(m{i})", 1.0: f"MAX(m{i})"}.get(q) or fns.quantile(f"m{i}", q)
            else:
                expr = f"MIN(lo{i})" if fn is AggregateFn.MIN else f"MAX(hi{i})"
            ov_cols.append(f"{expr} AS v{j}")
            counts += [
                f"MAX(ov.v{j}) AS o_v{j}",
                f"COUNT(CASE WHEN pe.lo{i} <= ov.v{j} THEN pe.e END) AS o_below{j}",
                f"COUNT(CASE WHEN pe.hi{i} >= ov.v{j} THEN pe.e END) AS o_above{j}",
            ]
        ov_source = "base" if quantiles else pe_name
        ov_group = f" GROUP BY {ov_groups}" if k else ""
        if not quantiles and k:
            ov_group = f" GROUP BY {', '.join(keys)}"
            ov_cols[0] = "gid"
        on = " AND ".join(["ov.gid = pe.gid", *(f"ov.{c} IS NOT DISTINCT FROM pe.{c}" for c in g)])
        order = (
            f"WITH ov AS (SELECT {', '.join(ov_cols)} FROM {ov_source}{ov_group}) "  # noqa: S608 (internal aliases only)
            f"SELECT {', '.join(f'ov.{c}' for c in keys)}, {', '.join(counts)} "
            f"FROM ov LEFT JOIN {pe_name} AS pe ON {on} "
            f"GROUP BY {', '.join(f'ov.{c}' for c in keys)}"
        )

    sketch = None
    if options.sketches:
        if hashed:
            hashes = (
                f"SELECT {', '.join(keys)}, eh AS h, eg AS chk FROM {pe_name} WHERE e IS NOT NULL"  # noqa: S608 (internal aliases only)
            )
        else:
            hashes = (
                f"SELECT {', '.join(keys)}, h, {fns.check_hash('h')} AS chk FROM ("  # noqa: S608 (internal aliases only)
                f"SELECT {', '.join(keys)}, {fns.entity_hash('e')} AS h "
                f"FROM {pe_name} WHERE e IS NOT NULL) AS hs"
            )
        width = SKETCH_BUCKETS.bit_length() - 1
        bucket = f"j * {SKETCH_BUCKETS} + ({fns.shr('h', f'({width} * j)')} & {SKETCH_BUCKETS - 1})"
        sub = " UNION ALL ".join(
            ["SELECT 0 AS j", *(f"SELECT {j}" for j in range(1, SKETCH_TABLES))]
        )
        sketch = (
            f"SELECT {', '.join(keys)}, {bucket} AS bucket, COUNT(*) AS cnt, "  # noqa: S608 (internal aliases only)
            f"BIT_XOR(h) AS key_xor, BIT_XOR(chk) AS check_xor FROM ({hashes}) AS hc "
            f"CROSS JOIN ({sub}) AS js GROUP BY {', '.join(keys)}, {bucket}"
        )

    l0 = None
    if options.dp:
        l0 = (
            f"SELECT MAX(cells) AS l0 FROM (SELECT e, COUNT(*) AS cells FROM {pe_name} "  # noqa: S608 (internal aliases only)
            "WHERE gid = 0 AND e IS NOT NULL GROUP BY e) AS per_entity"
        )
    return Statements(
        dialect, tuple(tables), pe_name, params, base, pe, cells, order, sketch, l0, measures
    )
