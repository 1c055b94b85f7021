"""The widget stays small and self-contained: what a customer's page downloads is under 30 KB gzipped."""

import gzip
import re
from pathlib import Path

from django.conf import settings

WIDGET_DIR = Path(settings.BASE_DIR) / "static" / "widget"
LIMIT_BYTES = 30 * 1024


def test_widget_javascript_and_css_together_are_under_30_kb_gzipped():
    files = [WIDGET_DIR / "widget.js", WIDGET_DIR / "widget.css"]
    gzipped = sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in files)
    assert 2_000 < gzipped < LIMIT_BYTES, f"widget.js + widget.css = {gzipped} bytes gzipped"


def test_widget_fetches_nothing_from_a_third_party():
    source = (WIDGET_DIR / "widget.js").read_text(encoding="utf-8-sig") + (WIDGET_DIR / "widget.css").read_text()
    # Only the desk's own origin (derived from the script's src) is contacted: no CDN, no font service.
    hosts = set(re.findall(r"https?://([^/\s\"']+)", source))
    assert hosts <= {"DESK", "www.w3.org"}, hosts  # the embedding example in a comment, and the SVG namespace
    assert "@import" not in source


def test_widget_never_inserts_markup():
    source = (WIDGET_DIR / "widget.js").read_text(encoding="utf-8-sig")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source
