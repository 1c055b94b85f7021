"""Reads for the agent inbox page: what an operator may see, the contact's history, transfer targets."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user, get_user_model
from django.db.models import Count, Max, Q, QuerySet
from django.utils.crypto import constant_time_compare

from chat.models import Attachment, CannedReply, Conversation, Message, OperatorProfile, Team
from tickets.models import Ticket

CONVERSATION_RELATED = ["contact", "assignee__operator", "ticket", "team", "inbox"]
MESSAGES_PAGE = 500
CANNED_RESULTS = 12


def operator_for_user(*, user) -> OperatorProfile | None:
    """The user's operator profile when they may use the inbox (an active staff user with a profile)."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    return OperatorProfile.objects.filter(user=user).first()


class _SessionRequest:
    def __init__(self, session):
        self.session = session


def session_user(session):
    """The user of the desk's session cookie, as Django's `get_user` reads it for a page of the desk. The inbox's
    socket calls it in one of the database threads: channels' AuthMiddleware read it in the one thread-sensitive
    thread, so every reconnecting operator of a process waited for the others' reads (bench/chat_load.py,
    operator storm)."""
    return get_user(_SessionRequest(session))


def operator_session_valid(*, user_id: int, session_key: str | None) -> bool:
    """The session still logs this user in, as Django's `get_user` decides (it exists, names her, and holds her
    current session auth hash, which a new password changes), and she may still use the inbox."""
    if not session_key:
        return False
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    if (
        str(data.get(SESSION_KEY)) != str(user_id)
        or data.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS
    ):
        return False
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None or operator_for_user(user=user) is None:
        return False
    session_hash = data.get(HASH_SESSION_KEY) or ""
    return any(
        constant_time_compare(session_hash, known)
        for known in (user.get_session_auth_hash(), *user.get_session_auth_fallback_hash())
    )


def operator_inbox_ids(*, operator: OperatorProfile) -> list[int]:
    return list(operator.inboxes.filter(is_active=True).values_list("pk", flat=True))


def operator_conversations(*, operator: OperatorProfile) -> QuerySet[Conversation]:
    """Every conversation, open or not, of the operator's inboxes."""
    return Conversation.objects.filter(inbox__in=operator_inbox_ids(operator=operator)).select_related(
        *CONVERSATION_RELATED
    )


def operator_open_conversations(*, operator: OperatorProfile) -> QuerySet[Conversation]:
    return operator_conversations(operator=operator).exclude(status=Conversation.Status.ENDED).order_by("requested_at")


def operator_conversation(*, operator: OperatorProfile, conversation_id: int) -> Conversation | None:
    return operator_conversations(operator=operator).filter(pk=conversation_id).first()


def conversation_messages(
    *, conversation: Conversation, after_id: int | None = None, before_id: int | None = None
) -> tuple[list[Message], bool]:
    """A page of messages, oldest first, private notes included: the newest MESSAGES_PAGE (after `after_id`,
    or before `before_id`, when given), and whether older ones remain."""
    messages = conversation.messages.select_related("author__operator")
    if after_id is not None:
        messages = messages.filter(pk__gt=after_id)
    if before_id is not None:
        messages = messages.filter(pk__lt=before_id)
    page = list(reversed(messages.order_by("-id")[:MESSAGES_PAGE]))
    has_earlier = bool(page) and conversation.messages.filter(pk__lt=page[0].pk).exists()
    return page, has_earlier


def contact_earlier_conversations(*, conversation: Conversation, limit: int = 20) -> list[Conversation]:
    return list(
        Conversation.objects.filter(contact_id=conversation.contact_id)
        .exclude(pk=conversation.pk)
        .select_related("assignee__operator", "ticket")
        .order_by("-requested_at")[:limit]
    )


def contact_tickets(*, conversation: Conversation, limit: int = 20) -> list[Ticket]:
    """The contact's tickets, newest first, each with its latest conversation's id (to open it)."""
    tickets = Ticket.objects.filter(contact_id=conversation.contact_id).annotate(
        latest_conversation_id=Max("conversations__id")
    )
    return list(tickets.order_by("-created_at")[:limit])


def transfer_targets(*, operator: OperatorProfile, conversation: Conversation) -> dict:
    """Who can take the conversation: the inbox's other operators with their presence and load, and teams."""
    active = Q(user__assigned_conversations__status=Conversation.Status.ACTIVE)
    operators = (
        OperatorProfile.objects.filter(inboxes=conversation.inbox_id, user__is_active=True)
        .exclude(pk=operator.pk)
        .annotate(active_chats=Count("user__assigned_conversations", filter=active, distinct=True))
        .order_by("display_name")
    )
    teams = Team.objects.filter(Q(inboxes=conversation.inbox_id) | Q(operators__inboxes=conversation.inbox_id))
    teams = teams.distinct().annotate(
        online=Count("operators", filter=Q(operators__status=OperatorProfile.Status.ONLINE), distinct=True)
    )
    return {
        "operators": [
            {
                "id": profile.user_id,
                "name": profile.display_name,
                "status": profile.status,
                "active_chats": profile.active_chats,
                "max_chats": profile.max_chats,
            }
            for profile in operators
        ],
        "teams": [{"id": team.pk, "name": team.name, "online": team.online} for team in teams.order_by("name")],
    }


def canned_replies_search(
    *, operator: OperatorProfile, query: str, inbox_id: int | None = None, language: str | None = None
) -> list[CannedReply]:
    """Saved replies the operator may use (their teams', their inboxes', and shared ones), shortcut hits first."""
    query = query.strip().lstrip("/")
    team_ids = list(operator.teams.values_list("pk", flat=True))
    inbox_ids = operator_inbox_ids(operator=operator)
    if inbox_id is not None:
        inbox_ids = [pk for pk in inbox_ids if pk == inbox_id]
    scope = (
        Q(team__isnull=True, inbox__isnull=True)
        | Q(team_id__in=team_ids, inbox__isnull=True)
        | Q(inbox_id__in=inbox_ids)
    )
    replies = CannedReply.objects.filter(scope)
    if language:
        replies = replies.filter(language=language)
    if query:
        replies = replies.filter(Q(shortcut__icontains=query) | Q(title__icontains=query))
    replies = list(replies.order_by("shortcut")[:200])
    lowered = query.lower()
    replies.sort(key=lambda reply: (not reply.shortcut.lower().startswith(lowered), reply.shortcut))
    return replies[:CANNED_RESULTS]


def attachment_for_grant(*, user, grant) -> Attachment | None:
    """The attachment a signed address names, if the one asking may have it (attachment_links.Grant)."""
    from chat import attachment_links

    attachment = Attachment.objects.select_related("message").filter(pk=grant.attachment_id).first()
    if attachment is None:
        return None
    if grant.audience == attachment_links.OPERATORS:
        # A signed address alone is not enough for the operators' copy: the session must be of one of them.
        operator = operator_for_user(user=user)
        if operator is None or attachment.inbox_id not in operator_inbox_ids(operator=operator):
            return None
        return attachment
    # The visitor's copy: an attachment of a public message, or a visitor's own upload before it is sent.
    if attachment.message is not None:
        return None if attachment.message.private else attachment
    return attachment if attachment.visitor_id is not None else None
