from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from chat import consumers, realtime

# Loaded only by the ASGI application: this process holds the sockets of an in-memory channel layer.
realtime.mark_server_process()

websocket_application = AuthMiddlewareStack(
    URLRouter(
        [
            path("ws/widget/<str:site_key>/", consumers.WidgetConsumer.as_asgi()),
            path("ws/agent/", consumers.AgentConsumer.as_asgi()),
        ]
    )
)
