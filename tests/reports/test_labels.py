"""The per-label breakdown equals the values worked out by hand, on the history of conftest.py with labels.

Labels: Billing (global) and Bug (Website's).

  c1 Billing       t1 FRT 30 s        CSAT 5
  c2 Billing, Bug  t2 FRT 90 s        CSAT 3
  c3 —             t3 (abandoned, no reply)
  c4 Bug           t4 FRT 150 s       survey not answered
  c5 Billing       (t4 again: t4 carries Billing and Bug, the labels of both its conversations)
  c6 —             t6 (missed)
  c7 —             t7 FRT 60 s        CSAT 4
  c8 Billing       t8 FRT 14 400 s    CSAT 2   (e-mail: a ticket and a survey answer, not a live chat request)

Billing:  requested c1 c2 c5 = 3; tickets t1 t2 t4 t8 = 4; FRT 30 90 150 14 400 → median (90 + 150) / 2 = 120 s,
          p90 = 150 + 0.7 × (14 400 − 150) = 10 125 s; CSAT 5 3 2 → 1 satisfied of 3 = 33.33 %, mean 3.33.
Bug:      requested c2 c4 = 2; tickets t2 t4 = 2; FRT 90 150 → median 120 s, p90 90 + 0.9 × 60 = 144 s;
          CSAT 3 → 0 of 1 = 0 %, mean 3.
no label: requested c3 c6 c7 = 3; tickets t3 t6 t7 = 3 (t4 has labelled conversations); FRT 60 → 60 s;
          CSAT 4 → 1 of 1 = 100 %.
The rows add up to more than the total (7 requested, 7 tickets): c2 and t2, t4 count twice.
"""

from __future__ import annotations

import csv
import io

import pytest

from chat.models import Conversation, ConversationLabel
from rollups import histograms
from rollups.models import RollupMark
from rollups.services import rebuild, refresh
from tests.factories import LabelFactory
from tests.reports.conftest import PERIOD

EXPECTED = {
    "Billing": {"requested": 3, "tickets_created": 4, "frt_median": 120.0, "frt_p90": 10125.0, "csat": 33.33,
                "csat_responses": 3, "csat_mean": 3.33},
    "Bug (Website)": {"requested": 2, "tickets_created": 2, "frt_median": 120.0, "frt_p90": 144.0, "csat": 0.0,
                      "csat_responses": 1, "csat_mean": 3.0},
    "(no label)": {"requested": 3, "tickets_created": 3, "frt_median": 60.0, "frt_p90": 60.0, "csat": 100.0,
                   "csat_responses": 1, "csat_mean": 4.0},
}  # fmt: skip


def _close(actual, expected, key: str) -> bool:
    if expected is None or actual is None:
        return actual is expected
    if key.endswith(("_median", "_p90")):
        return abs(actual - expected) <= histograms.RELATIVE_ERROR * abs(expected) + 1e-9
    return abs(actual - expected) < 0.01


def _label(history):
    billing = LabelFactory(name="Billing")
    bug = LabelFactory(name="Bug", inbox=history.web)
    c = history.conversations
    for conversation, labels in ((1, [billing]), (2, [billing, bug]), (4, [bug]), (5, [billing]), (8, [billing])):
        for label in labels:
            ConversationLabel.objects.create(conversation=c[conversation], label=label)
    return billing, bug


def _table(client, **extra) -> dict:
    response = client.get("/admin/reports/table/label/", {**PERIOD, **extra})
    assert response.status_code == 200
    return {
        row["label"]: {cell["figure"].key: cell["value"] for cell in row["cells"]} for row in response.context["rows"]
    }


def _wrong(table: dict, expected: dict) -> dict:
    return {
        (label, key): (table.get(label, {}).get(key), value)
        for label, figures in expected.items()
        for key, value in figures.items()
        if not _close(table.get(label, {}).get(key), value, key)
    }


@pytest.mark.django_db
def test_per_label_figures_equal_the_hand_computed_values(client, history, manager, frozen_now):
    _label(history)
    client.force_login(manager)
    table = _table(client)
    assert list(table) == ["Billing", "Bug (Website)", "(no label)"]
    assert _wrong(table, EXPECTED) == {}

    # The page says the rows do not add up, and every number opens the list behind it.
    response = client.get("/admin/reports/table/label/", PERIOD)
    html = response.content.decode()
    assert "counts in both rows" in html
    assert "labels__id__exact=" in html and "labels__isnull=True" in html and "label=none" in html

    # The API and the CSV give the same rows.
    api = client.get("/api/v1/reports/by-label", PERIOD).json()
    rows = {row["label"]: row for row in api["labels"]}
    assert _wrong(rows, EXPECTED) == {}
    assert rows["Billing"]["rates"]["csat"] == {"numerator": 1, "denominator": 3}
    assert rows["(no label)"]["key"] is None
    export = client.get("/admin/reports/export/label.csv", PERIOD)
    assert export.status_code == 200
    lines = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [line["label"] for line in lines] == ["Billing", "Bug (Website)", "(no label)"]
    assert lines[0]["requested"] == "3" and lines[0]["csat_pct"] == "33.33" and lines[2]["label_id"] == ""


@pytest.mark.django_db
def test_per_label_figures_follow_the_filters(client, history, manager, frozen_now):
    _label(history)
    client.force_login(manager)
    # Olga's: the tickets she first answered (t1, t2, t4), the chats she held at their end (c1, c4, c5), the
    # answers recorded for her (c1's 5).
    table = _table(client, operator=[history.olga.pk])
    assert (
        _wrong(
            table,
            {
                "Billing": {"requested": 2, "tickets_created": 3, "frt_median": 90.0, "csat": 100.0},
                "Bug (Website)": {"requested": 1, "tickets_created": 2, "frt_median": 120.0, "csat": None},
            },
        )
        == {}
    )
    # The e-mail inbox: only c8, Billing.
    mail = _table(client, inbox=[history.mail.pk])
    assert list(mail) == ["Billing"]
    assert _wrong(mail, {"Billing": {"requested": 0, "tickets_created": 1, "frt_median": 14400.0, "csat": 0.0}}) == {}


@pytest.mark.django_db
def test_a_label_put_on_or_taken_off_later_changes_the_breakdown_after_a_refresh(client, history, manager, frozen_now):
    billing, bug = _label(history)
    client.force_login(manager)
    assert _wrong(_table(client), EXPECTED) == {}  # rolled up, labels and all
    c = history.conversations
    # Whatever writes it (here a plain delete and create), the change marks the days it touches.
    ConversationLabel.objects.filter(conversation=c[2], label=bug).delete()
    ConversationLabel.objects.create(conversation=c[7], label=bug)
    assert RollupMark.objects.exists()
    refresh()
    after = {
        # c2 and t2 left Bug; c7, t7 and its CSAT 4 joined it and left "no label".
        "Bug (Website)": {"requested": 2, "tickets_created": 2, "frt_median": 105.0, "csat": 100.0,
                          "csat_responses": 1},
        "(no label)": {"requested": 2, "tickets_created": 2, "frt_median": None, "csat": None, "csat_responses": 0},
        "Billing": EXPECTED["Billing"],
    }  # fmt: skip
    assert _wrong(_table(client), after) == {}
    # Deleting a label takes its links, and its row, with it: c1 c2 c5 and t1 t2 t8 (FRT 30 90 14 400 s) join
    # "no label" (t4 keeps Bug through c4).
    billing.delete()
    refresh()
    table = _table(client)
    assert "Billing" not in table
    assert _wrong(table, {"(no label)": {"requested": 5, "tickets_created": 5, "frt_median": 90.0}}) == {}
    # What the refreshes kept up to date equals a rebuild from scratch.
    before = table
    rebuild()
    assert _table(client) == before


@pytest.mark.django_db
def test_a_labelled_conversation_moved_to_another_ticket_takes_its_labels_along(client, history, manager, frozen_now):
    _label(history)
    client.force_login(manager)
    assert _wrong(_table(client), EXPECTED) == {}
    # c5 (Billing) moves from t4 to t7, by a bare update: t7 now carries Billing, t4 keeps Bug through c4.
    Conversation.objects.filter(pk=history.conversations[5].pk).update(ticket=history.tickets[7])
    refresh()
    after = {
        # Billing: t1 t2 t8 t7, FRT 30 60 90 14 400 → median 75 s. No label: t3 t6, nothing answered.
        "Billing": {"requested": 3, "tickets_created": 4, "frt_median": 75.0},
        "Bug (Website)": EXPECTED["Bug (Website)"],
        "(no label)": {"requested": 3, "tickets_created": 2, "frt_median": None},
    }
    assert _wrong(_table(client), after) == {}


@pytest.mark.django_db
def test_the_numbers_of_a_label_open_the_lists_behind_them(admin_client, history, frozen_now):
    _label(history)
    response = admin_client.get("/admin/reports/table/label/", PERIOD)
    rows = {row["label"]: {cell["figure"].key: cell for cell in row["cells"]} for row in response.context["rows"]}
    t, c = history.tickets, history.conversations

    def listed(url) -> set:
        page = admin_client.get(url)
        assert page.status_code == 200, url
        return {obj.pk for obj in page.context["cl"].queryset}

    assert listed(rows["Billing"]["requested"]["url"]) == {c[1].pk, c[2].pk, c[5].pk}
    assert listed(rows["Billing"]["tickets_created"]["url"]) == {t[1].pk, t[2].pk, t[4].pk, t[8].pk}
    assert listed(rows["(no label)"]["requested"]["url"]) == {c[3].pk, c[6].pk, c[7].pk}
    # A ticket is "no label" only when none of its conversations carries one: not t4 (c4 Bug, c5 Billing).
    assert listed(rows["(no label)"]["tickets_created"]["url"]) == {t[3].pk, t[6].pk, t[7].pk}
    assert listed(rows["(no label)"]["frt_median"]["url"]) == {t[7].pk}
    answers = {i.conversation_id for i in admin_client.get(rows["Billing"]["csat"]["url"]).context["cl"].queryset}
    assert answers == {c[1].pk, c[2].pk, c[8].pk}
    for cells in rows.values():
        for cell in cells.values():
            assert admin_client.get(cell["url"]).status_code == 200, cell["figure"].key
