"""A small history with known answers (worked out by hand from metrics.md in test_figures.py).

Period: Monday 2 – Sunday 8 March 2026 (UTC); "now" is Monday 9 March 12:00, so the 72 h FCR window of a
ticket resolved after Friday 6 March 12:00 is still open. Both inboxes are open 24/7 (business = wall).

Live chat inbox "Website" (team Front), e-mail inbox "Mail" (team Back); operators Olga (Front) and Omar (Back).

  c1 Mon 10:00  Olga replies +30 s (canned), resolved 10:10             ticket t1 (600 s)      survey CSAT 5, NPS 10
  c2 Tue 11:00  Olga replies +90 s, transferred to Omar, resolved 11:20 ticket t2 (1200 s)   survey CSAT 3, CES 6, NPS 6
  c3 Wed 12:00  abandoned after 40 s, no reply                          ticket t3 open
  c4 Wed 09:00  (c2's contact) Olga replies +150 s, resolved 09:30      ticket t4, reopened    survey sent, not answered
  c5 Thu 09:00  t4 reopened by c5; Olga replies +20 s; resolved 09:20   t4 (last resolution: 87 600 s)
  c6 Fri 14:00  missed (queue timeout 300 s)                            ticket t6 open
  c7 Sun 10:00  Omar replies +60 s (+ a private note), resolved 10:05   ticket t7 (300 s)      survey CSAT 4, NPS 8
  c8 Mon 08:00  e-mail; Omar replies after 4 h, resolved 13:00          ticket t8 (18 000 s)   survey CSAT 2
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db.models import F

from chat.models import ChannelKind, Conversation, Message
from tests.factories import (
    CannedReplyFactory,
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MessageFactory,
    OperatorFactory,
    SurveyInvitationFactory,
    SurveyResponseFactory,
    SurveyTemplateFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services as ticket_services

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
PERIOD = {"period": "custom", "start": "2026-03-02", "end": "2026-03-08"}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


@dataclass
class History:
    web: object
    mail: object
    front: object
    back: object
    olga: object
    omar: object
    conversations: dict
    tickets: dict


def _conversation(inbox, contact, ticket, requested, *, operator=None, first=None, ended, reason, transfers=0):
    conversation = ConversationFactory(
        inbox=inbox,
        contact=contact,
        channel_kind=inbox.kind,
        requested_at=requested,
        status=Conversation.Status.ENDED,
        end_reason=reason,
        assignee=operator,
        team=inbox.team,
        assigned_at=requested + timedelta(seconds=1) if operator else None,
        first_response_at=first,
        ended_at=ended,
        transfer_count=transfers,
    )
    ticket_services.ticket_attach_conversation(ticket=ticket, conversation=conversation)
    MessageFactory(conversation=conversation, sender=Message.Sender.VISITOR, created_at=requested)
    return conversation


def _reply(conversation, operator, when, *, canned=None, private=False):
    MessageFactory(
        conversation=conversation,
        sender=Message.Sender.OPERATOR,
        author=operator,
        created_at=when,
        canned_reply=canned,
        private=private,
    )
    if not private:
        # As the chat service that sends an operator message keeps the conversation's counters.
        Conversation.objects.filter(pk=conversation.pk).update(
            operator_message_count=F("operator_message_count") + 1,
            canned_message_count=F("canned_message_count") + int(canned is not None),
        )


def _survey(conversation, operator, sent, *, csat=None, ces=None, nps=None, answered=True):
    invitation = SurveyInvitationFactory(
        conversation=conversation,
        ticket=conversation.ticket,
        operator=operator,
        team=conversation.team,
        status="answered" if answered else "expired",
        created_at=sent,
        sent_at=sent,
        answered_at=sent + timedelta(minutes=1) if answered else None,
        expires_at=sent + timedelta(days=7),
    )
    if answered:
        SurveyResponseFactory(
            invitation=invitation,
            csat=csat,
            csat_scale="1-5" if csat is not None else "",
            ces=ces,
            ces_scale="1-7" if ces is not None else "",
            nps=nps,
            created_at=sent + timedelta(minutes=1),
        )
    return invitation


@pytest.fixture
def history(db) -> History:
    return build_history()


def build_history() -> History:
    front, back = TeamFactory(name="Front"), TeamFactory(name="Back")
    web = InboxFactory(name="Website", kind=ChannelKind.WEB_WIDGET, team=front)
    mail = InboxFactory(name="Mail", kind=ChannelKind.EMAIL, team=back)
    SurveyTemplateFactory(inbox=web, ask_ces=True, ask_nps=True)
    SurveyTemplateFactory(inbox=mail)
    olga = OperatorFactory(display_name="Olga", user=UserFactory(username="olga"), inboxes=[web], teams=[front]).user
    omar = OperatorFactory(display_name="Omar", user=UserFactory(username="omar"), inboxes=[web, mail]).user
    omar.operator.teams.set([back])
    canned = CannedReplyFactory(inbox=web)
    x = ContactFactory(inbox=web, name="Xena")
    svc = ticket_services
    c, t = {}, {}

    t[1] = svc.ticket_create(inbox=web, contact=ContactFactory(inbox=web), channel_kind=web.kind, at=at(2, 10))
    c[1] = _conversation(
        web,
        t[1].contact,
        t[1],
        at(2, 10),
        operator=olga,
        first=at(2, 10, 0, 30),
        ended=at(2, 10, 10),
        reason="resolved",
    )
    _reply(c[1], olga, at(2, 10, 0, 30), canned=canned)
    svc.ticket_record_first_response(ticket=t[1], at=at(2, 10, 0, 30), operator=olga, conversation=c[1])
    svc.ticket_resolve(ticket=t[1], at=at(2, 10, 10), operator=olga)
    _survey(c[1], olga, at(2, 10, 10, 5), csat=5, nps=10)

    t[2] = svc.ticket_create(inbox=web, contact=x, channel_kind=web.kind, at=at(3, 11))
    c[2] = _conversation(
        web,
        x,
        t[2],
        at(3, 11),
        operator=omar,
        first=at(3, 11, 1, 30),
        ended=at(3, 11, 20),
        reason="resolved",
        transfers=1,
    )
    _reply(c[2], olga, at(3, 11, 1, 30))
    _reply(c[2], omar, at(3, 11, 10), canned=canned)
    svc.ticket_record_first_response(ticket=t[2], at=at(3, 11, 1, 30), operator=olga, conversation=c[2])
    svc.ticket_resolve(ticket=t[2], at=at(3, 11, 20), operator=omar)
    _survey(c[2], omar, at(3, 11, 20, 5), csat=3, ces=6, nps=6)

    t[3] = svc.ticket_create(inbox=web, contact=ContactFactory(inbox=web), channel_kind=web.kind, at=at(4, 12))
    c[3] = _conversation(web, t[3].contact, t[3], at(4, 12), ended=at(4, 12, 0, 40), reason="abandoned")

    t[4] = svc.ticket_create(inbox=web, contact=x, channel_kind=web.kind, at=at(4, 9))
    c[4] = _conversation(
        web, x, t[4], at(4, 9), operator=olga, first=at(4, 9, 2, 30), ended=at(4, 9, 30), reason="resolved"
    )
    _reply(c[4], olga, at(4, 9, 2, 30))
    svc.ticket_record_first_response(ticket=t[4], at=at(4, 9, 2, 30), operator=olga, conversation=c[4])
    svc.ticket_resolve(ticket=t[4], at=at(4, 9, 30), operator=olga)
    _survey(c[4], olga, at(4, 9, 30, 5), answered=False)
    svc.ticket_reopen(ticket=t[4], at=at(5, 9))
    c[5] = _conversation(
        web, x, t[4], at(5, 9), operator=olga, first=at(5, 9, 0, 20), ended=at(5, 9, 20), reason="resolved"
    )
    _reply(c[5], olga, at(5, 9, 0, 20))
    svc.ticket_resolve(ticket=t[4], at=at(5, 9, 20), operator=olga)

    t[6] = svc.ticket_create(inbox=web, contact=ContactFactory(inbox=web), channel_kind=web.kind, at=at(6, 14))
    c[6] = _conversation(web, t[6].contact, t[6], at(6, 14), ended=at(6, 14, 5), reason="missed")

    t[7] = svc.ticket_create(inbox=web, contact=ContactFactory(inbox=web), channel_kind=web.kind, at=at(8, 10))
    c[7] = _conversation(
        web, t[7].contact, t[7], at(8, 10), operator=omar, first=at(8, 10, 1), ended=at(8, 10, 5), reason="resolved"
    )
    _reply(c[7], omar, at(8, 10, 0, 50), private=True)
    _reply(c[7], omar, at(8, 10, 1))
    svc.ticket_record_first_response(ticket=t[7], at=at(8, 10, 1), operator=omar, conversation=c[7])
    svc.ticket_resolve(ticket=t[7], at=at(8, 10, 5), operator=omar)
    _survey(c[7], omar, at(8, 10, 5, 5), csat=4, nps=8)

    t[8] = svc.ticket_create(inbox=mail, contact=ContactFactory(inbox=mail), channel_kind=mail.kind, at=at(2, 8))
    c[8] = _conversation(
        mail, t[8].contact, t[8], at(2, 8), operator=omar, first=at(2, 12), ended=at(2, 13), reason="resolved"
    )
    _reply(c[8], omar, at(2, 12))
    svc.ticket_record_first_response(ticket=t[8], at=at(2, 12), operator=omar, conversation=c[8])
    svc.ticket_resolve(ticket=t[8], at=at(2, 13), operator=omar)
    _survey(c[8], omar, at(2, 13, 0, 5), csat=2)

    for ticket in t.values():
        ticket.refresh_from_db()
    return History(web, mail, front, back, olga, omar, c, t)


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def make_manager():
    user = UserFactory(username="manager", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_reports"))
    return user


@pytest.fixture
def manager(db):
    return make_manager()
