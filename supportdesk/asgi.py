"""HTTP and websocket routing for daphne."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from chat.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})

# The server holds many long-lived objects (every open socket's consumer, its tasks and buffers). With the default
# thresholds the cyclic collector walked them all again and again: at 1,000 visitors and 200 messages/s its pauses
# made p99 448 ms (p50 11 ms), and 3.8 ms of CPU per message. What Django loaded at startup is moved out of its
# reach (freeze), and the youngest generation is collected every 50,000 allocations instead of 700: p99 14 ms, 2.4 ms
# per message (bench/chat_load.py, docs/performance.md).
gc.freeze()
gc.set_threshold(50_000, 20, 100)
