"""Routing and assignment: auto-assignment, the FIFO queue, claims, transfers.

Locks are always taken in the same order: the conversation row first, then the operator's profile row, then the
conversation's ticket row.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat.models import MAIL_KINDS, Conversation, Message, OperatorProfile, Team
from chat.selectors import conversation_for_operator, operator_active_chats, operator_name
from chat.services.broadcast import conversation_changed, message_created, queue_moved
from chat.services.errors import ChatError
from chat.services.reporting import conversation_event_record
from tickets.models import ReportingEvent
from tickets.services import ticket_set_assignee


def _ticket_follows(conversation: Conversation) -> None:
    """The ticket's assignee and team follow the conversation's, in the same transaction."""
    if conversation.ticket_id:
        conversation.ticket = ticket_set_assignee(
            ticket=conversation.ticket, assignee=conversation.assignee, team_id=conversation.team_id
        )


def _assign(conversation: Conversation, profile: OperatorProfile, at: datetime) -> None:
    was_queued = conversation.status == Conversation.Status.QUEUED
    conversation.status = Conversation.Status.ACTIVE
    conversation.assignee = profile.user
    conversation.assigned_at = at
    conversation.save(update_fields=["status", "assignee", "assigned_at", "updated_at"])
    OperatorProfile.objects.filter(pk=profile.pk).update(last_assigned_at=at)
    _ticket_follows(conversation)
    conversation_event_record(
        conversation=conversation,
        name=ReportingEvent.Name.CONVERSATION_ASSIGNED,
        start=conversation.requested_at,
        end=at,
        operator=profile.user,
    )
    conversation_changed(conversation)
    if was_queued:
        queue_moved(conversation.inbox_id)


def _has_room(profile: OperatorProfile) -> bool:
    return operator_active_chats(profile.user_id) < profile.max_chats


def conversation_assign_auto(*, conversation: Conversation) -> bool:
    """Gives a queued conversation (locked by the caller) to the online operator of its inbox with the
    fewest active chats under their maximum (ties: longest since their last assignment)."""
    at = timezone.now()
    candidates = OperatorProfile.objects.filter(inboxes=conversation.inbox_id, status=OperatorProfile.Status.ONLINE)
    if conversation.team_id and conversation.team_id != conversation.inbox.team_id:
        candidates = candidates.filter(teams=conversation.team_id)
    candidates = (
        candidates.annotate(
            active=Count(
                "user__assigned_conversations",
                filter=Q(user__assigned_conversations__status=Conversation.Status.ACTIVE),
            )
        )
        .filter(active__lt=F("max_chats"))
        .order_by("active", F("last_assigned_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)
    )
    for profile_id in list(candidates):
        profile = OperatorProfile.objects.select_for_update().select_related("user").get(pk=profile_id)
        if profile.status == OperatorProfile.Status.ONLINE and _has_room(profile):
            _assign(conversation, profile, at)
            return True
    return False


@transaction.atomic
def conversation_claim(*, profile: OperatorProfile, conversation_id: int) -> Conversation:
    """An operator takes a queued conversation; of two claiming at once exactly one wins."""
    conversation = conversation_for_operator(profile=profile, conversation_id=conversation_id, lock=True)
    if conversation.channel_kind in MAIL_KINDS:
        from mail.services.threads import thread_take

        return thread_take(profile=profile, conversation=conversation)
    if conversation.status != Conversation.Status.QUEUED:
        raise ChatError("conflict", _("This conversation is no longer waiting."))
    _assign(conversation, profile, timezone.now())
    return conversation


def conversation_assign_waiting(*, profile_id: int) -> list[int]:
    """An operator came online or freed a slot: the oldest waiting conversations of their inboxes go to them."""
    assigned: list[int] = []
    while True:
        with transaction.atomic():
            profile = OperatorProfile.objects.select_related("user").get(pk=profile_id)
            if profile.status != OperatorProfile.Status.ONLINE or not _has_room(profile):
                return assigned
            conversation = (
                Conversation.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("inbox", "contact", "ticket")
                .filter(status=Conversation.Status.QUEUED, inbox__in=profile.inboxes.all())
                .filter(Q(team__isnull=True) | Q(team=F("inbox__team")) | Q(team__in=profile.teams.all()))
                .order_by("requested_at", "pk")
                .first()
            )
            if conversation is None:
                return assigned
            profile = OperatorProfile.objects.select_for_update().select_related("user").get(pk=profile_id)
            if not _has_room(profile):
                return assigned
            _assign(conversation, profile, timezone.now())
            assigned.append(conversation.pk)


def assign_waiting_to_freed(*, user_id: int) -> None:
    """An operator's chat ended or moved on: once committed, the oldest waiting conversations go to them."""
    profile_id = OperatorProfile.objects.filter(user_id=user_id).values_list("pk", flat=True).first()
    if profile_id is not None:
        transaction.on_commit(lambda: conversation_assign_waiting(profile_id=profile_id))


def team_serves_inbox(*, team_id: int, inbox) -> bool:
    """Routing's rule for a team's queue (conversation_assign_auto): any operator of the inbox takes a conversation
    of the inbox's own team, only the inbox's operators in the team take another team's. A team with no operator
    in the inbox would leave the conversation where nobody gets it."""
    return team_id == inbox.team_id or OperatorProfile.objects.filter(inboxes=inbox.pk, teams=team_id).exists()


@transaction.atomic
def conversation_transfer(
    *,
    profile: OperatorProfile,
    conversation_id: int,
    to_operator_id: int | None = None,
    to_team_id: int | None = None,
    note: str = "",
) -> Conversation:
    """Hands a conversation to another operator of its inbox, or back to the queue of a team. Counted."""
    if (to_operator_id is None) == (to_team_id is None):
        raise ChatError("invalid_frame", _("Name either an operator or a team to transfer to."))
    conversation = conversation_for_operator(profile=profile, conversation_id=conversation_id, lock=True)
    by_mail = conversation.channel_kind in MAIL_KINDS
    if conversation.status == Conversation.Status.ENDED and not by_mail:
        raise ChatError("closed", _("This conversation has ended."))
    at = timezone.now()
    previous_assignee_id = conversation.assignee_id
    was_queued = conversation.status == Conversation.Status.QUEUED
    target = None
    if to_operator_id is not None:
        target = OperatorProfile.objects.select_related("user").filter(user_id=to_operator_id).first()
        if target is None:
            raise ChatError("not_found", _("There is no such operator."))
        if not target.inboxes.filter(pk=conversation.inbox_id).exists():
            raise ChatError("forbidden", _("That operator does not work in this conversation's inbox."))
        if target.user_id == previous_assignee_id:
            raise ChatError("conflict", _("The conversation is already with that operator."))
        if by_mail:
            return _mail_transfer(profile, conversation, target=target, team=None, note=note)
        conversation.assignee = target.user
        conversation.status = Conversation.Status.ACTIVE
        conversation.assigned_at = at
    else:
        team = Team.objects.filter(pk=to_team_id).first()
        if team is None:
            raise ChatError("not_found", _("There is no such team."))
        if not team_serves_inbox(team_id=team.pk, inbox=conversation.inbox):
            raise ChatError("forbidden", _("That team does not work in this conversation's inbox."))
        if by_mail:
            return _mail_transfer(profile, conversation, target=None, team=team, note=note)
        conversation.team = team
        conversation.assignee = None
        conversation.status = Conversation.Status.QUEUED
    conversation.transfer_count += 1
    conversation.save(update_fields=["assignee", "status", "assigned_at", "team", "transfer_count", "updated_at"])
    if target is not None:
        OperatorProfile.objects.filter(pk=target.pk).update(last_assigned_at=at)
    _ticket_follows(conversation)
    conversation_event_record(
        conversation=conversation,
        name=ReportingEvent.Name.CONVERSATION_TRANSFERRED,
        start=at,
        end=at,
        operator=profile.user,
    )
    transfer_note(conversation, profile, note, target=target, team=conversation.team if target is None else None)
    conversation_changed(conversation)
    if conversation.status == Conversation.Status.QUEUED:
        conversation_assign_auto(conversation=conversation)
    if was_queued or conversation.status == Conversation.Status.QUEUED:
        queue_moved(conversation.inbox_id)
    if previous_assignee_id is not None:
        assign_waiting_to_freed(user_id=previous_assignee_id)
    return conversation


def transfer_note(
    conversation: Conversation,
    profile: OperatorProfile,
    note: str,
    *,
    target: OperatorProfile | None = None,
    team: Team | None = None,
) -> None:
    """The thread's record of a transfer, for operators only: a line saying who handed it to whom ("Sara
    transferred this conversation to Ali"), written once in the inbox's language (its operators'), then the note
    it carries, as a private note for whoever takes it over."""
    by = operator_name(profile.user)
    with translation.override(conversation.inbox.language or settings.LANGUAGE_CODE):
        if target is not None:
            line = _("%(by)s transferred this conversation to %(to)s.") % {"by": by, "to": operator_name(target.user)}
        else:
            line = _("%(by)s transferred this conversation to the team %(team)s.") % {"by": by, "team": team.name}
    message_created(
        Message.objects.create(
            conversation=conversation, sender=Message.Sender.SYSTEM, body=line, private=True, author_name=by
        )
    )
    note = (note or "").strip()
    if note:
        message_created(
            Message.objects.create(
                conversation=conversation,
                sender=Message.Sender.OPERATOR,
                author=profile.user,
                author_name=by,
                body=note,
                private=True,
            )
        )


def _mail_transfer(profile, conversation, *, target, team, note) -> Conversation:
    from mail.services.threads import thread_transfer

    return thread_transfer(profile=profile, conversation=conversation, target=target, team=team, note=note)
