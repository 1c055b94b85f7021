import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    marker = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.ping", "marker": marker})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("marker") != marker:
        raise RuntimeError("channel layer returned another message")


def favicon(request):
    """Browsers ask every site for /favicon.ico: the desk's icon, wherever its static files are served from."""
    return HttpResponsePermanentRedirect(static("desk/favicon.svg"))


def healthz(request):
    """200 when the database and the channel layer answer; 503 naming the part that failed."""
    checks = {}
    for name, check in (("database", _check_database), ("channel_layer", async_to_sync(_layer_round_trip))):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 — any failure is reported, by name
            checks[name] = f"failed: {exc.__class__.__name__}: {exc}"
    failed = [name for name, value in checks.items() if value != "ok"]
    return JsonResponse(
        {"status": "ok" if not failed else "failed", "failed": failed, "checks": checks}, status=503 if failed else 200
    )
