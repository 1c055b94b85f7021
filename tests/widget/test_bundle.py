"""The widget stays small and self-contained: the launcher a page downloads is under 10 KB gzipped, the whole widget
(launcher, chat, styles) under 40 KB, and the chat itself is fetched only when the widget needs it."""

import gzip
import re
from pathlib import Path

import pytest
from django.conf import settings

WIDGET_DIR = Path(settings.BASE_DIR) / "static" / "widget"
FILES = ["widget.js", "widget-app.js", "widget.css"]
LAUNCHER_LIMIT = 10 * 1024
WHOLE_LIMIT = 40 * 1024


def _gzipped(name: str) -> int:
    return len(gzip.compress((WIDGET_DIR / name).read_bytes(), compresslevel=9))


def test_the_launcher_is_under_10_kb_and_the_whole_widget_under_40_kb_gzipped():
    assert 1_000 < _gzipped("widget.js") < LAUNCHER_LIMIT, f"widget.js = {_gzipped('widget.js')} bytes gzipped"
    whole = sum(_gzipped(name) for name in FILES)
    assert 5_000 < whole < WHOLE_LIMIT, f"{' + '.join(FILES)} = {whole} bytes gzipped"
    # Every file the widget loads is listed here (the launcher names the chat and the stylesheet).
    launcher = (WIDGET_DIR / "widget.js").read_text(encoding="utf-8-sig")
    assert {"widget-app.js", "widget.css"} <= set(re.findall(r'"([\w-]+\.(?:js|css))"', launcher))


def _sources() -> str:
    return "".join((WIDGET_DIR / name).read_text(encoding="utf-8-sig") for name in FILES)


def test_widget_fetches_nothing_from_a_third_party():
    source = _sources()
    # Only the desk's own origin (derived from the script's src) is contacted: no CDN, no font service.
    hosts = set(re.findall(r"https?://([^/\s\"']+)", source))
    assert hosts <= {"DESK", "www.w3.org"}, hosts  # the embedding example in a comment, and the SVG namespace
    assert "@import" not in source


@pytest.mark.parametrize("name", ["widget.js", "widget-app.js"])
def test_widget_never_inserts_markup(name):
    source = (WIDGET_DIR / name).read_text(encoding="utf-8-sig")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source
