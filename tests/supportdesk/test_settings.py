"""Settings come from the environment; production refuses to start without a secret."""

import json
import os
import subprocess
import sys

from django.conf import settings

from tests.processes import ROOT


def _settings_in_child(**env) -> subprocess.CompletedProcess:
    child_env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    child_env.update(env)
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps({'debug': settings.DEBUG, 'queue': settings.QUEUE_TIMEOUT_SECONDS, "
        "'hosts': settings.ALLOWED_HOSTS, 'fcr': settings.FCR_WINDOW_SECONDS, 'mail': settings.EMAIL_BACKEND}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_in_child(DEBUG="false", DJANGO_SETTINGS_MODULE="supportdesk.settings")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_starts_with_a_secret_key_and_reads_windows_from_the_environment():
    result = _settings_in_child(
        DEBUG="false",
        SECRET_KEY="x" * 50,
        QUEUE_TIMEOUT_SECONDS="5",
        FCR_WINDOW_SECONDS="60",
        ALLOWED_HOSTS="desk.example.com,localhost",
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "debug": False,
        "queue": 5.0,
        "hosts": ["desk.example.com", "localhost"],
        "fcr": 60.0,
        "mail": values["mail"],
    }


def test_metric_windows_have_the_metrics_md_defaults():
    assert settings.ABANDONMENT_GRACE_SECONDS == 60
    assert settings.QUEUE_TIMEOUT_SECONDS == 300
    assert settings.FCR_WINDOW_SECONDS == 72 * 3600
    assert settings.SLA_CHAT_FIRST_RESPONSE_SECONDS == 120
    assert settings.SLA_OFFLINE_FIRST_RESPONSE_SECONDS == 24 * 3600
    assert settings.SURVEY_EMAIL_DELAY_SECONDS == 30 * 60
    assert settings.SURVEY_COOLDOWN_SECONDS == 24 * 3600
    assert settings.NPS_INTERVAL_SECONDS == 90 * 86400
    assert settings.SURVEY_EXPIRY_SECONDS == 7 * 86400
    assert (
        settings.TARGET_CSAT_PERCENT,
        settings.TARGET_NPS,
        settings.TARGET_FCR_PERCENT,
        settings.TARGET_ABANDONMENT_PERCENT,
    ) == (80, 50, 70, 5)


def test_embedded_default_writes_mail_under_var():
    child_env = {k: v for k, v in os.environ.items() if k not in {"EMAIL_BACKEND", "EMAIL_FILE_PATH"}}
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**child_env, "DJANGO_SETTINGS_MODULE": "supportdesk.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    assert out[0] == "django.core.mail.backends.filebased.EmailBackend"
    assert out[1].startswith(str(settings.VAR_DIR))
