from django.urls import path

from tickets import api

urlpatterns = [
    path("api/tickets/<int:ticket_id>/", api.TicketDetailApi.as_view(), name="ticket-detail"),
    path("api/tickets/<int:ticket_id>/status/", api.TicketStatusApi.as_view(), name="ticket-status"),
    path("api/tickets/<int:ticket_id>/priority/", api.TicketPriorityApi.as_view(), name="ticket-priority"),
    path(
        "api/conversations/<int:conversation_id>/followup/",
        api.ConversationFollowupApi.as_view(),
        name="conversation-followup",
    ),
]
