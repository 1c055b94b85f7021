"""Percentiles from merged per-day histograms stay within 0.5 % of the exact percentile_cont (metrics.md)."""

import random

import pytest

from rollups import histograms
from tickets.selectors.stats import percentile_cont

FRACTIONS = {"median": 0.5, "p90": 0.9, "p10": 0.1, "p99": 0.99, "min": 0.0, "max": 1.0}


def _exact(values):
    ordered = sorted(values)
    return {label: percentile_cont(ordered, f) for label, f in FRACTIONS.items()}


def _within_bound(estimate, exact):
    if exact == 0:
        return estimate == 0
    return abs(estimate - exact) <= histograms.RELATIVE_ERROR * abs(exact) * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_merged_daily_histograms_give_percentiles_within_half_a_percent(seed):
    rng = random.Random(seed)
    days = []
    for _ in range(rng.randint(1, 40)):
        n = rng.choice([1, 2, 3, 17, 250, 1000])
        kind = rng.choice(["lognormal", "uniform", "ties", "zeros"])
        if kind == "lognormal":
            day = [rng.lognormvariate(4, 2) for _ in range(n)]
        elif kind == "uniform":
            day = [rng.uniform(0, 86400 * 3) for _ in range(n)]
        elif kind == "ties":
            day = [float(rng.choice([5, 60, 61, 3600])) for _ in range(n)]
        else:
            day = [0.0 if rng.random() < 0.4 else rng.uniform(0.001, 10) for _ in range(n)]
        days.append(day)
    merged = {}
    for day in days:
        histograms.merge(merged, histograms.histogram(day))
    exact = _exact([v for day in days for v in day])
    estimate = histograms.percentiles(merged, FRACTIONS)
    for label in FRACTIONS:
        assert _within_bound(estimate[label], exact[label]), (label, estimate[label], exact[label])


def test_a_value_on_a_bucket_edge_and_tiny_values_stay_within_the_bound():
    for value in [histograms.GAMMA**k for k in range(-50, 400, 7)] + [1e-6, 0.0015, 1.0, 86400.0, 3e7]:
        assert _within_bound(histograms.percentiles(histograms.histogram([value]), {"m": 0.5})["m"], value)


def test_an_empty_histogram_has_no_percentile():
    assert histograms.percentiles({}, {"median": 0.5}) == {"median": None}
