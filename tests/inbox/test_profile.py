"""Faces: the operator's profile page (name and photo), the avatar's public address, and the faces in the payloads."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from chat.faces import PALETTE, initials
from chat.models import Message, OperatorProfile
from chat.selectors import conversation_payload, message_payload
from chat.services.broadcast import visitor_view
from tests.factories import ConversationFactory, InboxFactory, MessageFactory, OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://desk.example.com"
    return tmp_path


@pytest.fixture
def operator():
    return OperatorFactory(display_name="Sara Ahmadi", inboxes=[InboxFactory()])


@pytest.fixture
def signed_in(client, operator):
    client.force_login(operator.user)
    return client


def image_file(name="me.png", kind="PNG", size=(300, 200), colour=(200, 40, 40), exif=None, content_type="image/png"):
    buffer = BytesIO()
    image = Image.new("RGB", size, colour)
    image.save(buffer, format=kind, **({"exif": exif} if exif is not None else {}))
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def upload(client, file, name="Sara Ahmadi", **extra):
    return client.post(reverse("inbox-profile"), {"display_name": name, "avatar": file, **extra})


def fresh(operator) -> OperatorProfile:
    return OperatorProfile.objects.get(pk=operator.pk)


def avatar_path(client, operator) -> str:
    url = conversation_payload(ConversationFactory(assignee=operator.user))["assignee"]["avatar_url"]
    assert url.startswith("https://desk.example.com/avatars/")
    return url.removeprefix("https://desk.example.com")


def test_the_inbox_header_links_to_the_profile_page(signed_in):
    page = signed_in.get("/inbox/").content.decode()
    assert f'href="{reverse("inbox-profile")}"' in page


def test_the_profile_page_shows_the_name_and_the_initials_on_a_colour(signed_in, operator):
    response = signed_in.get(reverse("inbox-profile"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Sara Ahmadi"' in page
    assert 'data-i="SA"' in page
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page


def test_an_operator_uploads_a_photo_and_renames_herself(signed_in, operator):
    response = upload(signed_in, image_file(), name="Sara")
    assert response.status_code == 302
    operator = fresh(operator)
    assert operator.display_name == "Sara"
    page = signed_in.get(reverse("inbox-profile")).content.decode()
    assert "Your profile is saved." in page
    assert '<img class="face face-large" src="https://desk.example.com/avatars/' in page

    served = signed_in.get(avatar_path(signed_in, operator))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert "immutable" in served["Cache-Control"]
    stored = Image.open(BytesIO(served.content))
    assert stored.format == "PNG" and stored.size == (128, 128)


def test_the_photo_is_public_for_the_widget_on_other_sites(client, signed_in, operator):
    upload(signed_in, image_file())
    path = avatar_path(signed_in, fresh(operator))
    signed_in.logout()
    served = client.get(path)
    assert served.status_code == 200
    assert served["Cross-Origin-Resource-Policy"] == "cross-origin"


@pytest.mark.parametrize(
    ("file", "error"),
    [
        (SimpleUploadedFile("me.png", b"MZ\x90\x00 not a picture at all", content_type="image/png"), "not an image"),
        (SimpleUploadedFile("me.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, content_type="image/png"), "not an image"),
        (image_file(name="me.gif", kind="GIF", content_type="image/gif"), "Upload a PNG, JPEG or WebP image."),
        (image_file(name="me.bmp", kind="BMP", content_type="image/png"), "Upload a PNG, JPEG or WebP image."),
    ],
    ids=["text-named-png", "broken-png", "gif", "bmp-named-png"],
)
def test_a_file_that_is_not_a_png_jpeg_or_webp_image_is_refused_beside_the_field(signed_in, operator, file, error):
    response = upload(signed_in, file)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="avatar-error"' in page and error in page
    assert fresh(operator).avatar.name == ""


def test_a_file_over_the_size_limit_is_refused(signed_in, operator, settings):
    settings.AVATAR_MAX_BYTES = 10_000
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"\x00" * 20_000, content_type="image/png")
    response = upload(signed_in, big)
    assert response.status_code == 200
    assert "The image is larger than" in response.content.decode()
    assert fresh(operator).avatar.name == ""


def test_the_exif_of_a_jpeg_is_not_kept(signed_in, operator, media):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {2: (35.0, 41.0, 0.0)}  # GPS latitude
    photo = image_file(name="me.jpg", kind="JPEG", exif=exif.tobytes(), content_type="image/jpeg")
    assert Image.open(BytesIO(photo.read())).getexif()[0x010F] == "SpyCam"
    photo.seek(0)
    assert upload(signed_in, photo).status_code == 302

    operator = fresh(operator)
    raw = (media / operator.avatar.name).read_bytes()
    assert b"SpyCam" not in raw
    stored = Image.open(BytesIO(raw))
    assert stored.format == "PNG"
    assert not stored.getexif()
    assert "exif" not in stored.info


def test_an_old_or_removed_photo_is_no_longer_served(signed_in, operator, media, django_capture_on_commit_callbacks):
    upload(signed_in, image_file(colour=(200, 40, 40)))
    first = avatar_path(signed_in, fresh(operator))
    with django_capture_on_commit_callbacks(execute=True):
        upload(signed_in, image_file(colour=(40, 40, 200)))
    second = avatar_path(signed_in, fresh(operator))
    assert first != second
    assert signed_in.get(first).status_code == 404
    assert signed_in.get(second).status_code == 200
    assert len(list((media / "avatars" / str(operator.user_id)).iterdir())) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("inbox-profile"), {"display_name": "Sara Ahmadi", "remove_avatar": "on"})
    assert response.status_code == 302
    assert fresh(operator).avatar.name == ""
    assert signed_in.get(second).status_code == 404
    assert list((media / "avatars" / str(operator.user_id)).iterdir()) == []


def test_a_guessed_address_is_not_found(client, operator):
    assert client.get(f"/avatars/{operator.user_id}/{'0' * 32}.png").status_code == 404
    assert client.get(f"/avatars/{operator.user_id}/..%2F..%2Fsecret.png").status_code == 404


def test_an_empty_display_name_is_refused_beside_the_field(signed_in, operator):
    response = signed_in.post(reverse("inbox-profile"), {"display_name": "   "})
    assert response.status_code == 200
    assert "Enter the name visitors should see." in response.content.decode()
    assert fresh(operator).display_name == "Sara Ahmadi"


def test_the_conversation_names_the_faces_of_its_contact_and_assignee(operator):
    conversation = ConversationFactory(assignee=operator.user, contact__name="ann lee")
    payload = visitor_view(conversation_payload(conversation))
    assert payload["assignee"] == {
        "id": operator.user_id,
        "name": "Sara Ahmadi",
        "initials": "SA",
        "colour": PALETTE[operator.user_id % len(PALETTE)],
        "avatar_url": None,
    }
    assert payload["contact"]["initials"] == "AL"
    assert payload["contact"]["colour"] in PALETTE


def test_an_operator_message_carries_its_authors_face(signed_in, operator):
    upload(signed_in, image_file())
    operator = fresh(operator)
    conversation = ConversationFactory(assignee=operator.user)
    reply = MessageFactory(
        conversation=conversation, sender=Message.Sender.OPERATOR, author=operator.user, author_name="Sara Ahmadi"
    )
    question = MessageFactory(conversation=conversation, sender=Message.Sender.VISITOR)
    author = message_payload(reply)["author"]
    assert author["id"] == operator.user_id and author["initials"] == "SA"
    assert author["avatar_url"].startswith("https://desk.example.com/avatars/")
    assert message_payload(question)["author"] is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Sara", "S"), ("sara ahmadi", "SA"), ("رضا محمدی", "رم"), ("", "?"), ("ann.lee", "AL")],
)
def test_initials(name, expected):
    assert initials(name) == expected


@pytest.mark.parametrize(
    ("kind", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_png_jpeg_and_webp_are_taken_and_kept_as_a_square_png(signed_in, operator, media, kind, content_type):
    response = upload(signed_in, image_file(name="me.img", kind=kind, size=(90, 160), content_type=content_type))
    assert response.status_code == 302
    stored = Image.open(media / fresh(operator).avatar.name)
    assert (stored.format, stored.size) == ("PNG", (128, 128))


def test_an_image_that_unpacks_to_too_many_pixels_is_refused(signed_in, operator):
    buffer = BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, format="PNG")  # small on disk, 48 million pixels
    bomb = SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")
    response = upload(signed_in, bomb)
    assert response.status_code == 200
    assert "too many pixels" in response.content.decode()
    assert fresh(operator).avatar.name == ""
