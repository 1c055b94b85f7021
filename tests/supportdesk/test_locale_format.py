"""Numbers and dates read in the active language: as Django writes them in English; in Persian with Persian digits,
the Jalali calendar, and signed numbers isolated left to right (as the inbox's Intl "fa" shows them)."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from supportdesk.templatetags.locale_format import local_date, local_numbers

ISOLATED = "\u2066{}\u2069"


def test_english_text_is_left_as_it_is():
    with translation.override("en"):
        assert local_numbers("+7 (1,234.5 %)") == "+7 (1,234.5 %)"
        assert local_date(date(2026, 3, 2), "j M Y") == "2 Mar 2026"
        assert local_date(date(2026, 3, 2), "m-d") == "03-02"


@pytest.mark.parametrize(
    ("text", "persian"),
    [
        ("7", "۷"),
        ("1,234.5 %", "۱٬۲۳۴٫۵ %"),
        ("(+7)", f"({ISOLATED.format('+۷')})"),
        ("−1 min 30 s", f"{ISOLATED.format('−۱')} min ۳۰ s"),
        ("-50", ISOLATED.format("-۵۰")),
        # A dash between numbers is no sign.
        ("1-5", "۱-۵"),
        ("12-11", "۱۲-۱۱"),
        # Character references and names with digits are not numbers.
        ("&#x27;p90&#39;", "&#x27;p90&#39;"),
    ],
)
def test_persian_text_gets_persian_digits_and_isolated_signs(text, persian):
    with translation.override("fa"):
        assert local_numbers(text) == persian


def test_persian_dates_are_jalali():
    with translation.override("fa"):
        assert local_date(date(2026, 3, 2), "j M Y") == "۱۱ اسفند ۱۴۰۴"
        assert local_date(date(2026, 3, 21)) == "۱ فروردین ۱۴۰۵"  # DATE_FORMAT of fa: "j F Y"
        assert local_date(date(2026, 3, 2), "m-d") == "۱۲-۱۱"
        assert local_date(date(2026, 3, 2), r"l \j") == "دوشنبه j"  # the weekday and escapes as Django's
        assert local_date(datetime(2026, 3, 2, 9, 5, tzinfo=UTC), "DATETIME_FORMAT") == "۱۱ اسفند ۱۴۰۴، ساعت ۹:۰۵"


def test_the_filters_in_a_template():
    template = Template('{% load locale_format %}{{ day|local_date:"j M Y" }} · {{ n|local_numbers }}')
    context = Context({"day": date(2026, 3, 8), "n": 42})
    with translation.override("fa"):
        assert template.render(context) == "۱۷ اسفند ۱۴۰۴ · ۴۲"
    with translation.override("en"):
        assert template.render(context) == "8 Mar 2026 · 42"
