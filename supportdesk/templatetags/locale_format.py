"""Numbers and dates as a person reads them in the active language (docs/widget.md, "Digits and dates").

English: as Django writes them. Persian (fa): Persian digits (۰–۹, with ٫ and ٬ inside a number) and the Solar
Hijri (Jalali) calendar, as the inbox and the widget show them through the browser's Intl with the fa locale;
a signed number ("+7", "−2") is isolated left to right, or right-to-left text shows it as "7+". Only text meant
for reading goes through here: CSV exports, the API and form values stay Latin digits and ISO dates.
"""

from __future__ import annotations

import re
from datetime import date

import jdatetime
from django import template
from django.template.defaultfilters import date as django_date
from django.utils import dateformat, formats, translation

register = template.Library()

PERSIAN_DIGITS = str.maketrans("0123456789.,", "۰۱۲۳۴۵۶۷۸۹٫٬")
# A number, with its sign when the sign stands alone (not the dash of "1-5" or "03-02").
NUMBER = re.compile(r"(?:(?<![\w.,])[+\-\u2212])?(?<![\w#])\d+(?:[.,]\d+)*")
LTR_ISOLATE, POP_ISOLATE = "\u2066", "\u2069"
# Django's date format characters that name the day, month or year, in the Jalali calendar.
JALALI_PARTS = {
    "j": lambda d: str(d.day),
    "d": lambda d: f"{d.day:02d}",
    "n": lambda d: str(d.month),
    "m": lambda d: f"{d.month:02d}",
    "Y": lambda d: str(d.year),
    "y": lambda d: f"{d.year % 100:02d}",
    # Persian has no short month names: every form is the name.
    **{char: lambda d: jdatetime.date.j_months_fa[d.month - 1] for char in "MFNEb"},
}


def _persian() -> bool:
    return (translation.get_language() or "").split("-")[0] == "fa"


def _persian_number(match: re.Match) -> str:
    number = match.group().translate(PERSIAN_DIGITS)
    return f"{LTR_ISOLATE}{number}{POP_ISOLATE}" if number[0] in "+-\u2212" else number


@register.filter
def local_numbers(value) -> str:
    """The text with its numbers in the active language's digits: "+7 (50.0 %)" → "⁦+۷⁩ (۵۰٫۰ %)" in fa."""
    text = str(value)
    return NUMBER.sub(_persian_number, text) if _persian() else text


@register.filter(expects_localtime=True)
def local_date(value: date | None, fmt: str = "DATE_FORMAT") -> str:
    """Django's date filter, in the Jalali calendar with Persian digits in fa: "j M Y" → "۱۱ اسفند ۱۴۰۴"."""
    if value in (None, ""):
        return ""
    if not _persian():
        return django_date(value, fmt)
    jalali = jdatetime.date.fromgregorian(date=value if type(value) is date else value.date())
    parts, escaped = [], False
    for char in formats.get_format(fmt):
        if escaped or char == "\\":
            parts.append(char)
            escaped = not escaped and char == "\\"
        elif char in JALALI_PARTS:
            # Escaped, so that Django's formatter (which writes the time and weekday) keeps them as they are.
            parts.append("".join(f"\\{c}" for c in JALALI_PARTS[char](jalali)))
        else:
            parts.append(char)
    return local_numbers(dateformat.format(value, "".join(parts)))
