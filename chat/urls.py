from django.urls import path

from chat import api, realtime, views

urlpatterns = [
    # The agent inbox page and its HTTP endpoints (actions that are not websocket frames).
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/conversations/", views.open_conversations, name="inbox-open-conversations"),
    path("inbox/conversations/<int:conversation_id>/", views.conversation_detail, name="inbox-conversation"),
    path("inbox/conversations/<int:conversation_id>/contact/", views.contact_panel, name="inbox-contact"),
    path("inbox/conversations/<int:conversation_id>/notes/", views.contact_notes, name="inbox-contact-notes"),
    path(
        "inbox/conversations/<int:conversation_id>/transfer-targets/",
        views.transfer_targets,
        name="inbox-transfer-targets",
    ),
    path(
        "inbox/conversations/<int:conversation_id>/uploads/",
        views.attachment_upload_view,
        name="inbox-attachment-upload",
    ),
    path("attachments/<str:token>/", views.attachment_file, name="attachment"),
    path("inbox/canned-replies/", views.canned_replies, name="inbox-canned-replies"),
    path("inbox/search/", views.search, name="inbox-search"),
    path("inbox/profile/", views.profile, name="inbox-profile"),
    path("avatars/<int:user_id>/<str:digest>.png", views.operator_avatar, name="operator-avatar"),
    path("api/widget/v1/session", api.WidgetSessionApi.as_view(), name="widget-session"),
    path("api/widget/v1/uploads", api.WidgetUploadApi.as_view(), name="widget-uploads"),
    path("api/widget/v1/offline-messages", api.WidgetOfflineMessageApi.as_view(), name="widget-offline-messages"),
    path(realtime.BRIDGE_PATH.lstrip("/"), api.realtime_bridge, name="realtime-bridge"),
]
