"""A CSV export never hands a spreadsheet a formula: text that a spreadsheet would evaluate is quoted (security.md)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from chat.models import Conversation
from tests.factories import (
    ConversationFactory,
    InboxFactory,
    OperatorFactory,
    SurveyInvitationFactory,
    SurveyResponseFactory,
    TeamFactory,
    UserFactory,
)
from tests.reports.conftest import PERIOD, at

# OWASP's list: what makes Excel, LibreOffice or Google Sheets read a cell as a formula.
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def _rows(client, url: str) -> list[dict]:
    response = client.get(url, PERIOD)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))


@pytest.mark.django_db
@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_text_a_spreadsheet_would_run_comes_out_as_text(client, manager, frozen_now, start):
    formula = f'{start}HYPERLINK("http://evil","x")'
    team = TeamFactory(name=f"{start}team")
    inbox = InboxFactory(name=f"{start}inbox", team=team)
    operator = OperatorFactory(
        display_name=f"{start}Olga", user=UserFactory(username=f"{start}olga"), inboxes=[inbox], teams=[team]
    ).user
    conversation = ConversationFactory(
        inbox=inbox,
        team=team,
        assignee=operator,
        requested_at=at(3, 10),
        first_response_at=at(3, 10, 1),
        status=Conversation.Status.ENDED,
        end_reason="resolved",
        ended_at=at(3, 10, 5),
    )
    invitation = SurveyInvitationFactory(
        conversation=conversation, operator=operator, status="answered", sent_at=at(3, 10, 6), created_at=at(3, 10, 6)
    )
    SurveyResponseFactory(invitation=invitation, csat=1, csat_scale="1-5", comment=formula, created_at=at(3, 10, 7))
    client.force_login(manager)

    (row,) = _rows(client, "/admin/reports/export/conversations.csv")
    assert row["survey_comment"] == "'" + formula
    assert (row["inbox"], row["team"], row["operator"]) == (f"'{start}inbox", f"'{start}team", f"'{start}olga")
    for table, label in (("operator", f"'{start}Olga"), ("team", f"'{start}team"), ("inbox", f"'{start}inbox")):
        assert label in [r["label"] for r in _rows(client, f"/admin/reports/export/{table}.csv")], table


@pytest.mark.django_db
def test_numbers_stay_numbers_even_negative_ones(client, manager, frozen_now):
    # A clock that went back: the first reply stored 25 s before the request. Its wait is a number, -25.
    ConversationFactory(
        requested_at=at(3, 10),
        first_response_at=at(3, 10) - timedelta(seconds=25),
        status=Conversation.Status.ENDED,
        end_reason="resolved",
        ended_at=at(3, 10, 5),
        transfer_count=2,
    )
    client.force_login(manager)

    (row,) = _rows(client, "/admin/reports/export/conversations.csv")
    assert row["wait_s"] == "-25.0"
    assert row["transfers"] == "2"
    assert row["requested_at"] == at(3, 10).isoformat()
    assert row["survey_comment"] == ""
    (summary, _previous) = _rows(client, "/admin/reports/export/summary.csv")
    assert summary["requested"] == "1"


@pytest.mark.django_db
def test_the_conversations_export_names_the_files_sent_with_their_sizes_but_not_the_files(client, manager, frozen_now):
    from django.core.files.base import ContentFile

    from chat.models import Attachment
    from tests.factories import MessageFactory

    conversation = ConversationFactory(requested_at=at(3, 10))
    message = MessageFactory(conversation=conversation, has_attachments=True)
    for name, size in (("photo.jpg", 48213), ("=order.pdf", 18230)):
        attachment = Attachment(
            inbox=conversation.inbox,
            conversation=conversation,
            message=message,
            name=name,
            content_type="application/pdf",
            size=size,
            sha256="0" * 64,
        )
        attachment.file.save(f"{size}.bin", ContentFile(b"x"), save=False)
        attachment.save()
    Attachment.objects.create(  # an upload never sent is not part of the conversation
        inbox=conversation.inbox, name="unsent.txt", content_type="text/plain", size=3, sha256="0" * 64, file="x"
    )
    client.force_login(manager)

    (row,) = _rows(client, "/admin/reports/export/conversations.csv")
    assert row["attachments_not_included"] == "photo.jpg (48213 bytes); =order.pdf (18230 bytes)"
