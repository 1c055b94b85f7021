"""Tickets with their conversations, messages and reporting events, as the services would write them.

The generator keeps the rows and ids, picks contacts and plays each ticket's story (reopens, follow-up tickets);
conversations.py plays each conversation, surveys.py the invitation after it.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from chat.models import ChannelKind, Contact, Conversation, Message
from supportdesk.history.conversations import add_conversation
from supportdesk.history.rows import Ids, _dt, _write, history_tables
from supportdesk.history.world import InboxWorld, OperatorTrait
from surveys.models import SurveyInvitation, SurveyResponse
from tickets.models import ReportingEvent, Ticket
from tickets.services import LIVE_KINDS


@dataclass
class ContactState:
    id: int
    has_email: bool
    opts_out: bool
    free_at: float = 0.0  # the contact's last conversation (or scheduled return) ends here
    last_invited: float = -1e18
    last_nps: float = -1e18
    opted_out: bool = False
    locale: str = "en"


class HistoryGenerator:
    def __init__(self, worlds: list[InboxWorld], *, now: datetime, rng: random.Random):
        self.worlds = worlds
        self.now = now.timestamp()
        self.rng = rng
        self.contacts_by_id: dict[int, ContactState] = {}
        self.ids = {
            m: Ids(m)
            for m in (Contact, Ticket, Conversation, Message, ReportingEvent, SurveyInvitation, SurveyResponse)
        }
        tables = history_tables()
        self.contact, self.ticket, self.conversation = tables["contact"], tables["ticket"], tables["conversation"]
        self.message, self.event = tables["message"], tables["event"]
        self.invitation, self.response = tables["invitation"], tables["response"]
        self.tables = list(tables.values())
        # Public operator messages and canned ones per conversation, until its row is written.
        self.operator_messages: dict[int, list[int]] = {}
        self.counts = {"conversations": 0, "tickets": 0, "messages": 0, "events": 0, "invitations": 0, "responses": 0}

    # -- helpers
    def lognormal(self, median: float, sigma: float) -> float:
        return self.rng.lognormvariate(math.log(median), sigma)

    def add_event(
        self,
        w: InboxWorld,
        name: str,
        start: float,
        end: float,
        *,
        ticket=None,
        conversation=None,
        operator=None,
        team=None,
    ) -> None:
        end = max(end, start)
        self.event.add(
            (
                self.ids[ReportingEvent].take(),
                name,
                w.inbox.pk,
                w.inbox.kind,
                ticket,
                conversation,
                operator,
                team,
                _dt(start),
                _dt(end),
                end - start,
                w.clock.between(start, end),
                _dt(end),
            )
        )
        self.counts["events"] += 1

    def add_message(
        self,
        conversation_id: int,
        sender: str,
        at: float,
        body: str,
        *,
        author: OperatorTrait | None = None,
        private: bool = False,
        canned: int | None = None,
    ) -> None:
        if sender == Message.Sender.OPERATOR and not private:
            counts = self.operator_messages.setdefault(conversation_id, [0, 0])
            counts[0] += 1
            counts[1] += canned is not None
        self.message.add(
            (
                self.ids[Message].take(),
                conversation_id,
                sender,
                author.user_id if author else None,
                author.name if author else "",
                body,
                private,
                canned,
                None,
                _dt(at),
            )
        )
        self.counts["messages"] += 1

    def record_first_response(
        self, w: InboxWorld, ticket_id: int, ticket: dict, at: float, author: OperatorTrait, team_id, conversation=None
    ) -> None:
        """The ticket's first reply, unless it has one: its author becomes the assignee."""
        if ticket["first_response"] is not None:
            return
        ticket["first_response"] = at
        ticket["assignee"] = ticket["first_responder"] = author.user_id
        self.add_event(
            w,
            ReportingEvent.Name.FIRST_RESPONSE,
            ticket["created"],
            at,
            ticket=ticket_id,
            conversation=conversation,
            operator=author.user_id,
            team=team_id,
        )

    def _pick_contact(self, w: InboxWorld, at: float) -> ContactState:
        rng = self.rng
        if w.contacts and rng.random() < 0.35:
            candidate = self.contacts_by_id[w.contacts[rng.randrange(len(w.contacts))]]
            if candidate.free_at < at:
                return candidate
        contact_id = self.ids[Contact].take()
        has_email = rng.random() < 0.6 or w.inbox.kind == ChannelKind.EMAIL
        # Some contacts opt out from a survey e-mail later; the row holds the final state.
        locale = rng.choice(("en", "en", "fa", "de"))
        state = ContactState(contact_id, has_email, opts_out=has_email and rng.random() < 0.03, locale=locale)
        self.contact.add(
            (
                contact_id,
                w.inbox.pk,
                uuid.uuid4(),
                f"Visitor {contact_id}" if rng.random() < 0.7 else "",
                f"visitor{contact_id}@example.org" if has_email else "",
                locale,
                "https://shop.example.com/help",
                "",
                state.opts_out,
                _dt(at),
                _dt(at),
            )
        )
        self.contacts_by_id[contact_id] = state
        w.contacts.append(contact_id)
        if len(w.contacts) > 3000:
            del w.contacts[:1000]
        return state

    # -- one ticket with its conversation(s)
    def story(self, w: InboxWorld, at: float, contact: ContactState | None = None) -> int:
        """Generates a ticket and its conversation(s) starting at `at`; returns the number of conversations."""
        rng = self.rng
        if w.inbox.kind in LIVE_KINDS and not w.clock.is_open(at) and rng.random() < 0.85:
            # The widget said "closed": most visitors came back when it opened.
            at = w.clock.next_opening(at) + rng.uniform(0, 3600)
            if at > self.now - 3 * 3600:
                return 0
        contact = contact or self._pick_contact(w, at)
        ticket_id = self.ids[Ticket].take()
        team_id = w.inbox.team_id
        ticket = {
            "created": at,
            "first_response": None,
            "resolved": None,
            "reopens": 0,
            "last_reopened": None,
            "conversations": 0,
            "pending_since": None,
            "paused": 0.0,
            "min_reopen_gap": None,
            "assignee": None,
            "first_responder": None,
            "resolved_by": None,
        }
        self.add_event(w, ReportingEvent.Name.TICKET_CREATED, at, at, ticket=ticket_id, team=team_id)
        made = 1
        end = add_conversation(self, w, contact, ticket_id, ticket, at)
        # A reopen: the contact comes back about the same issue after the ticket was resolved.
        if ticket["resolved"] is not None and rng.random() < 0.06:
            back = ticket["resolved"] + self.lognormal(20 * 3600, 1.0)
            if back < self.now - 3 * 3600:
                self.add_event(
                    w, ReportingEvent.Name.TICKET_REOPENED, ticket["resolved"], back, ticket=ticket_id, team=team_id
                )
                ticket["reopens"] += 1
                ticket["last_reopened"] = back
                # The time it spent resolved does not count against its resolution target.
                ticket["paused"] += w.clock.between(ticket["resolved"], back)
                ticket["min_reopen_gap"] = back - ticket["resolved"]
                ticket["resolved"] = None
                end = add_conversation(self, w, contact, ticket_id, ticket, back)
                made += 1
        self._write_ticket(w, contact, ticket_id, team_id, ticket)
        contact.free_at = max(contact.free_at, end)
        # Sometimes the contact opens a new ticket on the same inbox soon after (breaks first contact resolution).
        if ticket["resolved"] is not None and rng.random() < 0.04:
            again = ticket["resolved"] + self.lognormal(30 * 3600, 0.9)
            if again < self.now - 3 * 3600:
                made += self.story(w, again, contact)
        return made

    def _write_ticket(self, w: InboxWorld, contact: ContactState, ticket_id: int, team_id, t: dict) -> None:
        created, fr, resolved = t["created"], t["first_response"], t["resolved"]
        clock = w.clock
        ratio = settings.SLA_AT_RISK_RATIO
        fr_due = clock.add(created, w.first_response_target)
        fr_risk = clock.add(created, w.first_response_target * ratio)
        res_due = clock.add(created, w.resolution_target + t["paused"])
        res_risk = clock.add(created, w.resolution_target * ratio + t["paused"])
        fr_wall = fr_business = res_wall = res_business = None
        if fr is not None:
            fr_wall, fr_business = fr - created, clock.between(created, fr)
        if resolved is not None:
            res_wall, res_business = resolved - created, clock.between(created, resolved)
            status = Ticket.Status.RESOLVED
        else:
            status = Ticket.Status.PENDING if t["pending_since"] is not None else Ticket.Status.OPEN
        pending_since = t["pending_since"] if status == Ticket.Status.PENDING else None
        # Flags as the SLA sweep and the services leave them.
        fr_breached = (fr if fr is not None else self.now) > fr_due
        fr_at_risk = fr_breached or (fr if fr is not None else self.now) >= fr_risk
        if resolved is not None:
            res_breached, res_at_risk = resolved > res_due, resolved >= res_risk
        else:
            running = status == Ticket.Status.OPEN
            res_breached, res_at_risk = running and self.now > res_due, running and self.now >= res_risk
        res_at_risk = res_at_risk or res_breached
        last = max(x for x in (created, fr, resolved, t["last_reopened"], pending_since) if x is not None)
        self.ticket.add(
            (
                ticket_id,
                w.inbox.pk,
                w.inbox.kind,
                contact.id,
                "",
                status,
                "high" if self.rng.random() < 0.1 else "normal",
                t["assignee"],
                team_id,
                t["first_responder"],
                t["resolved_by"] if resolved is not None else None,
                _dt(created),
                _dt(fr),
                fr_wall,
                fr_business,
                _dt(resolved),
                res_wall,
                res_business,
                t["reopens"],
                _dt(t["last_reopened"]),
                t["conversations"],
                t["min_reopen_gap"],
                _dt(pending_since),
                t["paused"],
                _dt(fr_due),
                _dt(res_due),
                _dt(fr_risk),
                _dt(res_risk),
                fr_at_risk,
                fr_breached,
                res_at_risk,
                res_breached,
                _dt(last),
            )
        )
        self.counts["tickets"] += 1

    def flush(self) -> None:
        with transaction.atomic():
            for table in self.tables:
                _write(table)
