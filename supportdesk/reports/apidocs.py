"""The Redoc bundle of the API docs, served by the desk without its one reference outside the desk.

Redoc draws Redocly's logo in its menu from their CDN, with no setting to turn it off (drf-spectacular-sidecar
issue 11, Redocly/redoc issue 2108). The desk serves the sidecar's bundle with that address replaced by an empty
data: image, which fails to load, and Redoc then leaves the logo out. Swagger UI's assets come from the sidecar
through the static files as they are.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.views.decorators.http import require_safe

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
NO_IMAGE = b"data:,"


@functools.cache
def _redoc_bundle() -> bytes:
    return Path(finders.find(REDOC_BUNDLE)).read_bytes().replace(REDOCLY_LOGO, NO_IMAGE)


@require_safe
def redoc_bundle(request):
    response = HttpResponse(_redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
