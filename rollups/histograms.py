"""Mergeable log-bucket histograms: percentiles with a relative error of at most 0.5 % (metrics.md).

A value x > 0 falls in bucket i = ceil(log_γ x) with γ = (1 + α) / (1 − α), α = 0.005; the bucket (γ^(i−1), γ^i] is
read back as 2γ^i / (γ + 1), within α of every value in it (the DDSketch construction). Zero (and anything below a
microsecond) is its own bucket, read back as 0. Two histograms merge by adding counts, so a day's histograms add
up to any period's.

A histogram is a dict {bucket key: count}, its keys strings so that it is stored as JSON as it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

RELATIVE_ERROR = 0.005
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_LOG_GAMMA = math.log(GAMMA)
SMALLEST = 1e-6
ZERO = "z"


def bucket(value: float) -> str:
    if value < SMALLEST:
        return ZERO
    return str(math.ceil(math.log(value) / _LOG_GAMMA))


def bucket_value(key: str) -> float:
    if key == ZERO:
        return 0.0
    return 2.0 * GAMMA ** int(key) / (GAMMA + 1.0)


def histogram(values: Iterable[float]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        key = bucket(v)
        out[key] = out.get(key, 0) + 1
    return out


def merge(into: dict[str, int], other: dict[str, int]) -> dict[str, int]:
    for key, count in other.items():
        into[key] = into.get(key, 0) + count
    return into


def _order(key: str) -> float:
    return -math.inf if key == ZERO else int(key)


def percentiles(hist: dict[str, int], fractions: dict[str, float]) -> dict[str, float | None]:
    """{label: value} as PostgreSQL's percentile_cont reads them (linear interpolation between the two closest
    ranks), each rank's value read from its bucket: the interpolation of two values each within α is within α."""
    total = sum(hist.values())
    if not total:
        return {label: None for label in fractions}
    wanted: dict[int, float | None] = {}
    for fraction in fractions.values():
        position = fraction * (total - 1)
        wanted[math.floor(position)] = None
        wanted[math.ceil(position)] = None
    ranks = sorted(wanted)
    seen = 0
    i = 0
    for key in sorted(hist, key=_order):
        seen += hist[key]
        while i < len(ranks) and ranks[i] < seen:
            wanted[ranks[i]] = bucket_value(key)
            i += 1
        if i == len(ranks):
            break
    out = {}
    for label, fraction in fractions.items():
        position = fraction * (total - 1)
        lower, upper = wanted[math.floor(position)], wanted[math.ceil(position)]
        out[label] = lower + (upper - lower) * (position - math.floor(position))
    return out
