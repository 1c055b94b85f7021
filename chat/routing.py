from channels.routing import URLRouter
from channels.sessions import SessionMiddlewareStack
from django.urls import path

from chat import consumers, realtime

# Loaded only by the ASGI application: this process holds the sockets of an in-memory channel layer.
realtime.mark_server_process()

# Only the inbox's socket reads the desk's session (its consumer reads the user, in a database thread): a visitor's
# socket from a customer's site has neither, and looking them up cost every widget connect a trip to the one
# thread-sensitive thread and a session object.
websocket_application = URLRouter(
    [
        path("ws/widget/<str:site_key>/", consumers.WidgetConsumer.as_asgi()),
        path("ws/agent/", SessionMiddlewareStack(consumers.AgentConsumer.as_asgi())),
    ]
)
