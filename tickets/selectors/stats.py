"""Aggregation helpers: mean, median and p90 in the database (percentile_cont on PostgreSQL; on SQLite the
values are fetched, one column, and interpolated exactly as percentile_cont does)."""

from __future__ import annotations

import math
from collections import defaultdict
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Aggregate, Avg, Count, FloatField, Func, QuerySet

from tickets.selectors.filters import KEY_ORDER

PERCENTILES = {"median": 0.5, "p90": 0.9}


class PercentilesCont(Aggregate):
    """PostgreSQL: percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY x): one sort for all percentiles."""

    function = "percentile_cont"
    template = "%(function)s(ARRAY[%(fractions)s]::float8[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, fractions: tuple[float, ...], **extra):
        from django.contrib.postgres.fields import ArrayField

        # Literal fractions written by this module, never user input.
        fractions_sql = ", ".join(repr(float(f)) for f in fractions)
        super().__init__(expression, fractions=fractions_sql, output_field=ArrayField(FloatField()), **extra)


class SecondsBetween(Func):
    """end − start in seconds (float), in SQL on both backends."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"EXTRACT(EPOCH FROM ({end} - {start}))::float8", (*end_params, *start_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        # julianday keeps ~10 µs; rounded to the millisecond the stored microseconds allow.
        return f"ROUND((julianday({end}) - julianday({start})) * 86400.0, 3)", (*end_params, *start_params)


def percentile_cont(sorted_values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(sorted_values[lower])
    weight = position - lower
    return float(sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * weight)


NO_PERCENTILES = {label: None for label in PERCENTILES}


def timing_stats(queryset: QuerySet, measures: dict[str, object], key=None) -> list[dict]:
    """Count, mean, median and p90 of each measure (name -> field name or expression) per group.

    Rows with a NULL first measure are left out. Returns [{"key", "count", <measure>: {"mean", "median",
    "p90"}}] ordered by key; key None and one row when `key` is None (an empty selection gives count 0).
    """
    qs = queryset.annotate(**{f"_m_{name}": expr for name, expr in measures.items()}).filter(
        **{f"_m_{next(iter(measures))}__isnull": False}
    )
    aggregates: dict[str, Aggregate] = {"_count": Count("pk")}
    for name in measures:
        aggregates[f"_mean_{name}"] = Avg(f"_m_{name}", output_field=FloatField())
        if connection.vendor == "postgresql":
            aggregates[f"_pct_{name}"] = PercentilesCont(f"_m_{name}", tuple(PERCENTILES.values()))
    grouped = qs.annotate(_key=key).values("_key") if key is not None else None
    rows = (
        list(grouped.annotate(**aggregates).order_by(KEY_ORDER))
        if grouped is not None
        else [qs.aggregate(**aggregates)]
    )

    python_percentiles: dict[object, dict[str, dict[str, float | None]]] = {}
    if connection.vendor != "postgresql":
        python_percentiles = _python_percentiles(qs, list(measures), key)

    result = []
    for row in rows:
        group = row.get("_key")
        out = {"key": group, "count": row["_count"] or 0}
        for name in measures:
            stats = {"mean": row[f"_mean_{name}"]}
            if connection.vendor == "postgresql":
                values = row.get(f"_pct_{name}") or [None] * len(PERCENTILES)
                stats.update(dict(zip(PERCENTILES, values, strict=True)))
            else:
                stats.update(python_percentiles.get(group, {}).get(name, NO_PERCENTILES))
            out[name] = stats
        result.append(out)
    return result


def _python_percentiles(qs: QuerySet, measures: list[str], key) -> dict:
    """SQLite: one ordered fetch per measure (values only), interpolated in Python."""
    out: dict[object, dict[str, dict[str, float | None]]] = defaultdict(dict)
    for name in measures:
        column = f"_m_{name}"
        if key is not None:
            values = qs.annotate(_key=key).order_by("_key", column).values_list("_key", column)
        else:
            values = ((None, v) for v in qs.order_by(column).values_list(column, flat=True))
        groups: dict[object, list[float]] = defaultdict(list)
        for group, value in values:
            groups[group].append(value)
        for group, sorted_values in groups.items():
            out[group][name] = {label: percentile_cont(sorted_values, f) for label, f in PERCENTILES.items()}
    return out


def ratio(numerator: int, denominator: int) -> float | None:
    """A share in 0..1, None (not 0) when there is nothing to divide by."""
    return numerator / denominator if denominator else None


@contextmanager
def report_session(*, work_mem: str = "128MB"):
    """Optional wrapper for a whole dashboard: one read transaction (one consistent snapshot) and, on PostgreSQL,
    room to sort a million values for percentile_cont in memory instead of on disk, without JIT compilation
    (it costs more than it saves on these queries). Settings are local to the transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [work_mem])
        yield
