"""Aggregation helpers: mean, median and p90 in the database (percentile_cont on PostgreSQL; on SQLite the
values are fetched, one column, and interpolated exactly as percentile_cont does)."""

from __future__ import annotations

import math
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Aggregate, FloatField, Func

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
