import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")

app = Celery("supportdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="supportdesk.ping")
def ping(marker: str) -> str:
    """Writes the marker to var/ so that a test can see a real worker ran it."""
    from pathlib import Path

    from django.conf import settings

    Path(settings.VAR_DIR, f"ping-{marker}").write_text(marker)
    return marker
