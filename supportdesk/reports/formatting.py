"""How report figures read: durations in s / min / h / d, percentages, scores, counts.

Each is written with Latin digits, then in the active language's digits (locale_format.local_numbers), once.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from supportdesk.templatetags.locale_format import local_numbers


def duration(seconds: float | None) -> str:
    return local_numbers(_duration(seconds))


def value(unit: str, number, *, key: str = "") -> str:
    return local_numbers(_value(unit, number, key=key))


def delta(unit: str, current, previous) -> str:
    """The change from the previous period, in the figure's unit (percentage points for rates)."""
    return local_numbers(_delta(unit, current, previous))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return _("%(s)s s") % {"s": number_format(round(seconds, 1 if seconds < 10 else 0))}
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": rest}
    if seconds < 86400:
        hours, rest = divmod(round(seconds / 60), 60)
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": rest}
    days, rest = divmod(round(seconds / 3600), 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": rest}


def _value(unit: str, number, *, key: str = "") -> str:
    if number is None:
        return "—"
    if unit == "seconds":
        return _duration(number)
    if unit == "percent":
        return _("%(n)s %%") % {"n": number_format(round(number, 1), decimal_pos=1)}
    if unit == "score":
        if key == "nps":
            return f"{number:+.0f}"
        return number_format(round(number, 2), decimal_pos=2)
    if unit == "cost":
        return number_format(round(number, 2), decimal_pos=2, force_grouping=True)
    return number_format(number, force_grouping=True)


def _delta(unit: str, current, previous) -> str:
    if current is None or previous is None:
        return ""
    diff = current - previous
    if unit == "seconds":
        sign = "+" if diff >= 0 else "−"
        return f"{sign}{_duration(abs(diff))}"
    if unit == "percent":
        return _("%(d)s pts") % {"d": f"{diff:+.1f}"}
    if unit in ("score", "cost"):
        return f"{diff:+.2f}" if abs(diff) < 10 else f"{diff:+.0f}"
    return f"{diff:+,}"
