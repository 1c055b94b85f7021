"""Survey metrics on constructed answers (metrics.md, "Surveys"), for every scale."""

from datetime import UTC, date, datetime, timedelta

import pytest

from surveys.models import SurveyInvitation
from surveys.selectors import MetricFilter, survey_metrics
from tests.factories import (
    ConversationFactory,
    InboxFactory,
    OperatorFactory,
    SurveyInvitationFactory,
    SurveyResponseFactory,
)
from tickets.selectors import breakdown_labels

DAY = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def web(db):
    return InboxFactory(name="Web")


def answer(inbox, *, at=DAY, operator=None, team=None, channel_kind=None, **scores):
    """A sent and answered invitation, attributed to `operator`/`team`/`inbox` at sending time."""
    invitation = SurveyInvitationFactory(
        conversation=ConversationFactory(inbox=inbox),
        operator=operator,
        team=team if team is not None else inbox.team,
        channel_kind=channel_kind or inbox.kind,
        status=SurveyInvitation.Status.ANSWERED,
        sent_at=at - timedelta(minutes=5),
        answered_at=at,
    )
    return SurveyResponseFactory(invitation=invitation, created_at=at, **scores)


def sent_unanswered(inbox, *, at=DAY, operator=None):
    return SurveyInvitationFactory(
        conversation=ConversationFactory(inbox=inbox), operator=operator, status="sent", sent_at=at
    )


def test_csat_on_1_to_5_counts_4_and_5_as_satisfied(web):
    for score in [5, 4, 3, 2, 1]:
        answer(web, csat=score, csat_scale="1-5")

    csat = survey_metrics()["csat"]

    assert (csat["responses"], csat["satisfied"], csat["rate"]) == (5, 2, 0.4)
    assert csat["mean"] == 3.0
    assert csat["mean_by_scale"] == {"1-5": 3.0}


def test_csat_on_0_to_10_counts_8_to_10_as_satisfied(web):
    for score in [10, 9, 8, 7, 0]:
        answer(web, csat=score, csat_scale="0-10")

    csat = survey_metrics()["csat"]

    assert (csat["satisfied"], csat["rate"], csat["mean"]) == (3, 0.6, pytest.approx(6.8))


def test_mixed_csat_scales_give_a_percent_but_means_per_scale_only(web):
    answer(web, csat=4, csat_scale="1-5")
    answer(web, csat=2, csat_scale="1-5")
    answer(web, csat=8, csat_scale="0-10")

    csat = survey_metrics()["csat"]

    assert csat["rate"] == pytest.approx(2 / 3)
    assert csat["mean"] is None
    assert csat["mean_by_scale"] == {"1-5": 3.0, "0-10": 8.0}


@pytest.mark.parametrize(
    ("scale", "scores", "easy"),
    [
        ("1-7", [7, 6, 5, 4, 1], 3),
        ("1-5", [5, 4, 3, 1], 2),
        ("0-10", [10, 8, 7, 0], 2),
        ("0-3", [3, 2, 1, 0], 2),
        ("0-5", [5, 4, 3, 0], 2),
    ],
)
def test_ces_easy_share_uses_the_top_of_each_scale(web, scale, scores, easy):
    for score in scores:
        answer(web, ces=score, ces_scale=scale)

    metrics = survey_metrics()

    assert metrics["ces"]["responses"] == len(scores)
    assert metrics["ces"]["easy"] == easy
    assert metrics["ces"]["easy_share"] == pytest.approx(easy / len(scores))
    assert metrics["ces"]["mean"] == pytest.approx(sum(scores) / len(scores))
    assert metrics["csat"]["responses"] == 0 and metrics["csat"]["rate"] is None


def test_nps_counts_promoters_minus_detractors_and_passives_only_in_the_base(web):
    for score in [10, 9, 9, 8, 7, 6, 0, 10]:
        answer(web, nps=score)

    nps = survey_metrics()["nps"]

    assert (nps["responses"], nps["promoters"], nps["passives"], nps["detractors"]) == (8, 4, 2, 2)
    assert nps["score"] == 25.0  # 4/8 promoters − 2/8 detractors


def test_nps_ranges_from_minus_100_to_100(web):
    answer(web, nps=6)
    answer(web, nps=0)
    assert survey_metrics()["nps"]["score"] == -100.0


def test_response_rate_is_answered_over_sent(web):
    answer(web, csat=5, csat_scale="1-5")
    sent_unanswered(web)
    sent_unanswered(web)
    sent_unanswered(web)
    # Made but never shown or e-mailed: not sent, so not in the base.
    SurveyInvitationFactory(conversation=ConversationFactory(inbox=web), status="scheduled")

    assert survey_metrics()["response_rate"] == {"sent": 4, "answered": 1, "rate": 0.25}


def test_an_empty_selection_has_no_figures(db):
    metrics = survey_metrics()
    assert metrics["responses"] == 0
    assert metrics["csat"]["rate"] is None and metrics["csat"]["mean"] is None
    assert metrics["nps"]["score"] is None and metrics["response_rate"]["rate"] is None


def test_answers_count_for_the_operator_and_team_on_the_invitation_not_the_current_assignee(web):
    alice = OperatorFactory(inboxes=[web], display_name="Alice")
    bob = OperatorFactory(inboxes=[web], display_name="Bob")
    response = answer(web, operator=alice.user, csat=5, csat_scale="1-5")
    # The conversation changed hands after the survey was sent.
    conversation = response.invitation.conversation
    conversation.assignee = bob.user
    conversation.save()

    assert survey_metrics(filters=MetricFilter(operator_ids=(alice.user.pk,)))["csat"]["responses"] == 1
    assert survey_metrics(filters=MetricFilter(operator_ids=(bob.user.pk,)))["csat"]["responses"] == 0
    assert survey_metrics(filters=MetricFilter(team_ids=(web.team_id,)))["csat"]["responses"] == 1


def test_filters_by_period_inbox_and_channel_kind(web):
    api = InboxFactory(name="API", kind="api")
    answer(web, at=DAY, csat=5, csat_scale="1-5")
    answer(web, at=DAY + timedelta(days=1), csat=1, csat_scale="1-5")
    answer(api, at=DAY, csat=4, csat_scale="1-5")

    one_day = MetricFilter(start=DAY.replace(hour=0), end=DAY.replace(hour=0) + timedelta(days=1))
    assert survey_metrics(filters=one_day)["csat"]["responses"] == 2
    assert survey_metrics(filters=MetricFilter(inbox_ids=(web.pk,)))["csat"]["rate"] == 0.5
    assert survey_metrics(filters=MetricFilter(channel_kinds=("api",)))["csat"]["mean"] == 4.0


def test_breakdown_by_operator_names_each_operator_and_keeps_unattributed_answers(web):
    alice = OperatorFactory(inboxes=[web], display_name="Alice")
    bob = OperatorFactory(inboxes=[web], display_name="Bob")
    answer(web, operator=alice.user, csat=5, csat_scale="1-5")
    answer(web, operator=alice.user, csat=2, csat_scale="1-5")
    answer(web, operator=bob.user, csat=4, csat_scale="1-5")
    answer(web, operator=None, nps=10)
    sent_unanswered(web, operator=bob.user)

    rows = survey_metrics(by="operator")
    labels = breakdown_labels(by="operator", keys=[row["key"] for row in rows])
    by_name = {labels.get(row["key"], "(none)"): row for row in rows}

    assert list(by_name) == ["Alice", "Bob", "(none)"]
    assert (by_name["Alice"]["csat"]["rate"], by_name["Alice"]["response_rate"]["rate"]) == (0.5, 1.0)
    assert by_name["Bob"]["csat"]["rate"] == 1.0
    assert by_name["Bob"]["response_rate"] == {"sent": 2, "answered": 1, "rate": 0.5}
    assert by_name["(none)"]["nps"]["score"] == 100.0


def test_breakdown_by_day_inbox_channel_kind_and_team(web):
    api = InboxFactory(name="API", kind="api")
    answer(web, at=DAY, csat=5, csat_scale="1-5")
    answer(web, at=DAY + timedelta(days=1), csat=1, csat_scale="1-5")
    answer(api, at=DAY, csat=4, csat_scale="1-5")

    by_day = survey_metrics(by="day")
    assert [(row["key"], row["csat"]["responses"]) for row in by_day] == [(date(2026, 5, 4), 2), (date(2026, 5, 5), 1)]

    by_inbox = {row["key"]: row["csat"]["mean"] for row in survey_metrics(by="inbox")}
    assert by_inbox == {web.pk: 3.0, api.pk: 4.0}

    by_kind = {row["key"]: row["csat"]["responses"] for row in survey_metrics(by="channel_kind")}
    assert by_kind == {"web_widget": 2, "api": 1}

    by_team = {row["key"]: row["csat"]["responses"] for row in survey_metrics(by="team")}
    assert by_team == {web.team_id: 2, api.team_id: 1}


def test_an_unknown_breakdown_is_refused(db):
    with pytest.raises(ValueError):
        survey_metrics(by="weather")
