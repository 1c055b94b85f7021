"""Building blocks for constructed ticket histories: factories plus the tickets services, no chat services."""

from datetime import UTC, datetime, timedelta

from chat.models import Conversation, Message
from tests.factories import ContactFactory, ConversationFactory, MessageFactory
from tickets.services import ticket_attach_conversation, ticket_create, ticket_message_recorded


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def chat_ticket(inbox, *, at: datetime, contact=None, ended: bool = True):
    """A live chat request: a conversation and the ticket it created, at `at`."""
    contact = contact or ContactFactory(inbox=inbox)
    conversation = ConversationFactory(
        inbox=inbox,
        contact=contact,
        requested_at=at,
        **(
            {"status": Conversation.Status.ENDED, "end_reason": Conversation.EndReason.RESOLVED, "ended_at": at}
            if ended
            else {}
        ),
    )
    ticket = ticket_create(inbox=inbox, contact=contact, channel_kind=inbox.kind, at=at)
    ticket_attach_conversation(ticket=ticket, conversation=conversation)
    return conversation, ticket


def operator_reply(conversation, operator_user, *, at: datetime, private: bool = False, canned_reply=None):
    message = MessageFactory(
        conversation=conversation,
        sender=Message.Sender.OPERATOR,
        author=operator_user,
        author_name="Operator",
        private=private,
        canned_reply=canned_reply,
        created_at=at,
    )
    ticket_message_recorded(message=message)
    return message
