"""Operator API of the tickets app: one small view per operation; they validate input and call services.

    GET  /api/tickets/<id>/                                  the ticket object (as in conversation frames)
    POST /api/tickets/<id>/status/        {"status": ...}    open / pending / resolved
    POST /api/tickets/<id>/priority/      {"priority": ...}  low / normal / high / urgent
    GET  /api/conversations/<id>/followup/                   {"ticket": {...} | null}: the earlier ticket to offer
    POST /api/conversations/<id>/followup/ {"ticket_id": I}  mark the conversation as a follow-up of that ticket

Only staff users who operate the ticket's inbox (or superusers) may read or change it.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.models import Conversation
from tickets.models import Ticket
from tickets.selectors import followup_candidate
from tickets.services import ticket_mark_followup, ticket_payload, ticket_set_priority, ticket_set_status


def _check_inbox(request, inbox_id: int) -> None:
    user = request.user
    if user.is_superuser:
        return
    profile = getattr(user, "operator", None)
    if profile is None or not profile.inboxes.filter(pk=inbox_id).exists():
        raise PermissionDenied(_("You do not operate this inbox."))


def _ticket(request, ticket_id: int) -> Ticket:
    ticket = get_object_or_404(Ticket, pk=ticket_id)
    _check_inbox(request, ticket.inbox_id)
    return ticket


class TicketDetailApi(APIView):
    def get(self, request, ticket_id: int):
        return Response(ticket_payload(_ticket(request, ticket_id)))


class TicketStatusApi(APIView):
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Ticket.Status.choices)

    def post(self, request, ticket_id: int):
        ticket = _ticket(request, ticket_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = ticket_set_status(ticket=ticket, status=data.validated_data["status"], operator=request.user)
        return Response(ticket_payload(ticket))


class TicketPriorityApi(APIView):
    class InputSerializer(serializers.Serializer):
        priority = serializers.ChoiceField(choices=Ticket.Priority.choices)

    def post(self, request, ticket_id: int):
        ticket = _ticket(request, ticket_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = ticket_set_priority(ticket=ticket, priority=data.validated_data["priority"])
        return Response(ticket_payload(ticket))


class ConversationFollowupApi(APIView):
    class InputSerializer(serializers.Serializer):
        ticket_id = serializers.IntegerField()

    def _conversation(self, request, conversation_id: int) -> Conversation:
        conversation = get_object_or_404(Conversation, pk=conversation_id)
        _check_inbox(request, conversation.inbox_id)
        return conversation

    def get(self, request, conversation_id: int):
        candidate = followup_candidate(conversation=self._conversation(request, conversation_id))
        return Response({"ticket": ticket_payload(candidate) if candidate else None})

    def post(self, request, conversation_id: int):
        conversation = self._conversation(request, conversation_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        candidate = followup_candidate(conversation=conversation)
        if candidate is None or candidate.pk != data.validated_data["ticket_id"]:
            return Response(
                {"ticket_id": [_("This conversation cannot be marked as a follow-up of that ticket.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        ticket = ticket_mark_followup(conversation=conversation, ticket=candidate, operator=request.user)
        return Response({"ticket": ticket_payload(ticket)})
