"""Compile a resolved :class:`Plan` into the SQL statements of one query, for DuckDB or Spark.

Two layers. The *base* select (joins, filters, group expressions, measures) is the only
place user input enters; sqlglot builds it from checked names (quoted identifiers) and
bound parameters (``$p0`` in DuckDB, ``:p0`` in Spark: named markers, values passed beside
the SQL, never spliced in). Above it sits fixed SQL over internal aliases only (``g0``,
``e``, ``m0``...): the per-(group, entity) pre-aggregation ``pe`` and the statistics read
from it. That layer is written per dialect by hand because a few functions differ (top-n,
discrete quantiles, hex parsing) and sqlglot's transpiler does not keep discrete quantiles
discrete.

``pe`` holds one row per (grouping set, group, entity) with what the spec needs of the entity:
its row count (count_rows, DP), per measure its sum, value count (means), min and max. Every
statistic comes from it: distinct entities, sums and means (summed contributions, so a person
in several joined datasets counts once), dominance (top-n and total of |per-entity sums|),
entity-set sketches, and the at-or-below / at-or-above counts of order statistics (an entity
has a value <= v iff its min <= v). Only order statistics need a second scan of the base rows.

Sketches ride along in the same pass: ``pb`` aggregates ``pe`` per (group, the 10 bits of
the entity key the sketch reads) into partial statistics and partial sketch buckets, 1024
rows per group at most; the row statistics and both sketch sub-tables
(:mod:`anonymiser.sketch`) are roll-ups of ``pb``, so ``pe`` is streamed once, never stored.

Entities are grouped and counted by their 60-bit sketch key when the gateway loaded the
table with its hidden entity columns (:mod:`gateway.engine.hashes`, which checks the key is
unique over the table's entities): grouping by a number is cheaper than by a 32-character
pseudonym, and ``pe`` then carries the key for free, as its group key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from anonymiser.cells import TOP_CONTRIBUTORS, AggregateFn
from gateway.engine.plan import GroupPlan, Plan, Ref
from gateway.engine.spec import Scalar

Dialect = str  # "duckdb" | "spark"
SKETCH_BUCKETS = 32
SKETCH_TABLES = 2
SKETCH_STRIDE = 6  # sub-table j reads the 5 bits of the key from bit 6*j
# pb: one row per (group, the 10 key bits both sub-tables read), 1024 at most.
PARTIAL_MASK = sum((SKETCH_BUCKETS - 1) << (SKETCH_STRIDE * j) for j in range(SKETCH_TABLES))

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

    ``sketches``: the entity-set sketch per row (differencing), rolled up from ``pb``.
    ``top_contributors``: how many of the largest per-entity contributions to list per
    magnitude cell; the dominance rules need ``n`` of the (n,k) rule and two for p%, and
    a longer list costs a heap per cell (a shorter one than a rule needs suppresses).
    ``dp_max_groups`` (L) and ``dp_clip`` (U): when both are set, ``dp_value`` per cell (each
    entity kept in at most L rows per grouping set, chosen by a hash of entity and group;
    per-entity per-cell sums clipped to [-U, U]) and ``max_cells_per_entity``.
    """

    sketches: bool = True
    dp_max_groups: int | None = None
    dp_clip: float | None = None
    top_contributors: int = TOP_CONTRIBUTORS

    def __post_init__(self) -> None:
        """Reject bounds that would make the statistics meaningless."""
        if not 1 <= self.top_contributors <= TOP_CONTRIBUTORS:
            raise ValueError(f"top_contributors must be 1..{TOP_CONTRIBUTORS}")
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
    counts: bool = False  # value counts: only means divide by them
    extremes: bool = False

    def has_value(self) -> str:
        """SQL over a ``pe`` row: the entity has at least one value of the measure."""
        # SUM, MIN of no values are NULL in both dialects.
        return f"s{self.index} IS NOT NULL" if self.sums else f"lo{self.index} IS NOT NULL"


@dataclass(frozen=True)
class EntityKeys:
    """The entity table's hidden columns (:mod:`gateway.engine.hashes`).

    ``key`` holds each entity's sketch key h (its check g is computed from h in SQL).
    Entities are grouped and counted by ``key``, unique over the table's entities, unless
    ``ordinal`` is given: a dense number per entity, there because two entities share a key.
    """

    ordinal: str | None
    key: str


@dataclass(frozen=True)
class Statements:
    """The SQL of one query. ``pe`` is a SELECT to materialise (or inline) as ``pe``."""

    dialect: Dialect
    tables: tuple[str, ...]  # table i of the plan is read from tables[i]
    pe_name: str
    params: dict[str, Scalar]
    base: str  # the base SELECT (with parameter markers)
    pe: str  # SELECT ... FROM base
    pb: str | None  # SELECT ... FROM pe: partial statistics per (group, bucket); with sketches
    cells: str  # SELECT ... FROM pb, or FROM pe when there is no pb or DP needs pe's rows
    order: str | None  # WITH ov AS (...) SELECT ... (reads base and pe)
    sketch: str | None  # SELECT ... FROM pb
    l0: str | None  # SELECT MAX(...) FROM pe
    measures: dict[Ref, Measure] = field(default_factory=dict)

    @property
    def pb_name(self) -> str:
        """The name ``pb`` is materialised under."""
        return partials_name(self.pe_name)

    @property
    def pe_shared(self) -> bool:
        """Whether statements besides ``pb``/``cells`` read ``pe`` (then it is materialised)."""
        return bool(self.order or self.l0)

    def with_base(self, select: str, pe_inline: bool) -> str:
        """``select`` with the base CTE (and ``pe`` too, when it is not materialised)."""
        ctes = [f"base AS ({self.base})"]
        if pe_inline:
            ctes.append(f"{self.pe_name} AS ({self.pe})")
        head = "WITH " + ", ".join(ctes)
        if select.startswith("WITH "):
            return head + ", " + select[len("WITH ") :]
        return head + " " + select


def partials_name(pe_name: str) -> str:
    """The name of ``pb`` beside ``pe_name``."""
    return f"{pe_name}_b"


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

    def merge_top(self, tops: str, n: int) -> str:
        """The n largest of the values in many top-n lists (the top-n of their union)."""
        if self.spark:
            return f"SLICE(SORT_ARRAY(FLATTEN(COLLECT_LIST({tops})), FALSE), 1, {n})"
        merged = f"FLATTEN(LIST({tops}) FILTER ({tops} IS NOT NULL))"
        return f"LIST_SLICE(LIST_REVERSE_SORT({merged}), 1, {n})"

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
        """The sketch check g of a key h (see :mod:`anonymiser.sketch`): BIGINT arithmetic."""
        product = f"(({key} & 1073741823) * ({self.shr(key, '30')} | 1))"
        # Spark's ^ is XOR; DuckDB's ^ is a power, its XOR a function.
        return f"({product} ^ {key})" if self.spark else f"XOR({product}, {key})"

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
    entity: EntityKeys | None,
    hashes: bool,
) -> tuple[str, dict[str, Scalar]]:
    params = _Params()
    select: list[exp.Expr] = [
        _group_expr(g, params).as_(f"g{i}") for i, g in enumerate(plan.groups)
    ]
    table = plan.entity.table
    if entity is None:
        select.append(_col(table, plan.entity.column).as_("e"))
    else:
        select.append(_col(table, entity.ordinal or entity.key).as_("e"))
        select += [_col(table, entity.key).as_("eh")] if hashes and entity.ordinal else []
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
        m.counts |= fn is AggregateFn.MEAN
        m.extremes |= fn.is_order_statistic
    return measures


@dataclass(frozen=True)
class _Shape:
    """What one query computes, shared by the statement builders below."""

    fns: _Fns
    k: int  # group columns
    measures: dict[Ref, Measure]
    rows: bool  # per-entity row counts (count_rows, DP)
    entity: EntityKeys | None  # the entity's hidden columns, when the table has them
    top: int  # largest contributions listed per magnitude cell

    @property
    def hashed(self) -> bool:
        """Whether ``eh`` comes from the hidden column (else it is hashed in SQL)."""
        return self.entity is not None

    @property
    def keyed(self) -> bool:
        """Whether ``e`` is the key h itself (else a value or ordinal, ``eh`` beside it)."""
        return self.entity is not None and self.entity.ordinal is None

    @property
    def g(self) -> list[str]:
        return [f"g{i}" for i in range(self.k)]

    @property
    def keys(self) -> list[str]:
        return ["gid", *self.g]

    def group_by(self) -> str:
        """GROUP BY the row keys; none without groups: one global row."""
        return f" GROUP BY {', '.join(self.keys)}" if self.k else ""

    def select_keys(self) -> list[str]:
        return self.keys if self.k else ["0 AS gid"]


def _grouping(shape: _Shape, totals: bool) -> tuple[str, str, str]:
    """(gid expression, pe's GROUP BY, the order query's GROUP BY)."""
    k, g = shape.k, shape.g
    if not totals:
        return "0", ", ".join([*g, "e"]), ", ".join(g)
    gid = " + ".join(f"GROUPING(g{i}) * {1 << (k - 1 - i)}" for i in range(k))
    subsets = [[g[i] for i in range(k) if not mask >> (k - 1 - i) & 1] for mask in range(1 << k)]
    pe_groups = "GROUPING SETS (" + ", ".join(f"({', '.join([*s, 'e'])})" for s in subsets) + ")"
    ov_groups = "GROUPING SETS (" + ", ".join(f"({', '.join(s)})" for s in subsets) + ")"
    return gid, pe_groups, ov_groups


def _pe(shape: _Shape, gid: str, pe_groups: str, sketches: bool, dp: bool) -> str:
    cols = [*shape.g, "e", f"{gid} AS gid"]
    if shape.rows:
        cols.append("COUNT(*) AS n_rows")
    if shape.hashed and (sketches or dp):  # one value per entity: MIN just carries it through
        cols.append("e AS eh" if shape.keyed else "MIN(eh) AS eh")
    for m in shape.measures.values():
        i = m.index
        if m.counts:
            cols.append(f"COUNT(m{i}) AS c{i}")
        if m.sums:
            cols.append(f"SUM(m{i}) AS s{i}")
        if m.extremes:
            cols += [f"MIN(m{i}) AS lo{i}", f"MAX(m{i}) AS hi{i}"]
    return f"SELECT {', '.join(cols)} FROM base GROUP BY {pe_groups}"  # noqa: S608 (internal aliases only)


def _entity_sum(i: int) -> str:
    # Contributions are per entity: rows without an entity have none.
    return f"CASE WHEN e IS NOT NULL THEN s{i} END"


def _measure_stats(shape: _Shape, prefix: str) -> list[str]:
    """Per measure, what the rules read, aggregated over ``pe`` rows (aliases ``prefix``...)."""
    cols = []
    for m in shape.measures.values():
        i = m.index
        cols.append(f"COUNT(CASE WHEN {m.has_value()} THEN e END) AS {prefix}n{i}")
        if m.sums:
            cols += [
                f"SUM(s{i}) AS {prefix}s{i}",
                f"{shape.fns.top(_entity_sum(i), shape.top)} AS {prefix}top{i}",
                f"SUM(ABS({_entity_sum(i)})) AS {prefix}total{i}",
            ]
            if m.counts:
                cols.append(f"SUM(c{i}) AS {prefix}c{i}")
        if m.extremes:
            cols += [f"MIN(lo{i}) AS {prefix}lo{i}", f"MAX(hi{i}) AS {prefix}hi{i}"]
    return cols


def _cells_from_pe(shape: _Shape, source: str, options: EngineOptions) -> str:
    """Row statistics straight from ``pe`` (``source``: pe, or pe ranked for DP)."""
    cols = [*shape.select_keys(), "COUNT(e) AS o_n"]
    if shape.rows:
        cols.append("SUM(n_rows) AS o_rows")
    kept = f"e IS NOT NULL AND rk <= {int(options.dp_max_groups or 0)}"
    clip = f"CAST({float(options.dp_clip or 1.0)!r} AS DOUBLE)"
    if options.dp:
        cols += [
            f"COUNT(CASE WHEN {kept} THEN e END) AS o_dp_n",
            f"SUM(CASE WHEN {kept} THEN LEAST(n_rows, {clip}) END) AS o_dp_rows",
        ]
    cols += _measure_stats(shape, "o_")
    for m in shape.measures.values():
        i = m.index
        if m.sums and options.dp:
            cols += [
                f"SUM(CASE WHEN {kept} AND {m.has_value()} THEN "
                f"LEAST(GREATEST(CAST(s{i} AS DOUBLE), -{clip}), {clip}) END) AS o_dp_s{i}",
                f"COUNT(CASE WHEN {kept} AND {m.has_value()} THEN e END) AS o_dp_c{i}",
            ]
    return f"SELECT {', '.join(cols)} FROM {source}{shape.group_by()}"  # noqa: S608 (internal aliases only)


def _pb(shape: _Shape, pe_name: str) -> str:
    """Partial statistics and sketch buckets per (row, the sketch's 10 bits of the entity key)."""
    fns = shape.fns
    source = pe_name
    if not shape.hashed:
        source = f"(SELECT *, {fns.entity_hash('e')} AS eh FROM {pe_name}) AS ph"  # noqa: S608 (internal aliases only)
    cols = [
        *shape.keys,
        f"(eh & {PARTIAL_MASK}) AS b",  # NULL for the row without an entity
        "COUNT(e) AS p_n",
        "BIT_XOR(eh) AS p_key",
        f"BIT_XOR({fns.check_hash('eh')}) AS p_check",
    ]
    if shape.rows:
        cols.append("SUM(n_rows) AS p_rows")
    cols += _measure_stats(shape, "p_")
    return (
        f"SELECT {', '.join(cols)} FROM {source} "  # noqa: S608 (internal aliases only)
        f"GROUP BY {', '.join(shape.keys)}, (eh & {PARTIAL_MASK})"
    )


def _cells_from_pb(shape: _Shape, pb_name: str) -> str:
    """Row statistics rolled up from ``pb``: the same values as :func:`_cells_from_pe`."""
    fns = shape.fns
    cols = [*shape.select_keys(), "COALESCE(SUM(p_n), 0) AS o_n"]
    if shape.rows:
        cols.append("SUM(p_rows) AS o_rows")
    for m in shape.measures.values():
        i = m.index
        cols.append(f"COALESCE(SUM(p_n{i}), 0) AS o_n{i}")
        if m.sums:
            cols += [
                f"SUM(p_s{i}) AS o_s{i}",
                f"{fns.merge_top(f'p_top{i}', shape.top)} AS o_top{i}",
                f"SUM(p_total{i}) AS o_total{i}",
            ]
            if m.counts:
                cols.append(f"SUM(p_c{i}) AS o_c{i}")
        if m.extremes:
            cols += [f"MIN(p_lo{i}) AS o_lo{i}", f"MAX(p_hi{i}) AS o_hi{i}"]
    return f"SELECT {', '.join(cols)} FROM {pb_name}{shape.group_by()}"  # noqa: S608 (internal aliases only)


def _sketch(shape: _Shape, pb_name: str) -> str:
    """Both sketch sub-tables of every row, rolled up from ``pb``'s partial buckets."""
    fns = shape.fns
    bucket = (
        f"j * {SKETCH_BUCKETS} + ({fns.shr('b', f'({SKETCH_STRIDE} * j)')} & {SKETCH_BUCKETS - 1})"
    )
    sub = " UNION ALL ".join(["SELECT 0 AS j", *(f"SELECT {j}" for j in range(1, SKETCH_TABLES))])
    return (
        f"SELECT {', '.join(shape.keys)}, {bucket} AS bucket, SUM(p_n) AS cnt, "  # noqa: S608 (internal aliases only)
        f"BIT_XOR(p_key) AS key_xor, BIT_XOR(p_check) AS check_xor FROM {pb_name} "
        f"CROSS JOIN ({sub}) AS js WHERE b IS NOT NULL GROUP BY {', '.join(shape.keys)}, {bucket}"
    )


def _order(plan: Plan, shape: _Shape, gid: str, ov_groups: str, pe_name: str) -> str | None:
    """Order statistics: each value, and how many entities lie at or below / above it."""
    ordered = [
        a for a in plan.aggregates if a.ref is not None and AggregateFn(a.fn).is_order_statistic
    ]
    if not ordered:
        return None
    k, g, keys = shape.k, shape.g, shape.keys
    quantiles = any(AggregateFn(a.fn) not in (AggregateFn.MIN, AggregateFn.MAX) for a in ordered)
    ov_cols, counts = [f"{gid} AS gid", *g], []
    for j, a in enumerate(ordered):
        assert a.ref is not None
        i = shape.measures[a.ref].index
        fn = AggregateFn(a.fn)
        if quantiles:
            q = fn.quantile
            assert q is not None
            expr = {0.0: f"MIN(m{i})", 1.0: f"MAX(m{i})"}.get(q) or shape.fns.quantile(f"m{i}", q)
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
    return (
        f"WITH ov AS (SELECT {', '.join(ov_cols)} FROM {ov_source}{ov_group}) "  # noqa: S608 (internal aliases only)
        f"SELECT {', '.join(f'ov.{c}' for c in keys)}, {', '.join(counts)} "
        f"FROM ov LEFT JOIN {pe_name} AS pe ON {on} "
        f"GROUP BY {', '.join(f'ov.{c}' for c in keys)}"
    )


def _dp_ranked(shape: _Shape, pe_name: str) -> str:
    """``pe`` with each entity's rows ranked by a hash of entity and group (DP keeps L)."""
    fns = shape.fns
    # The entity's sketch key, when loaded, rather than a per-table ordinal: the choice
    # then does not depend on the order the table was loaded in.
    entity = "eh" if shape.hashed else "e"
    key = (
        f"CONCAT_WS('|', CAST({entity} AS {fns.text}), "
        + ", ".join([f"CAST(g{i} AS {fns.text})" for i in range(shape.k)] + ["''"])
        + ")"
    )
    return (
        f"(SELECT *, ROW_NUMBER() OVER (PARTITION BY gid, e ORDER BY MD5({key})) AS rk "  # noqa: S608 (internal aliases only)
        f"FROM {pe_name}) AS pe"
    )


def compile_plan(
    plan: Plan,
    dialect: Dialect,
    tables: Sequence[str],
    options: EngineOptions,
    pe_name: str = "pe",
    entity: EntityKeys | None = None,
) -> Statements:
    """All statements of one query for ``dialect``.

    ``tables[i]`` names table i of the plan, ``pe_name`` the per-(group, entity)
    pre-aggregation (a CTE or a temporary table/view; ``pb`` is named after it).
    ``entity`` names the entity table's hidden columns, added when the table was loaded
    (:mod:`gateway.engine.hashes`); without them entities are counted by value and the
    sketches hash in SQL.
    """
    measures = _measures(plan)
    rows = options.dp or any(AggregateFn(a.fn) is AggregateFn.COUNT_ROWS for a in plan.aggregates)
    shape = _Shape(
        _Fns(dialect), len(plan.groups), measures, rows, entity, options.top_contributors
    )
    base, params = _base(plan, tables, measures, dialect, entity, options.sketches or options.dp)
    gid, pe_groups, ov_groups = _grouping(shape, plan.totals and shape.k > 0)
    pe = _pe(shape, gid, pe_groups, options.sketches, options.dp)
    pb_name = partials_name(pe_name)
    pb = _pb(shape, pe_name) if options.sketches else None
    if options.dp:
        cells = _cells_from_pe(shape, _dp_ranked(shape, pe_name), options)
    elif pb is not None:
        cells = _cells_from_pb(shape, pb_name)
    else:
        cells = _cells_from_pe(shape, pe_name, options)
    l0 = None
    if options.dp:
        l0 = (
            f"SELECT MAX(cells) AS l0 FROM (SELECT e, COUNT(*) AS cells FROM {pe_name} "  # noqa: S608 (internal aliases only)
            "WHERE gid = 0 AND e IS NOT NULL GROUP BY e) AS per_entity"
        )
    return Statements(
        dialect,
        tuple(tables),
        pe_name,
        params,
        base,
        pe,
        pb,
        cells,
        _order(plan, shape, gid, ov_groups, pe_name),
        _sketch(shape, pb_name) if pb is not None else None,
        l0,
        measures,
    )
