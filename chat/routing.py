from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from chat import consumers

websocket_application = AuthMiddlewareStack(
    URLRouter(
        [
            path("ws/widget/<str:site_key>/", consumers.WidgetConsumer.as_asgi()),
            path("ws/agent/", consumers.AgentConsumer.as_asgi()),
        ]
    )
)
