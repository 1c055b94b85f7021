"""The ticket object of realtime frames: in conversation frames (chat) and in `ticket.updated`."""

from tickets.models import Ticket


def ticket_payload(ticket: Ticket) -> dict:
    """The ticket object of conversation frames and of `ticket.updated`."""

    def iso(value):
        return value.isoformat() if value else None

    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "channel_kind": ticket.channel_kind,
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee_id": ticket.assignee_id,
        "first_response_at": iso(ticket.first_response_at),
        "first_response_due_at": iso(ticket.first_response_due_at),
        "resolution_due_at": iso(ticket.resolution_due_at),
        "first_response_breached": ticket.first_response_breached,
        "resolution_breached": ticket.resolution_breached,
        "first_response_at_risk": ticket.first_response_at_risk,
        "resolution_at_risk": ticket.resolution_at_risk,
    }
