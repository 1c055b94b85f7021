"""Reports are for staff with the reports permission: everyone else gets nothing."""

import pytest

from tests.factories import UserFactory
from tests.reports.conftest import PERIOD

PAGES = ["/admin/reports/", "/admin/reports/export/operator.csv", "/admin/reports/export/conversations.csv"]
API = [
    "/api/v1/reports/summary",
    "/api/v1/reports/by-channel",
    "/api/v1/reports/by-operator",
    "/api/v1/reports/timeseries",
]


@pytest.mark.django_db
def test_anonymous_and_non_staff_are_sent_to_the_login(client):
    for user in (None, UserFactory(username="visitor", is_staff=False)):
        if user is not None:
            client.force_login(user)
        for url in PAGES:
            response = client.get(url, PERIOD)
            assert response.status_code == 302 and "/admin/login/" in response["Location"], url
        for url in API:
            # Anonymous: 401 naming the scheme a tool should use (Bearer); signed in without the right: 403.
            assert client.get(url, PERIOD).status_code == (401 if user is None else 403), url


@pytest.mark.django_db
def test_staff_without_the_permission_get_403_and_no_menu_entry(client):
    client.force_login(UserFactory(username="clerk", is_staff=True))
    for url in PAGES:
        assert client.get(url, PERIOD).status_code == 403, url
    for url in API:
        assert client.get(url, PERIOD).status_code == 403, url
    assert "/admin/reports/" not in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_managers_and_superusers_see_the_reports(client, admin_client, manager):
    client.force_login(manager)
    for c in (client, admin_client):
        index = c.get("/admin/").content.decode()
        assert 'href="/admin/reports/"' in index
        assert c.get("/admin/reports/", PERIOD).status_code == 200
        for url in API:
            assert c.get(url, PERIOD).status_code == 200, url


@pytest.mark.django_db
def test_bad_period_shows_the_reason_beside_the_field(admin_client):
    response = admin_client.get("/admin/reports/", {"period": "custom", "start": "2026-03-08", "end": "2026-03-01"})
    assert response.status_code == 200
    assert "The last day cannot be before the first day." in response.content.decode()


@pytest.mark.django_db
def test_api_docs_are_served_without_any_cdn(admin_client, client):
    schema = admin_client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/reports/summary" in schema.content
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = admin_client.get(url).content.decode()
        assert "https://" not in html and "http://" not in html.replace("http://testserver", ""), url
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in admin_client.get("/api/v1/docs/").content.decode()
    assert '<script src="/api/v1/redoc/redoc.standalone.js">' in admin_client.get("/api/v1/redoc/").content.decode()
    bundle = client.get("/api/v1/redoc/redoc.standalone.js")
    assert bundle["Content-Type"].startswith("text/javascript") and b"Redoc" in bundle.content
    assert b"cdn.redoc.ly" not in bundle.content
    assert client.get("/api/v1/schema/").status_code == 401
