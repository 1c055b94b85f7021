"""Tools read the reports API with a personal token (Authorization: Bearer …), made and revoked in the admin."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from supportdesk.models import ApiToken
from tests.factories import UserFactory
from tests.reports.conftest import PERIOD

SUMMARY = "/api/v1/reports/summary"


def _make_token_in_admin(client, user, name="BI dashboard") -> str:
    response = client.post("/admin/supportdesk/apitoken/add/", {"user": user.pk, "name": name})
    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    assert "it is not shown again" in page
    return re.search(r'value="(sd_[^"]+)"', page).group(1)


def _tool(token: str | None = None) -> Client:
    """A client without a session, as curl is."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}") if token else Client()


@pytest.mark.django_db
def test_a_manager_makes_a_token_and_a_tool_reads_the_reports_with_it(admin_client, manager):
    raw = _make_token_in_admin(admin_client, manager)
    token = ApiToken.objects.get()
    # Stored hashed: the token itself is nowhere in the database or on the admin's pages.
    assert raw not in {token.key_hash, token.prefix} and raw.startswith(token.prefix)
    assert raw not in admin_client.get("/admin/supportdesk/apitoken/").content.decode()
    assert raw not in admin_client.get(f"/admin/supportdesk/apitoken/{token.pk}/change/").content.decode()
    assert token.last_used_at is None

    response = _tool(raw).get(SUMMARY, PERIOD)
    assert response.status_code == 200
    assert "figures" in response.json()
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_a_wrong_or_missing_token_is_401_naming_the_scheme(manager):
    for client in (_tool("sd_not-a-token"), _tool()):
        response = client.get(SUMMARY, PERIOD)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
    assert Client(HTTP_AUTHORIZATION="Bearer two words").get(SUMMARY, PERIOD).status_code == 401


@pytest.mark.django_db
def test_a_revoked_token_or_a_deactivated_user_is_refused(admin_client, manager):
    raw = _make_token_in_admin(admin_client, manager)
    assert _tool(raw).get(SUMMARY, PERIOD).status_code == 200
    manager.is_active = False
    manager.save()
    assert _tool(raw).get(SUMMARY, PERIOD).status_code == 401
    manager.is_active = True
    manager.save()
    token = ApiToken.objects.get()
    response = admin_client.post(
        "/admin/supportdesk/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    assert "Revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _tool(raw).get(SUMMARY, PERIOD).status_code == 401


@pytest.mark.django_db
def test_a_token_can_do_no_more_than_its_user(admin_client, manager):
    raw = _make_token_in_admin(admin_client, manager)
    manager.user_permissions.clear()
    assert _tool(raw).get(SUMMARY, PERIOD).status_code == 403


@pytest.mark.django_db
def test_a_manager_who_is_not_a_superuser_makes_and_sees_only_her_own_tokens(client, manager):
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken", "change_apitoken"])
    )
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    ApiToken.objects.create(user=superuser, name="root's", prefix="sd_root", key_hash="0" * 64)
    client.force_login(manager)
    # Naming someone else is refused beside the field; her own is made.
    refused = client.post("/admin/supportdesk/apitoken/add/", {"user": superuser.pk, "name": "escalate"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert not ApiToken.objects.filter(name="escalate").exists()
    raw = _make_token_in_admin(client, manager, name="mine")
    assert ApiToken.objects.get(name="mine").user == manager
    listing = client.get("/admin/supportdesk/apitoken/").content.decode()
    assert "mine" in listing and "root&#x27;s" not in listing and "root's" not in listing
    assert _tool(raw).get(SUMMARY, PERIOD).status_code == 200
