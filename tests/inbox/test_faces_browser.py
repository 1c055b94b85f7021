"""Faces in a real browser: an operator puts her photo in her profile, and the visitor on a customer's website
(another origin) sees who she is chatting with, with that photo; the inbox shows the faces in the thread."""

import pytest
from PIL import Image, ImageDraw

from chat.models import OperatorProfile
from tests.browser import expect
from tests.processes import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHATTING = {"en": "You're chatting with Sara", "fa": "در حال گفتگو با Sara"}


@pytest.fixture
def asgi_server(asgi_server_factory):
    """The desk at a SITE_URL of its own address: the photo's absolute URL must reach it from the customer's site."""
    port = free_port()
    return asgi_server_factory(port=port, SITE_URL=f"http://127.0.0.1:{port}")


def portrait(path) -> None:
    image = Image.new("RGB", (400, 300), "#f0c27b")
    draw = ImageDraw.Draw(image)
    draw.ellipse((130, 40, 270, 200), fill="#8d5524")
    draw.rectangle((110, 210, 290, 300), fill="#1f6feb")
    image.save(path, format="JPEG")


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_visitor_sees_the_operators_photo_beside_who_she_is_chatting_with(
    desk, asgi_server, host_site, browser, operator_page, screenshot_dir, tmp_path, language
):
    desk.inbox.allowed_origins = [host_site.origin]
    desk.inbox.language = language
    desk.inbox.save()
    photo = tmp_path / "sara.jpg"
    portrait(photo)

    inbox = operator_page(desk.ana.user, language=language)
    inbox.locator("a.me").click()
    inbox.locator("#id_display_name").fill("Sara")
    inbox.locator("#id_avatar").set_input_files(str(photo))
    inbox.locator("form[enctype] button[type=submit]").click()
    expect(inbox.locator(".notice")).to_be_visible()
    preview = inbox.locator(".profile-preview img.face")
    expect(preview).to_be_visible()
    assert preview.evaluate("(img) => img.naturalWidth") == 128
    inbox.screenshot(path=screenshot_dir / f"faces-profile-{language}.png")
    avatar_url = preview.get_attribute("src")
    assert avatar_url.startswith(f"{asgi_server.url}/avatars/{desk.ana.user_id}/")
    assert OperatorProfile.objects.get(pk=desk.ana.pk).display_name == "Sara"

    inbox.goto(f"{asgi_server.url}/inbox/")
    inbox.wait_for_selector("body[data-connection=open]", state="attached")
    expect(inbox.locator("a.me img.face")).to_have_attribute("src", avatar_url)
    inbox.locator("[data-presence=online]").click()
    expect(inbox.locator("[data-presence=online]")).to_have_attribute("aria-pressed", "true")

    visitor_context = browser.new_context(viewport={"width": 1280, "height": 800})
    site = visitor_context.new_page()
    site.goto(host_site.widget_page(desk_url=asgi_server.url, site_key=desk.inbox.site_key))

    def widget(selector):
        return site.locator(f"supportdesk-widget {selector}")

    try:
        widget(".sd-launcher").click()
        widget(".sd-form input[name=name]").fill("Maria Lopez")
        widget(".sd-form button[type=submit]").click()
        widget(".sd-compose-input").fill("Hello, is my order on its way?")
        widget(".sd-compose-input").press("Enter")

        expect(widget(".sd-subtitle")).to_have_text(CHATTING[language])
        face = widget(".sd-head-face img.sd-face")
        expect(face).to_have_attribute("src", avatar_url)
        expect(face).to_be_visible()
        site.wait_for_function(
            "() => document.querySelector('supportdesk-widget').shadowRoot"
            ".querySelector('.sd-head-face img').naturalWidth === 128"
        )

        expect(inbox.locator("#list-mine")).to_contain_text("Maria Lopez")
        expect(inbox.locator("#list-mine .face")).to_have_attribute("data-i", "ML")
        inbox.locator("#list-mine").get_by_text("Maria Lopez").click()
        expect(inbox.locator("#thread-face .face")).to_have_attribute("data-i", "ML")
        composer = inbox.locator("#composer-input")
        composer.fill("Yes, it left this morning.")
        composer.press("Enter")

        reply = widget(".sd-msg-operator").last
        expect(reply.locator(".sd-body")).to_have_text("Yes, it left this morning.")
        expect(reply.locator("img.sd-face")).to_have_attribute("src", avatar_url)
        expect(reply.locator(".sd-author")).to_have_text("Sara")
        expect(inbox.locator("#thread .msg-operator img.face").last).to_have_attribute("src", avatar_url)
        site.wait_for_timeout(300)  # the photos decode
        site.screenshot(path=screenshot_dir / f"faces-widget-{language}.png")
        inbox.screenshot(path=screenshot_dir / f"faces-inbox-{language}.png")
    finally:
        visitor_context.close()
