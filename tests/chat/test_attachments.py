"""Attachments: uploads checked by content and limits, sent by id in message.send, served only at signed,
expiring addresses to the conversation's visitor and its inbox's operators (protocol.md, security.md)."""

import datetime as dt
from io import BytesIO
from urllib.parse import urlsplit

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from chat import attachment_links
from chat.models import Attachment, Message
from chat.services.visitors import visitor_session_start
from tests.chat.conftest import operator_socket, say, visitor
from tests.factories import InboxFactory, OperatorFactory

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = "http://site.test"
db = database_sync_to_async


def a_photo(size=(640, 480), *, fmt="JPEG") -> bytes:
    """A photo as a phone makes it: with the camera's make and the place in its EXIF, turned by its orientation."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: turned 90° clockwise
    out = BytesIO()
    image.save(out, format=fmt, exif=exif)
    return out.getvalue()


def upload(inbox, token, content: bytes, name: str, origin=ORIGIN):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return Client().post(
        "/api/widget/v1/uploads", {"site_key": inbox.site_key, "visitor_token": token, "file": file}, **headers
    )


def a_token(inbox) -> str:
    return visitor_session_start(inbox=inbox)[1]


def fetch(url: str, client: Client | None = None):
    return (client or Client()).get(urlsplit(url).path)


@pytest.fixture
def inbox():
    return InboxFactory(allowed_origins=[ORIGIN])


def test_a_visitor_uploads_a_photo_kept_upright_without_its_exif_and_with_a_thumbnail(inbox):
    response = upload(inbox, a_token(inbox), a_photo(), "holiday.JPG")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "holiday.JPG" and body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (480, 640)  # turned as the camera meant
    stored = Attachment.objects.get(pk=body["id"])
    assert stored.message_id is None and stored.visitor_id is not None
    with stored.file.open("rb") as file, Image.open(file) as image:
        assert not image.getexif()  # no camera, no place
    assert stored.thumbnail  # the task ran on commit (eager in this process)
    with stored.thumbnail.open("rb") as file, Image.open(file) as thumb:
        assert max(thumb.size) == 320
    served = fetch(body["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert fetch(body["thumbnail_url"]).status_code == 200


def test_a_file_larger_than_the_inbox_allows_is_refused_and_nothing_is_stored(inbox):
    inbox.attachment_max_bytes = 1000
    inbox.save()
    response = upload(inbox, a_token(inbox), b"x" * 1001, "notes.txt")
    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert "larger than" in response.json()["file"][0]
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100, "photo.png"),  # a Windows program
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100, "invoice.pdf"),
        (b"<html><script>alert(1)</script></html>", "invoice.pdf"),  # text that says it is a PDF
        (b"%PDF-1.7 a real PDF", "photo.png"),  # a PDF that says it is an image
    ],
)
def test_a_file_whose_content_is_not_what_its_name_says_is_refused(inbox, content, name):
    response = upload(inbox, a_token(inbox), content, name)
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_type"
    assert not Attachment.objects.exists()


def test_a_type_the_inbox_does_not_take_is_refused_by_its_content(inbox):
    inbox.attachment_types = ["image/png"]
    inbox.save()
    response = upload(inbox, a_token(inbox), b"%PDF-1.7 a real PDF", "invoice.pdf")
    assert response.status_code == 400 and response.json()["code"] == "unsupported_type"


def test_one_unsent_upload_too_many_is_refused(inbox, settings):
    settings.ATTACHMENTS_PENDING_MAX = 2
    token = a_token(inbox)
    assert upload(inbox, token, b"one", "1.txt").status_code == 201
    assert upload(inbox, token, b"two", "2.txt").status_code == 201
    response = upload(inbox, token, b"three", "3.txt")
    assert response.status_code == 400 and response.json()["code"] == "too_many"
    assert Attachment.objects.count() == 2
    # Another visitor has places of their own.
    assert upload(inbox, a_token(inbox), b"mine", "m.txt").status_code == 201


def test_an_upload_needs_a_valid_token_and_an_allowed_origin(inbox):
    assert upload(inbox, "forged.token", b"text", "a.txt").status_code == 403
    assert upload(inbox, a_token(inbox), b"text", "a.txt", origin="http://evil.test").status_code == 403
    assert not Attachment.objects.exists()


async def test_a_visitor_sends_files_without_text_and_the_operator_sees_them(inbox):
    operator = await db(OperatorFactory)(inboxes=[inbox], status="online")
    agent, _ = await operator_socket(operator)
    _contact, token = await db(visitor_session_start)(inbox=inbox)
    photo = (await db(upload)(inbox, token, a_photo(), "photo.jpg")).json()
    pdf = (await db(upload)(inbox, token, b"%PDF-1.7 the order", "order.pdf")).json()
    widget, _ = await visitor(inbox, token=token)
    ack = await say(widget, "", attachments=[photo["id"], pdf["id"]])
    sent = ack["message"]["attachments"]
    assert [(a["name"], a["content_type"], a["size"]) for a in sent] == [
        ("photo.jpg", "image/jpeg", photo["size"]),
        ("order.pdf", "application/pdf", 18),
    ]
    assert sent[1]["thumbnail_url"] is None and sent[0]["thumbnail_url"]
    assert ack["message"]["body"] == ""
    new = await agent.expect("message.new")
    assert [a["id"] for a in new["message"]["attachments"]] == [photo["id"], pdf["id"]]
    # The visitor's address works for anyone holding it; the operators' copy only with an operator's session.
    assert (await db(fetch)(sent[1]["url"])).status_code == 200
    assert (await db(fetch)(sent[1]["url"]))["Content-Disposition"].startswith('attachment; filename="order.pdf"')
    operator_url = new["message"]["attachments"][1]["url"]
    assert (await db(fetch)(operator_url)).status_code == 404
    client = Client()
    await db(client.force_login)(operator.user)
    assert (await db(fetch)(operator_url, client)).status_code == 200
    outsider = await db(OperatorFactory)(inboxes=[await db(InboxFactory)()])
    other = Client()
    await db(other.force_login)(outsider.user)
    assert (await db(fetch)(operator_url, other)).status_code == 404
    # The welcome after a reload carries the files, with fresh addresses.
    again, welcome = await visitor(inbox, token=token)
    assert [a["name"] for a in welcome["messages"][0]["attachments"]] == ["photo.jpg", "order.pdf"]
    await again.close()
    await widget.close()
    await agent.close()


async def test_another_visitors_upload_is_refused_and_nothing_is_stored(inbox):
    _c, theirs = await db(visitor_session_start)(inbox=inbox)
    their_file = (await db(upload)(inbox, theirs, b"private", "secret.txt")).json()
    widget, _ = await visitor(inbox)
    await widget.send({"type": "message.send", "client_id": "c-x", "body": "look", "attachments": [their_file["id"]]})
    error = await widget.error("forbidden")
    assert error["client_id"] == "c-x"
    await widget.send({"type": "message.send", "client_id": "c-y", "body": "look", "attachments": [999999]})
    await widget.error("not_found")
    assert not await db(Message.objects.exists)()
    assert (await db(Attachment.objects.get)(pk=their_file["id"])).message_id is None
    await widget.close()


async def test_an_upload_sent_once_cannot_be_sent_again_and_too_many_are_refused(inbox, settings):
    settings.ATTACHMENTS_PER_MESSAGE = 2
    _c, token = await db(visitor_session_start)(inbox=inbox)
    ids = [(await db(upload)(inbox, token, f"file {n}".encode(), f"{n}.txt")).json()["id"] for n in range(3)]
    widget, _ = await visitor(inbox, token=token)
    await widget.send({"type": "message.send", "client_id": "c-many", "body": "", "attachments": ids})
    await widget.error("too_large")
    await say(widget, "here", attachments=ids[:1])
    await widget.send({"type": "message.send", "client_id": "c-again", "body": "", "attachments": ids[:1]})
    await widget.error("conflict")
    await widget.send({"type": "message.send", "client_id": "c-empty", "body": ""})
    await widget.error("invalid_frame")  # no text and no file
    assert await db(Message.objects.count)() == 1
    await widget.close()


def test_a_guessed_or_altered_address_is_a_404(inbox):
    body = upload(inbox, a_token(inbox), b"hello", "a.txt").json()
    path = urlsplit(body["url"]).path
    assert Client().get(f"/attachments/{body['id']}/").status_code == 404
    assert Client().get(path[:-3] + "abc/").status_code == 404  # the signature no longer matches
    attachment = Attachment.objects.get(pk=body["id"])
    forged = attachment_links.attachment_url(attachment, audience="x")
    assert Client().get(urlsplit(forged).path).status_code == 404


def test_an_expired_address_is_a_404_and_a_fresh_payload_works_again(inbox, settings):
    settings.ATTACHMENT_URL_MAX_AGE_SECONDS = 60
    body = upload(inbox, a_token(inbox), b"hello", "a.txt").json()
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=61)):
        assert fetch(body["url"]).status_code == 404
        fresh = attachment_links.attachment_payload(Attachment.objects.get(pk=body["id"]), audience="v")
        assert fetch(fresh["url"]).status_code == 200


async def test_an_operator_uploads_for_her_conversation_and_a_note_file_never_reaches_the_visitor(inbox):
    operator = await db(OperatorFactory)(inboxes=[inbox], status="online")
    widget, _ = await visitor(inbox)
    ack = await say(widget, "Hi")
    conversation_id = ack["message"]["conversation_id"]
    client = Client()
    await db(client.force_login)(operator.user)
    url = f"/inbox/conversations/{conversation_id}/uploads/"
    made = await db(client.post)(url, {"file": SimpleUploadedFile("label.png", _png())})
    assert made.status_code == 201
    note_file = (await db(client.post)(url, {"file": SimpleUploadedFile("n.txt", b"internal")})).json()
    refused = await db(client.post)(url, {"file": SimpleUploadedFile("x.png", b"MZ\x00\x00")})
    assert refused.status_code == 400 and refused.json()["code"] == "unsupported_type"
    agent, _ = await operator_socket(operator)
    await agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_id": "o-1",
            "body": "",
            "attachments": [made.json()["id"]],
        }
    )
    await agent.expect("message.ack", client_id="o-1")
    reply = await widget.expect("message.new")
    assert reply["message"]["attachments"][0]["name"] == "label.png"
    assert (await db(fetch)(reply["message"]["attachments"][0]["url"])).status_code == 200
    await agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_id": "o-2",
            "body": "see file",
            "private": True,
            "attachments": [note_file["id"]],
        }
    )
    await agent.expect("message.ack", client_id="o-2")
    assert not [f for f in await widget.drain() if f["type"] == "message.new"]
    # Not even an address of the visitor's audience would serve a private note's file.
    note = await db(Attachment.objects.get)(pk=note_file["id"])
    assert (await db(fetch)(attachment_links.attachment_url(note, audience="v"))).status_code == 404
    # Another operator's upload is not hers to send.
    colleague = await db(OperatorFactory)(inboxes=[inbox])
    other = Client()
    await db(other.force_login)(colleague.user)
    theirs = (await db(other.post)(url, {"file": SimpleUploadedFile("c.txt", b"mine")})).json()
    await agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_id": "o-3",
            "body": "x",
            "attachments": [theirs["id"]],
        }
    )
    await agent.error("forbidden")
    await agent.close()
    await widget.close()


def _png() -> bytes:
    out = BytesIO()
    Image.new("RGBA", (40, 20), (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()


def test_uploads_never_sent_are_deleted_with_their_files_after_a_day(inbox):
    from chat.services.attachments import attachment_purge_unsent

    body = upload(inbox, a_token(inbox), a_photo(), "late.jpg").json()
    stored = Attachment.objects.get(pk=body["id"])
    storage, names = stored.file.storage, [stored.file.name, stored.thumbnail.name]
    assert attachment_purge_unsent() == 0
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(days=1, seconds=1)):
        assert attachment_purge_unsent() == 1
    assert not Attachment.objects.exists()
    assert not any(storage.exists(name) for name in names)


def test_a_missed_chats_transcript_names_its_files_without_them(inbox, settings):
    from chat.models import Conversation
    from chat.services.conversations import conversation_miss_if_unanswered
    from chat.services.messages import visitor_message_send
    from chat.services.visitors import visitor_contact_get_or_create, visitor_token_read
    from mail.models import MailThread

    token = a_token(inbox)
    visitor_id = visitor_token_read(inbox=inbox, token=token).visitor_id
    contact = visitor_contact_get_or_create(inbox=inbox, visitor_id=visitor_id)
    contact.email = "ann@example.org"
    contact.save()
    pdf = upload(inbox, token, b"%PDF-1.7 the order", "order.pdf").json()
    message, _ = visitor_message_send(contact=contact, client_id="c-1", body="See the order", attachments=[pdf["id"]])
    conversation = Conversation.objects.get(pk=message.conversation_id)
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=1)):
        assert conversation_miss_if_unanswered(conversation_id=conversation.pk)
    thread = MailThread.objects.get(ticket=conversation.ticket_id)
    assert (
        "See the order\n[Attachment “order.pdf”, 18\xa0bytes, not included]"
        in thread.conversation.messages.first().body
    )


def test_an_inbox_takes_only_types_the_desk_can_recognise_by_content(inbox):
    from django.core.exceptions import ValidationError

    inbox.attachment_types = ["image/png", "application/x-msdownload"]
    with pytest.raises(ValidationError) as refused:
        inbox.full_clean()
    assert "attachment_types" in refused.value.message_dict
    inbox.attachment_types = ["image/png", "application/pdf"]
    inbox.full_clean()
    assert inbox.attachment_limits()[2] == ["image/png", "application/pdf"]


def test_a_worker_makes_the_thumbnail_and_until_then_the_image_stands_in_for_it(inbox, celery_worker):
    import time

    body = upload(inbox, a_token(inbox), a_photo((1600, 1200)), "wide.jpg").json()
    # The worker may not have run yet: the thumbnail's address is then the image's own.
    stored = Attachment.objects.get(pk=body["id"])
    deadline = time.monotonic() + 30
    while not stored.thumbnail and time.monotonic() < deadline:
        time.sleep(0.2)
        stored.refresh_from_db()
    assert stored.thumbnail, "the worker made no thumbnail"
    fresh = attachment_links.attachment_payload(stored, audience="v")
    assert fresh["thumbnail_url"] != fresh["url"]
    with stored.thumbnail.open("rb") as file, Image.open(file) as thumb:
        assert thumb.size == (240, 320)  # upright, the long side 320 px
