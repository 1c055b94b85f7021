"""`manage.py seed_demo` creates the demo logins and inboxes, and running it twice changes nothing."""

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core import serializers
from django.core.management import call_command

from chat.models import Inbox, Label, OperatorProfile


def _snapshot() -> str:
    models = [m for m in apps.get_models() if m._meta.app_label in {"auth", "chat", "tickets", "surveys"}]
    rows = []
    for model in models:
        rows.append(serializers.serialize("json", model.objects.order_by("pk")))
    return "\n".join(rows)


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_gives_working_logins():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = _snapshot()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert _snapshot() == first

    assert authenticate(username="admin", password="admin-demo").is_superuser
    operators = OperatorProfile.objects.select_related("user")
    assert sorted(op.user.username for op in operators) == ["ali", "sara"]
    for op in operators:
        assert authenticate(username=op.user.username, password=f"{op.user.username}-demo") == op.user
    # Two operators in one team, on the demo inbox that the demo website embeds.
    assert len({tuple(op.teams.values_list("pk", flat=True)) for op in operators}) == 1
    website = Inbox.objects.get(site_key="demo-site-key")
    assert set(website.operators.all()) == set(operators)
    assert "http://localhost:8001" in website.allowed_origins
    # Global labels to tag conversations with, in every demo inbox.
    assert set(Label.objects.filter(inbox=None).values_list("name", flat=True)) == {
        "Billing",
        "Shipping",
        "Returns",
        "Bug",
    }
