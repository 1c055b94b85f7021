"""One conversation of a ticket as it would have run: its live outcome or offline answer, the replies, its end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from chat.models import ChannelKind, Conversation, Message
from supportdesk.history.rows import _dt
from supportdesk.history.surveys import survey_after
from supportdesk.history.world import (
    HOUR_LOAD,
    OPERATOR_REPLIES,
    PRIVATE_NOTES,
    SYSTEM_MISSED,
    VISITOR_FOLLOWUPS,
    VISITOR_OPENERS,
    InboxWorld,
)
from tickets.models import ReportingEvent
from tickets.services import LIVE_KINDS

if TYPE_CHECKING:
    from supportdesk.history.generator import ContactState, HistoryGenerator


def add_conversation(
    gen: HistoryGenerator, w: InboxWorld, contact: ContactState, ticket_id: int, ticket: dict, req: float
) -> float:
    """One conversation of the ticket, requested at `req`; returns when it ended."""
    rng = gen.rng
    kind = w.inbox.kind
    conv_id = gen.ids[Conversation].take()
    ticket["conversations"] += 1
    team_id = w.inbox.team_id
    gen.add_event(
        w,
        ReportingEvent.Name.CONVERSATION_REQUESTED,
        req,
        req,
        ticket=ticket_id,
        conversation=conv_id,
        team=team_id,
    )
    gen.add_message(conv_id, Message.Sender.VISITOR, req, rng.choice(VISITOR_OPENERS))
    operator = rng.choice(w.operators)
    load = HOUR_LOAD[int((req % 86400) // 3600)]
    assigned = first_response = None
    transfers = 0
    end_reason = ""
    ended = None
    last_message = req
    if kind in LIVE_KINDS:
        frt = gen.lognormal(28 * operator.speed * (0.6 + 0.4 * load), 0.85)
        patience = gen.lognormal(420, 1.3)
        if not w.clock.is_open(req) or rng.random() < 0.008 * load:
            # Nobody available: turned into an offline message at once.
            end_reason, ended = Conversation.EndReason.MISSED, req + rng.uniform(2, 20)
        elif patience < min(frt, settings.QUEUE_TIMEOUT_SECONDS):
            if rng.random() < 0.5:
                assigned = req + rng.uniform(0.5, 3)
            left = req + patience
            closed = rng.random() < 0.6
            end_reason = Conversation.EndReason.ABANDONED
            ended = left if closed else left + settings.ABANDONMENT_GRACE_SECONDS
            if rng.random() < 0.3:
                gen.add_message(conv_id, Message.Sender.VISITOR, req + patience * 0.7, "Hello? Anyone there?")
                last_message = req + patience * 0.7
            gen.add_event(
                w,
                ReportingEvent.Name.CONVERSATION_ABANDONED,
                req,
                left,
                ticket=ticket_id,
                conversation=conv_id,
                operator=operator.user_id if assigned else None,
                team=team_id,
            )
        elif frt >= settings.QUEUE_TIMEOUT_SECONDS:
            assigned = req + rng.uniform(0.5, 3)
            end_reason, ended = Conversation.EndReason.MISSED, req + settings.QUEUE_TIMEOUT_SECONDS
        else:
            assigned = req + rng.uniform(0.5, min(3, frt * 0.8))
            first_response = req + frt
        if end_reason == Conversation.EndReason.MISSED:
            gen.add_message(conv_id, Message.Sender.SYSTEM, ended, SYSTEM_MISSED)
            last_message = ended
            gen.add_event(
                w,
                ReportingEvent.Name.CONVERSATION_MISSED,
                req,
                ended,
                ticket=ticket_id,
                conversation=conv_id,
                team=team_id,
            )
    else:
        # Offline form / e-mail: answered within business hours, hours later.
        business = gen.lognormal((3 if kind == ChannelKind.EMAIL else 1.5) * 3600 * operator.speed, 1.0)
        assigned = req + rng.uniform(5, 60)
        first_response = w.clock.add(max(req, assigned), business)
        if first_response > gen.now:
            first_response = None
    if assigned is not None:
        gen.add_event(
            w,
            ReportingEvent.Name.CONVERSATION_ASSIGNED,
            req,
            assigned,
            ticket=ticket_id,
            conversation=conv_id,
            operator=operator.user_id,
            team=team_id,
        )
    status = Conversation.Status.QUEUED if assigned is None else Conversation.Status.ACTIVE
    if first_response is not None:
        answered_by = operator
        canned = rng.choice(w.canned_ids) if rng.random() < operator.canned else None
        gen.add_message(
            conv_id,
            Message.Sender.OPERATOR,
            first_response,
            rng.choice(OPERATOR_REPLIES),
            author=operator,
            canned=canned,
        )
        last_message = first_response
        gen.record_first_response(w, ticket_id, ticket, first_response, operator, team_id, conversation=conv_id)
        live = kind in LIVE_KINDS
        step = 90.0 if live else 4 * 3600.0
        t = first_response
        for _ in range(rng.choices((0, 1, 2, 3), (3, 4, 2, 1))[0]):
            t += gen.lognormal(step * 0.5, 0.7)
            gen.add_message(conv_id, Message.Sender.VISITOR, t, rng.choice(VISITOR_FOLLOWUPS))
            t += gen.lognormal(step * 0.6 * operator.speed, 0.7)
            if live and transfers < 2 and len(w.operators) > 1 and rng.random() < 0.06:
                operator = rng.choice([o for o in w.operators if o is not operator])
                transfers += 1
                gen.add_event(
                    w,
                    ReportingEvent.Name.CONVERSATION_TRANSFERRED,
                    t - 5,
                    t - 5,
                    ticket=ticket_id,
                    conversation=conv_id,
                    operator=operator.user_id,
                    team=operator.team_id,
                )
                team_id = operator.team_id
            if rng.random() < 0.04:
                gen.add_message(
                    conv_id,
                    Message.Sender.OPERATOR,
                    t - 1,
                    rng.choice(PRIVATE_NOTES),
                    author=operator,
                    private=True,
                )
            canned = rng.choice(w.canned_ids) if rng.random() < operator.canned else None
            gen.add_message(
                conv_id, Message.Sender.OPERATOR, t, rng.choice(OPERATOR_REPLIES), author=operator, canned=canned
            )
        last_message = t
        roll = rng.random()
        if not live:
            end_reason = Conversation.EndReason.RESOLVED if roll < 0.9 else Conversation.EndReason.CLOSED_BY_VISITOR
            ended = t + gen.lognormal(3600, 1.0)
        elif roll < 0.72:
            end_reason, ended = Conversation.EndReason.RESOLVED, t + rng.uniform(10, 120)
        elif roll < 0.9:
            end_reason, ended = Conversation.EndReason.CLOSED_BY_VISITOR, t + rng.uniform(5, 60)
        else:
            end_reason = Conversation.EndReason.VISITOR_LEFT
            ended = t + settings.VISITOR_INACTIVITY_TIMEOUT_SECONDS
        if ended > gen.now:
            end_reason, ended = "", None
        else:
            event_name = {
                Conversation.EndReason.RESOLVED: ReportingEvent.Name.CONVERSATION_RESOLVED,
                Conversation.EndReason.CLOSED_BY_VISITOR: ReportingEvent.Name.CONVERSATION_CLOSED,
                Conversation.EndReason.VISITOR_LEFT: ReportingEvent.Name.CONVERSATION_VISITOR_LEFT,
            }[end_reason]
            gen.add_event(
                w,
                event_name,
                req,
                ended,
                ticket=ticket_id,
                conversation=conv_id,
                operator=operator.user_id,
                team=team_id,
            )
            # The ticket: resolved with the conversation, mostly; sometimes left waiting on the customer.
            if end_reason == Conversation.EndReason.RESOLVED or rng.random() < 0.75:
                ticket["resolved"] = ended
                ticket["assignee"] = ticket["resolved_by"] = operator.user_id
                ticket["pending_since"] = None
                gen.add_event(
                    w,
                    ReportingEvent.Name.TICKET_RESOLVED,
                    ticket["created"],
                    ended,
                    ticket=ticket_id,
                    conversation=conv_id,
                    operator=operator.user_id,
                    team=w.inbox.team_id,
                )
            else:
                ticket["pending_since"] = ended
            survey_after(gen, w, contact, conv_id, ticket_id, answered_by, operator, team_id, ended)
    elif end_reason == Conversation.EndReason.MISSED and rng.random() < 0.7:
        # The offline message is answered by e-mail later; the conversation itself stays unanswered.
        later = w.clock.add(ended, gen.lognormal(2 * 3600, 1.0))
        if later < gen.now:
            gen.record_first_response(w, ticket_id, ticket, later, operator, team_id)
            resolved = later + gen.lognormal(1800, 1.0)
            if resolved < gen.now:
                ticket["resolved"] = resolved
                ticket["resolved_by"] = operator.user_id
                gen.add_event(
                    w,
                    ReportingEvent.Name.TICKET_RESOLVED,
                    ticket["created"],
                    resolved,
                    ticket=ticket_id,
                    operator=operator.user_id,
                    team=team_id,
                )
    if ended is not None:
        status = Conversation.Status.ENDED
    assignee = operator.user_id if (assigned is not None) else None
    updated = max(x for x in (req, assigned, first_response, ended, last_message) if x is not None)
    gen.conversation.add(
        (
            conv_id,
            w.inbox.pk,
            kind,
            contact.id,
            ticket_id,
            status,
            end_reason,
            assignee,
            team_id,
            transfers,
            *gen.operator_messages.pop(conv_id, (0, 0)),
            _dt(req),
            _dt(assigned),
            _dt(first_response),
            _dt(ended),
            _dt(last_message),
            0,
            _dt(ended or last_message),
            _dt(updated),
        )
    )
    gen.counts["conversations"] += 1
    return ended if ended is not None else gen.now + 365 * 86400
