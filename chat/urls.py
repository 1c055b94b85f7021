from django.urls import path

from chat import api, realtime, views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("api/widget/v1/session", api.WidgetSessionApi.as_view(), name="widget-session"),
    path("api/widget/v1/offline-messages", api.WidgetOfflineMessageApi.as_view(), name="widget-offline-messages"),
    path(realtime.BRIDGE_PATH.lstrip("/"), api.realtime_bridge, name="realtime-bridge"),
]
