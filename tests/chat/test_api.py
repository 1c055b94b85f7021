"""The widget's HTTP API: sessions bound to the site, offline messages, CORS per inbox."""

import datetime as dt
import json
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
import time_machine
from django.test import AsyncClient, Client

from chat.models import Contact, Conversation
from chat.services.visitors import visitor_token_make, visitor_token_read
from tests.chat.conftest import an_address
from tests.factories import BusinessHoursIntervalFactory, ContactFactory, InboxFactory, OperatorFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = "http://site.test"


def post(path, data, origin=ORIGIN):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return Client().post(path, data, content_type="application/json", **headers)


def test_a_new_visitor_gets_a_token_and_the_widget_config_but_no_contact_yet(inbox):
    OperatorFactory(inboxes=[inbox])
    response = post("/api/widget/v1/session", {"site_key": inbox.site_key})
    assert response.status_code == 200
    body = response.json()
    assert body["visitor_token"] and body["contact"] == {"id": None, "name": "", "email": ""}
    assert not Contact.objects.exists()
    config = body["config"]
    assert config["online"] is True and config["next_opening"] is None
    assert config["greeting"] == inbox.greeting and config["direction"] == "ltr"
    assert config["prechat"] == {"name": "optional", "email": "optional"}
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_the_token_resumes_the_same_visitor_and_a_forged_one_never_someone_else(inbox):
    first = post("/api/widget/v1/session", {"site_key": inbox.site_key, "name": "Ann"}).json()
    again = post("/api/widget/v1/session", {"site_key": inbox.site_key, "visitor_token": first["visitor_token"]}).json()
    assert again["contact"] == first["contact"] and again["contact"]["name"] == "Ann"
    other_site = InboxFactory()
    foreign = visitor_token_make(contact=ContactFactory(inbox=other_site))
    for token in (first["visitor_token"] + "x", foreign, "garbage"):
        body = post("/api/widget/v1/session", {"site_key": inbox.site_key, "visitor_token": token}).json()
        assert body["contact"]["id"] != first["contact"]["id"]
    # The first visitor's token does not work on another site either.
    body = post("/api/widget/v1/session", {"site_key": other_site.site_key, "visitor_token": first["visitor_token"]})
    assert body.json()["contact"]["id"] != first["contact"]["id"]


def test_offline_when_nobody_is_online(inbox):
    body = post("/api/widget/v1/session", {"site_key": inbox.site_key}).json()
    assert body["config"]["online"] is False


def test_other_origins_and_unknown_sites_are_refused(inbox):
    response = post("/api/widget/v1/session", {"site_key": inbox.site_key}, origin="https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert post("/api/widget/v1/session", {"site_key": "nope"}).status_code == 404
    preflight = Client().options(
        "/api/widget/v1/session", HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    preflight = Client().options(
        "/api/widget/v1/session", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in preflight


async def test_the_widget_api_answers_under_the_async_handler_daphne_runs(inbox):
    """daphne serves Django's async handler, whose middleware runs on the event loop: the CORS check and the
    views must not query there (they answered 500, SynchronousOnlyOperation, to every call with an Origin)."""
    client = AsyncClient()

    async def post_json(path, data, origin=ORIGIN):
        return await client.post(path, data, content_type="application/json", headers={"Origin": origin})

    preflight = await client.options(
        "/api/widget/v1/session", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 200 and preflight["Access-Control-Allow-Origin"] == ORIGIN
    response = await post_json("/api/widget/v1/session", {"site_key": inbox.site_key})
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == ORIGIN
    offline = await post_json(
        "/api/widget/v1/offline-messages",
        {
            "site_key": inbox.site_key,
            "visitor_token": response.json()["visitor_token"],
            "email": "ann@example.com",
            "body": "Hello?",
        },
    )
    assert offline.status_code == 201 and offline["Access-Control-Allow-Origin"] == ORIGIN
    refused = await post_json("/api/widget/v1/session", {"site_key": inbox.site_key}, origin="https://evil.example")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused


@pytest.mark.slow
def test_the_real_server_answers_the_widget_from_its_site_and_refuses_other_origins(inbox, asgi_server):
    def call(method, origin, data=None):
        request = Request(
            f"{asgi_server.url}/api/widget/v1/session",
            data=json.dumps(data).encode() if data is not None else None,
            headers={"Content-Type": "application/json", "Origin": origin, "Access-Control-Request-Method": "POST"},
            method=method,
        )
        try:
            with urlopen(request, timeout=10) as response:  # noqa: S310 — the test server
                return response.status, response.headers
        except HTTPError as error:
            return error.code, error.headers

    status, headers = call("OPTIONS", ORIGIN)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in headers["Access-Control-Allow-Methods"]
    status, headers = call("POST", ORIGIN, {"site_key": inbox.site_key})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ORIGIN
    status, headers = call("OPTIONS", "https://evil.example")
    assert "Access-Control-Allow-Origin" not in headers
    status, headers = call("POST", "https://evil.example", {"site_key": inbox.site_key})
    assert status == 403 and "Access-Control-Allow-Origin" not in headers


def test_bad_input_is_a_clear_400(inbox):
    client = Client()
    response = client.post("/api/widget/v1/session", "{oops", content_type="application/json", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 400
    assert post("/api/widget/v1/session", {}).status_code == 400
    response = post("/api/widget/v1/offline-messages", {"site_key": inbox.site_key, "email": "nope", "body": ""})
    assert response.status_code == 400 and set(response.json()) == {"email", "body"}


def test_an_offline_message_creates_a_ticket_on_the_offline_channel(inbox):
    session = post("/api/widget/v1/session", {"site_key": inbox.site_key}).json()
    response = post(
        "/api/widget/v1/offline-messages",
        {
            "site_key": inbox.site_key,
            "visitor_token": session["visitor_token"],
            "name": "Bo",
            "email": "bo@example.org",
            "body": "Please call me back",
        },
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["ticket_id"])
    assert ticket.channel_kind == "offline_form" and ticket.subject == "Please call me back"
    # The form made the contact of the visitor the session named, who keeps their token.
    contact = Contact.objects.get(pk=ticket.contact_id)
    assert response.json()["contact"]["id"] == contact.pk
    assert visitor_token_read(inbox=inbox, token=session["visitor_token"]).visitor_id == contact.visitor_id
    assert visitor_token_read(inbox=inbox, token=response.json()["visitor_token"]).contact == contact
    assert (contact.name, contact.email) == ("Bo", "bo@example.org")
    conversation = Conversation.objects.get(ticket=ticket)
    assert conversation.messages.get().body == "Please call me back"
    # The visitor can still start a live chat later: the offline message is not an open conversation.
    assert conversation.status == "ended"


def test_next_opening_is_given_only_outside_business_hours(inbox):
    """Inside business hours with nobody online the widget is offline but not "opening later"."""
    monday = dt.date(2026, 3, 9)
    BusinessHoursIntervalFactory(inbox=inbox, weekday=monday.weekday(), opens_at=dt.time(9), closes_at=dt.time(17))
    with time_machine.travel(dt.datetime(2026, 3, 9, 10, tzinfo=dt.UTC), tick=False):
        config = post("/api/widget/v1/session", {"site_key": inbox.site_key}).json()["config"]
    assert (config["online"], config["next_opening"]) == (False, None)
    with time_machine.travel(dt.datetime(2026, 3, 9, 18, tzinfo=dt.UTC), tick=False):
        config = post("/api/widget/v1/session", {"site_key": inbox.site_key}).json()["config"]
    assert config["online"] is False
    assert dt.datetime.fromisoformat(config["next_opening"]) == dt.datetime(2026, 3, 16, 9, tzinfo=dt.UTC)


def test_a_page_url_django_refuses_is_dropped_and_the_session_still_starts(inbox):
    response = post(
        "/api/widget/v1/session", {"site_key": inbox.site_key, "name": "Ann", "page_url": "https://my_shop.test/cart"}
    )
    assert response.status_code == 200
    assert response.json()["visitor_token"]
    assert Contact.objects.get(pk=response.json()["contact"]["id"]).last_page_url == ""
    body = post(
        "/api/widget/v1/session", {"site_key": inbox.site_key, "name": "Ann", "page_url": "https://shop.test/cart"}
    ).json()
    assert Contact.objects.get(pk=body["contact"]["id"]).last_page_url == "https://shop.test/cart"


# --- Anonymous floods: limits per client address and per site key -----------------------------------------------


def post_from(address, path, data, **extra):
    return Client().post(path, data, content_type="application/json", HTTP_ORIGIN=ORIGIN, REMOTE_ADDR=address, **extra)


@time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 5, tzinfo=dt.UTC), tick=False)
def test_too_many_sessions_from_one_address_get_a_429_with_retry_after(inbox, settings):
    settings.WIDGET_SESSIONS_PER_ADDRESS_PER_MINUTE = 3
    flooder = an_address()
    for _ in range(3):
        assert post_from(flooder, "/api/widget/v1/session", {"site_key": inbox.site_key}).status_code == 200
    refused = post_from(flooder, "/api/widget/v1/session", {"site_key": inbox.site_key})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "55"
    assert refused.json() == {"detail": "Too many requests; please try again in 55 seconds."}
    # Another visitor is not held back, and the flooder may come back in the next minute.
    assert post_from(an_address(), "/api/widget/v1/session", {"site_key": inbox.site_key}).status_code == 200
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 1, 0, tzinfo=dt.UTC), tick=False):
        assert post_from(flooder, "/api/widget/v1/session", {"site_key": inbox.site_key}).status_code == 200


@time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 5, tzinfo=dt.UTC), tick=False)
def test_the_refusal_is_in_the_visitors_language(inbox, settings):
    settings.WIDGET_SESSIONS_PER_ADDRESS_PER_MINUTE = 1
    flooder = an_address()
    post_from(flooder, "/api/widget/v1/session", {"site_key": inbox.site_key})
    refused = post_from(flooder, "/api/widget/v1/session", {"site_key": inbox.site_key}, HTTP_ACCEPT_LANGUAGE="fa")
    assert refused.status_code == 429
    assert refused.json()["detail"] == "درخواست‌ها بیش از حد است؛ لطفاً 55 ثانیه دیگر دوباره تلاش کنید."


def test_too_many_offline_messages_from_one_address_are_refused_before_any_ticket(inbox, settings):
    settings.OFFLINE_MESSAGES_PER_ADDRESS_PER_HOUR = 2
    flooder = an_address()
    message = {"site_key": inbox.site_key, "email": "bo@example.org", "body": "Call me"}
    for _ in range(2):
        assert post_from(flooder, "/api/widget/v1/offline-messages", message).status_code == 201
    refused = post_from(flooder, "/api/widget/v1/offline-messages", message)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert Ticket.objects.filter(inbox=inbox).count() == 2


def test_a_flood_from_many_addresses_is_bounded_per_site_key(inbox, settings):
    settings.WIDGET_SESSIONS_PER_SITE_PER_MINUTE = 3
    statuses = [
        post_from(an_address(), "/api/widget/v1/session", {"site_key": inbox.site_key}).status_code for _ in range(5)
    ]
    assert statuses.count(200) == 3 and statuses.count(429) == 2
    # Another site is counted on its own.
    assert post_from(an_address(), "/api/widget/v1/session", {"site_key": InboxFactory().site_key}).status_code == 200


def test_x_forwarded_for_is_believed_only_from_the_trusted_proxies(inbox, settings):
    settings.WIDGET_SESSIONS_PER_ADDRESS_PER_MINUTE = 1
    proxy, client = an_address(), an_address()

    def session(forwarded_for):
        return post_from(
            proxy, "/api/widget/v1/session", {"site_key": inbox.site_key}, HTTP_X_FORWARDED_FOR=forwarded_for
        ).status_code

    # Without a trusted proxy the header is anyone's to write: a new spoofed address each time does not help.
    assert [session(an_address()), session(an_address())] == [200, 429]
    settings.TRUSTED_PROXY_COUNT = 1
    # Behind one proxy the client is the entry that proxy appended, whatever the client wrote before it.
    assert [session(f"{an_address()}, {client}"), session(f"{an_address()}, {client}")] == [200, 429]
    assert session(an_address()) == 200


# --- A contact only when the visitor needs one --------------------------------------------------------------------


def test_a_hundred_widget_loads_make_no_contact_until_the_visitor_fills_in_a_form(inbox):
    address = an_address()
    tokens = [
        post_from(address, "/api/widget/v1/session", {"site_key": inbox.site_key}).json()["visitor_token"]
        for _ in range(100)
    ]
    assert len(set(tokens)) == 100
    assert not Contact.objects.exists()
    # The same visitor comes back with their token (in another language), then fills in the pre-chat form.
    again = post_from(address, "/api/widget/v1/session", {"site_key": inbox.site_key, "visitor_token": tokens[0]})
    assert again.json()["contact"]["id"] is None and not Contact.objects.exists()
    localised = post_from(
        address, "/api/widget/v1/session", {"site_key": inbox.site_key, "visitor_token": tokens[0], "locale": "fa"}
    ).json()
    named = post_from(
        address,
        "/api/widget/v1/session",
        {"site_key": inbox.site_key, "visitor_token": localised["visitor_token"], "name": "Ann"},
    ).json()
    contact = Contact.objects.get()
    assert named["contact"] == {"id": contact.pk, "name": "Ann", "email": ""}
    assert contact.visitor_id == visitor_token_read(inbox=inbox, token=tokens[0]).visitor_id
    assert contact.locale == "fa"
    # Their token now resumes that contact.
    resumed = post_from(address, "/api/widget/v1/session", {"site_key": inbox.site_key, "visitor_token": tokens[0]})
    assert resumed.json()["contact"]["id"] == contact.pk


def test_one_address_makes_only_so_many_new_contacts_whatever_the_form(inbox, settings):
    settings.NEW_CONTACTS_PER_ADDRESS_PER_HOUR = 2
    flooder = an_address()
    prechat = {"site_key": inbox.site_key, "name": "Spam", "email": "spam@example.org"}
    ann = post_from(flooder, "/api/widget/v1/session", prechat).json()
    assert post_from(flooder, "/api/widget/v1/session", prechat).status_code == 200
    refused = post_from(flooder, "/api/widget/v1/session", prechat)
    assert refused.status_code == 429 and int(refused["Retry-After"]) <= 3600
    offline = {"site_key": inbox.site_key, "email": "spam@example.org", "body": "Buy now"}
    assert post_from(flooder, "/api/widget/v1/offline-messages", offline).status_code == 429
    assert Contact.objects.count() == 2 and not Ticket.objects.exists()
    # A visitor who already has a contact is not new: their offline message goes through.
    again = post_from(flooder, "/api/widget/v1/offline-messages", {**offline, "visitor_token": ann["visitor_token"]})
    assert again.status_code == 201 and again.json()["contact"]["id"] == ann["contact"]["id"]
