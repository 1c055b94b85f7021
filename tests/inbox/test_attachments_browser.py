"""Attachments in the inbox: the visitor's photo shows as a thumbnail in the thread; the operator attaches a file
with the button and pastes a screenshot, and the visitor gets both, in English and in Persian."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.services.attachments import attachment_upload
from chat.services.visitors import visitor_token_read
from tests.browser import expect
from tests.chat.test_attachments import a_photo
from tests.inbox.test_inbox_browser import claim, open_from_queue
from tests.processes import free_port
from tests.widget.test_attachments import PDF

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASTE_SCREENSHOT = """async () => {
  const canvas = document.createElement('canvas');
  canvas.width = 320; canvas.height = 200;
  const g = canvas.getContext('2d');
  g.fillStyle = '#8250df'; g.fillRect(0, 0, 320, 200);
  const blob = await new Promise((done) => canvas.toBlob(done, 'image/png'));
  const data = new DataTransfer();
  data.items.add(new File([blob], 'image.png', { type: 'image/png' }));
  document.getElementById('composer-input').dispatchEvent(
    new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
}"""

DROP_FILE = """() => {
  const data = new DataTransfer();
  data.items.add(new File(['1. Print the label\\n2. Drop the parcel'], 'steps.txt', { type: 'text/plain' }));
  const composer = document.getElementById('composer');
  composer.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
  composer.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
}"""


@pytest.fixture
def asgi_server(asgi_server_factory):
    """The desk at a SITE_URL of its own address, as the files' absolute URLs name it."""
    port = free_port()
    return asgi_server_factory(port=port, SITE_URL=f"http://127.0.0.1:{port}")


@pytest.mark.parametrize(("language", "size"), [("en", "3 KB"), ("fa", "۳ کیلوبایت")])
def test_the_operator_sees_the_visitors_photo_and_sends_a_file_and_a_pasted_screenshot(
    desk, asgi_server, operator_page, visitors, screenshot_dir, language, size
):
    page = operator_page(desk.ana.user, language=language)
    visitor = visitors(asgi_server, desk.inbox, name="Maria Lopez", email="maria@example.org")
    visitor.say("Hi, the boots arrived damaged")
    mine = visitor_token_read(inbox=desk.inbox, token=visitor.token).visitor_id
    photo = attachment_upload(
        inbox=desk.inbox, upload=SimpleUploadedFile("boots.jpg", a_photo((600, 400))), visitor_id=mine
    )
    visitor.send({"type": "message.send", "client_id": "v-photo", "body": "", "attachments": [photo.pk]})
    visitor.wait_for("message.ack", lambda f: f["client_id"] == "v-photo")

    open_from_queue(page, "Maria Lopez")
    thumb = page.locator("#thread .msg-thumb img")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("alt", "boots.jpg")
    page.wait_for_function(
        "() => { const i = document.querySelector('#thread .msg-thumb img'); "
        "return i && i.complete && i.naturalWidth > 0; }"
    )
    claim(page)

    page.locator("#attach-input").set_input_files(
        files=[{"name": "returns-label.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.evaluate(PASTE_SCREENSHOT)
    page.evaluate(DROP_FILE)
    tray = page.locator("#attach-tray li")
    expect(tray).to_have_count(3)
    expect(tray.first).to_have_text(re.compile(r"^returns-label\.pdf×$"))
    composer = page.locator("#composer-input")
    composer.fill("Sorry! Print this label; the photo shows where to drop the parcel.")
    composer.press("Enter")
    reply = visitor.wait_for("message.new", lambda f: f["message"]["sender"] == "operator")["message"]
    assert sorted(a["name"] for a in reply["attachments"]) == ["image.png", "returns-label.pdf", "steps.txt"]
    node = page.locator(f'#thread .msg[data-message-id="{reply["id"]}"]')
    expect(node.locator(".msg-attachments a").first).to_have_text(f"returns-label.pdf ({size})")
    expect(node.locator(".msg-thumb img")).to_have_count(1)
    expect(page.locator("#attach-tray")).to_be_hidden()
    page.screenshot(path=screenshot_dir / f"inbox-attachments-{language}.png")
