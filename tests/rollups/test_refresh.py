"""The rollups kept up to date by marks and refreshes equal a rebuild from scratch, and read as the source rows do.

Changes are made the way any code may make them (creates, saves, bulk updates, deletes): the database triggers
mark the days, whatever wrote the row. The desk's time zone has a DST change inside the history.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db.models import F
from django.utils import timezone

from chat.models import ChannelKind, Conversation, ConversationLabel, PresenceInterval
from rollups import histograms
from rollups import selectors as rollups
from rollups.models import Rollup, RollupMark
from rollups.services import rebuild, refresh
from surveys import selectors as survey_selectors
from surveys.models import SurveyInvitation
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    LabelFactory,
    OperatorFactory,
    SurveyInvitationFactory,
    SurveyResponseFactory,
    TeamFactory,
    TicketFactory,
)
from tickets import selectors as ticket_selectors
from tickets.models import Ticket
from tickets.selectors.conversations import live_conversations
from tickets.selectors.filters import MetricFilter

NOW = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
# Berlin moves its clocks forward on Sunday 29 March 2026: that day has 23 hours.
# The reading period holds the whole of March (read from its month rows) and days on either side of it.
FIRST_DAY, LAST_DAY = date(2026, 2, 25), date(2026, 4, 2)


def _snapshot() -> list:
    """The rollup rows, order-free: sums rounded (they add floats in row order), instant lists sorted."""

    def normal(value):
        if isinstance(value, float):
            return round(value, 6)
        if isinstance(value, dict):
            return {k: normal(v) for k, v in value.items()}
        if isinstance(value, list):
            return sorted(normal(v) for v in value) if value and isinstance(value[0], list) else value
        return value

    return sorted(
        repr(
            (
                r.grain,
                r.day,
                r.source,
                r.grouping,
                r.inbox_id,
                r.channel_kind,
                r.team_id,
                r.operator_id,
                r.label_id,
                json.dumps(normal(r.data), sort_keys=True),
            )
        )
        for r in Rollup.objects.all()
    )


class World:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.teams = [TeamFactory(), TeamFactory()]
        self.inboxes = [
            InboxFactory(kind=ChannelKind.WEB_WIDGET, team=self.teams[0]),
            InboxFactory(kind=ChannelKind.API, team=self.teams[1]),
            InboxFactory(kind=ChannelKind.EMAIL, team=self.teams[1]),
        ]
        self.operators = [OperatorFactory(inboxes=self.inboxes).user for _ in range(3)]
        self.labels = [LabelFactory(), LabelFactory(), LabelFactory(inbox=self.inboxes[0])]

    def instant(self) -> datetime:
        start = datetime(2026, 2, 20, 0, 0, tzinfo=UTC)
        return start + timedelta(seconds=self.rng.uniform(0, (NOW - start).total_seconds() - 3600))

    def new_chat(self) -> None:
        rng = self.rng
        inbox = rng.choice(self.inboxes)
        requested = self.instant()
        contact = ContactFactory(inbox=inbox)
        ticket = TicketFactory(
            inbox=inbox,
            contact=contact,
            created_at=requested,
            team=rng.choice(self.teams + [None]),
            first_response_due_at=requested + timedelta(seconds=rng.choice([120, 86400, 3 * 86400])),
            conversation_count=1,
        )
        if inbox.kind == ChannelKind.EMAIL:
            return
        conversation = ConversationFactory(
            inbox=inbox, contact=contact, ticket=ticket, requested_at=requested, team=ticket.team
        )
        roll = rng.random()
        if roll < 0.2:
            ended = requested + timedelta(seconds=rng.uniform(5, 200))
            Conversation.objects.filter(pk=conversation.pk).update(
                status=Conversation.Status.ENDED, end_reason=Conversation.EndReason.ABANDONED, ended_at=ended
            )
        elif roll < 0.3:
            Conversation.objects.filter(pk=conversation.pk).update(
                status=Conversation.Status.ENDED, end_reason=Conversation.EndReason.MISSED, ended_at=requested
            )

    def first_response(self) -> None:
        ticket = Ticket.objects.filter(first_response_at__isnull=True).order_by("?").first()
        if ticket is None:
            return
        seconds = self.rng.lognormvariate(5, 2)
        answered = ticket.created_at + timedelta(seconds=seconds)
        operator = self.rng.choice(self.operators)
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_at=answered,
            first_response_seconds=seconds,
            first_response_business_seconds=seconds * 0.5,
            first_responder=operator,
            assignee=operator,
        )
        Conversation.objects.filter(ticket=ticket, end_reason="").update(
            first_response_at=answered,
            assignee=operator,
            status=Conversation.Status.ACTIVE,
            operator_message_count=F("operator_message_count") + 1,
            canned_message_count=F("canned_message_count") + self.rng.choice([0, 1]),
        )

    def resolve(self) -> None:
        ticket = Ticket.objects.exclude(status=Ticket.Status.RESOLVED).order_by("?").first()
        if ticket is None:
            return
        resolved = min(NOW, ticket.created_at + timedelta(seconds=self.rng.lognormvariate(8, 1.5)))
        ticket.status = Ticket.Status.RESOLVED
        ticket.resolved_at = resolved
        ticket.resolution_seconds = (resolved - ticket.created_at).total_seconds()
        ticket.resolution_business_seconds = ticket.resolution_seconds / 3
        ticket.resolution_due_at = ticket.created_at + timedelta(days=1)
        ticket.resolved_by = self.rng.choice(self.operators)
        ticket.save()
        Conversation.objects.filter(ticket=ticket, status=Conversation.Status.ACTIVE).update(
            status=Conversation.Status.ENDED, end_reason=Conversation.EndReason.RESOLVED, ended_at=resolved
        )

    def reopen(self) -> None:
        ticket = Ticket.objects.filter(status=Ticket.Status.RESOLVED).order_by("?").first()
        if ticket is None:
            return
        Ticket.objects.filter(pk=ticket.pk).update(
            status=Ticket.Status.OPEN, reopen_count=F("reopen_count") + 1, min_reopen_gap_seconds=3600.0
        )

    def transfer(self) -> None:
        conversation = Conversation.objects.filter(assignee__isnull=False).order_by("?").first()
        if conversation is None:
            return
        Conversation.objects.filter(pk=conversation.pk).update(
            assignee=self.rng.choice(self.operators),
            team=self.rng.choice(self.teams),
            transfer_count=F("transfer_count") + 1,
        )

    def survey(self) -> None:
        conversation = Conversation.objects.filter(first_response_at__isnull=False, survey_invitation=None).first()
        if conversation is None:
            return
        invitation = SurveyInvitationFactory(
            conversation=conversation,
            operator=conversation.assignee,
            team=conversation.team,
            sent_at=conversation.first_response_at,
            status=SurveyInvitation.Status.SENT,
        )
        if self.rng.random() < 0.7:
            answered = min(NOW, invitation.sent_at + timedelta(days=self.rng.uniform(0, 3)))
            SurveyResponseFactory(
                invitation=invitation, csat=self.rng.randint(1, 5), csat_scale="1-5", created_at=answered
            )
            SurveyInvitation.objects.filter(pk=invitation.pk).update(status=SurveyInvitation.Status.ANSWERED)

    def label(self) -> None:
        """A label put on a conversation, or one of its labels taken off, at any time after its day was rolled up."""
        conversation = Conversation.objects.order_by("?").first()
        if conversation is None:
            return
        label = self.rng.choice(self.labels)
        links = ConversationLabel.objects.filter(conversation=conversation, label=label)
        if links.exists():
            links.delete()
        else:
            ConversationLabel.objects.create(conversation=conversation, label=label)

    def relabel(self) -> None:
        """A label's links changed in bulk: one moved to another label, or a label deleted with its links."""
        if self.rng.random() < 0.5:
            link = ConversationLabel.objects.order_by("?").first()
            if link is not None:
                others = [x for x in self.labels if not ConversationLabel.objects.filter(
                    conversation_id=link.conversation_id, label=x).exists()]  # fmt: skip
                if others:
                    ConversationLabel.objects.filter(pk=link.pk).update(label=self.rng.choice(others))
        elif len(self.labels) > 1:
            self.labels.pop(self.rng.randrange(len(self.labels))).delete()

    def move(self) -> None:
        """A conversation continues another ticket (a follow-up), by a bare update: its labels go along."""
        conversation = Conversation.objects.filter(label_links__isnull=False).order_by("?").first()
        ticket = Ticket.objects.order_by("?").first()
        if conversation is not None and ticket is not None:
            Conversation.objects.filter(pk=conversation.pk).update(ticket=ticket)

    def delete(self) -> None:
        ticket = Ticket.objects.order_by("?").first()
        if ticket is not None:
            Conversation.objects.filter(ticket=ticket).delete()
            ticket.delete()

    def presence(self) -> None:
        operator = self.rng.choice(self.operators)
        started = self.instant()
        PresenceInterval.objects.create(
            operator=operator,
            status="online",
            started_at=started,
            ended_at=started + timedelta(hours=self.rng.uniform(1, 30)),
        )


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    timezone.activate("Europe/Berlin")
    yield
    timezone.deactivate()


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_rollups_equal_a_rebuild_after_a_random_history(berlin, seed):
    rng = random.Random(seed)
    with time_machine.travel(NOW, tick=False):
        world = World(rng)
        refresh()
        steps = (
            [world.new_chat] * 6
            + [world.first_response] * 4
            + [world.resolve] * 3
            + [world.reopen, world.transfer, world.survey, world.survey, world.delete, world.presence]
            + [world.label] * 4
            + [world.relabel, world.move]
        )
        for i in range(160):
            rng.choice(steps)()
            if i % 17 == 0:
                refresh()
        refresh()
        assert not RollupMark.objects.exists()
        incremental = _snapshot()
        rebuild()
        assert _snapshot() == incremental
        assert len(incremental) > 20
        assert any(" 'lconv'," in row and "None, None, None, None, None" not in row for row in incremental)


def _filters(**kw) -> MetricFilter:
    start = timezone.make_aware(datetime.combine(FIRST_DAY, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time()))
    return MetricFilter(start=start, end=end, **kw)


def _close(a, b, *, percentile: bool) -> bool:
    if a is None or b is None:
        return a is b
    if percentile:
        return abs(a - b) <= histograms.RELATIVE_ERROR * abs(b) + 1e-9
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _same(rollup, exact, path="") -> list[str]:
    """Differences between a rollup reading and the source-row selectors' (percentiles within 0.5 %)."""
    if isinstance(exact, dict):
        return [d for k, v in exact.items() for d in _same(rollup.get(k), v, f"{path}.{k}")]
    if isinstance(exact, (int, float)) or exact is None:
        percentile = path.endswith((".median", ".p90"))
        return [] if _close(rollup, exact, percentile=percentile) else [f"{path}: {rollup} != {exact}"]
    return [] if rollup == exact else [f"{path}: {rollup} != {exact}"]


@pytest.mark.django_db
@pytest.mark.parametrize("by", [None, "inbox", "channel_kind", "team", "operator", "day"])
def test_rollups_read_as_the_source_rows_do(berlin, by):
    rng = random.Random(11)
    with time_machine.travel(NOW, tick=False):
        world = World(rng)
        for step in (
            [world.new_chat] * 60
            + [world.first_response] * 40
            + [world.resolve] * 25
            + [world.transfer] * 8
            + [world.reopen] * 4
            + [world.survey] * 20
        ):
            step()
        team = world.teams[0].pk
        for filters in (
            _filters(),
            _filters(team_ids=(team,)),
            _filters(inbox_ids=(world.inboxes[0].pk,), team_ids=(team,)),
        ):
            pairs = [
                (
                    rollups.ticket_created_metrics(filters=filters, by=by),
                    ticket_selectors.ticket_created_metrics(filters=filters, by=by),
                ),
                (
                    rollups.ticket_resolved_metrics(filters=filters, by=by),
                    ticket_selectors.ticket_resolved_metrics(filters=filters, by=by),
                ),
                (
                    rollups.conversation_metrics(filters=filters, by=by),
                    ticket_selectors.conversation_metrics(filters=filters, by=by),
                ),
            ]
            exact_surveys = survey_selectors.survey_metrics(filters=filters, by=by)
            exact_surveys = {None: exact_surveys} if by is None else {row.pop("key"): row for row in exact_surveys}
            pairs.append((rollups.survey_metrics(filters=filters, by=by), exact_surveys))
            for from_rollups, exact in pairs:
                assert set(from_rollups) == set(exact)
                differences = [d for key in exact for d in _same(from_rollups[key], exact[key], str(key))]
                assert differences == []
            grid = [[0] * 24 for _ in range(7)]
            for requested in live_conversations(filters).values_list("requested_at", flat=True):
                local = timezone.localtime(requested)
                grid[local.isoweekday() - 1][local.hour] += 1
            assert rollups.requests_by_weekday_hour(filters=filters) == grid


def _percentile(values: list[float], p: float) -> float | None:
    """percentile_cont: interpolated between the two ranks around p × (n − 1)."""
    if not values:
        return None
    values = sorted(values)
    position = p * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _exact_per_label(filters: MetricFilter) -> dict:
    """Per label (None: no label), from the source rows: live chats requested, tickets created (a ticket carries its
    conversations' labels) with their FRT, CSAT answers (the invitation's conversation's labels) — metrics.md."""
    from surveys.models import SurveyResponse
    from surveys.selectors.metrics import RESPONSE
    from tickets.selectors.conversations import LIVE_KINDS
    from tickets.selectors.filters import CONVERSATION, TICKET_CREATED, apply_filter

    def labels_of(conversations) -> set:
        return set(ConversationLabel.objects.filter(conversation__in=conversations).values_list("label_id", flat=True))

    out: dict = {}

    def row(label):
        return out.setdefault(label, {"requested": 0, "created": 0, "frt": [], "csat": 0, "satisfied": 0})

    live = Conversation.objects.filter(channel_kind__in=LIVE_KINDS)
    for conversation in apply_filter(live, filters, CONVERSATION, "requested_at"):
        for label in labels_of([conversation]) or {None}:
            row(label)["requested"] += 1
    for ticket in apply_filter(Ticket.objects.all(), filters, TICKET_CREATED, "created_at"):
        for label in labels_of(ticket.conversations.all()) or {None}:
            row(label)["created"] += 1
            if ticket.first_response_seconds is not None:
                row(label)["frt"].append(ticket.first_response_seconds)
    responses = apply_filter(SurveyResponse.objects.select_related("invitation"), filters, RESPONSE, "created_at")
    for response in responses:
        for label in labels_of([response.invitation.conversation_id]) or {None}:
            if response.csat is not None:
                row(label)["csat"] += 1
                row(label)["satisfied"] += int(response.csat >= 4)
    return out


@pytest.mark.django_db
def test_label_rollups_read_as_the_source_rows_do(berlin):
    rng = random.Random(5)
    with time_machine.travel(NOW, tick=False):
        world = World(rng)
        for step in (
            [world.new_chat] * 60
            + [world.first_response] * 40
            + [world.resolve] * 25
            + [world.transfer] * 8
            + [world.survey] * 20
            + [world.label] * 70
        ):
            step()
        # A ticket with two conversations, the second labelled differently: the ticket carries both labels.
        ticket = Ticket.objects.filter(conversations__isnull=False, first_response_seconds__isnull=False).first()
        # Ended, so that it never is a second open conversation of the contact (one open per contact).
        second = ConversationFactory(
            inbox=ticket.inbox,
            contact=ticket.contact,
            ticket=ticket,
            requested_at=ticket.created_at,
            status="ended",
            end_reason="resolved",
            ended_at=ticket.created_at,
        )
        ConversationLabel.objects.create(conversation=second, label=world.labels[0])
        team = world.teams[0].pk
        for filters in (
            _filters(),
            _filters(team_ids=(team,)),
            _filters(inbox_ids=(world.inboxes[0].pk,), operator_ids=(world.operators[0].pk,)),
        ):
            exact = _exact_per_label(filters)
            read = rollups.label_metrics(filters=filters)
            if filters == _filters():
                assert len(exact) == 4  # the three labels and "no label"
            assert set(read) == set(exact)
            for label, e in exact.items():
                r = read[label]
                assert r["outcomes"]["requested"] == e["requested"]
                assert r["counts"]["created"] == e["created"]
                assert r["frt"]["count"] == len(e["frt"])
                for name, p in (("median", 0.5), ("p90", 0.9)):
                    assert _close(r["frt"]["wall"][name], _percentile(e["frt"], p), percentile=True), (label, name)
                csat = r["surveys"]["csat"]
                assert (csat["responses"], csat["satisfied"]) == (e["csat"], e["satisfied"])
