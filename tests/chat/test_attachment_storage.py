"""Attachments are kept through Django's storage API: local files by default, an S3-compatible bucket by setting."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages

PROBE = (
    "import django, json; django.setup(); from django.core.files.storage import storages; s = storages['attachments']; "
    "print(json.dumps([type(s).__module__ + '.' + type(s).__name__, s.bucket_name, s.endpoint_url, s.default_acl, "
    "s.querystring_auth, s.location]))"
)


def test_by_default_attachments_are_local_files_outside_any_served_address():
    storage = storages["attachments"]
    assert isinstance(storage, FileSystemStorage)
    assert str(storage.location) == str(settings.MEDIA_ROOT / "attachments")


def test_attachments_storage_s3_keeps_them_in_a_private_bucket():
    pytest.importorskip("storages.backends.s3")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
        "ATTACHMENTS_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": "desk-files",
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    out = subprocess.run(  # noqa: S603 — our own interpreter and code
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [
        "storages.backends.s3.S3Storage",
        "desk-files",
        "http://127.0.0.1:9000",
        "private",
        True,
        "attachments",
    ]
