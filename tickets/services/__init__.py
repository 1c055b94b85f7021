"""Ticket writes (services). Callers import from here: `from tickets.services import ticket_create`.

- events: reporting_event_record (wall and business seconds of the inbox's schedule)
- lifecycle: ticket_create, ticket_attach_conversation, ticket_record_first_response, ticket_message_recorded,
  ticket_resolve, ticket_reopen, ticket_set_status, ticket_set_priority, ticket_set_channel_kind, ticket_set_assignee,
  ticket_payload
- followups: ticket_mark_followup
- sla: sla_targets_for, sla_sweep (the beat task's body)

Locks: a service that changes a ticket takes its row lock (select_for_update) first; a service that locks two
tickets locks them in ascending id order.
"""

from tickets.services.events import reporting_event_record
from tickets.services.followups import ticket_mark_followup
from tickets.services.lifecycle import (
    TICKET_UPDATED,
    ticket_attach_conversation,
    ticket_create,
    ticket_message_recorded,
    ticket_payload,
    ticket_record_first_response,
    ticket_reopen,
    ticket_resolve,
    ticket_set_assignee,
    ticket_set_channel_kind,
    ticket_set_priority,
    ticket_set_status,
)
from tickets.services.sla import LIVE_KINDS, SLA_ALERT, sla_sweep, sla_targets_for

__all__ = [
    "LIVE_KINDS",
    "SLA_ALERT",
    "TICKET_UPDATED",
    "reporting_event_record",
    "sla_sweep",
    "sla_targets_for",
    "ticket_attach_conversation",
    "ticket_create",
    "ticket_mark_followup",
    "ticket_message_recorded",
    "ticket_payload",
    "ticket_record_first_response",
    "ticket_reopen",
    "ticket_resolve",
    "ticket_set_assignee",
    "ticket_set_channel_kind",
    "ticket_set_priority",
    "ticket_set_status",
]
