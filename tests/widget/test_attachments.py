"""A visitor attaches files in the widget (the button, a pasted screenshot, while the desk is down) and sees the
operator's: images as thumbnails, other files as named links with their sizes, in English and in Persian."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import Attachment, Message
from chat.services.attachments import attachment_upload
from tests.chat.test_attachments import a_photo
from tests.processes import free_port
from tests.widget.support import SENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def asgi_server(asgi_server_factory):
    """The desk at a SITE_URL of its own address: the files' absolute URLs must reach it from the customer's site."""
    port = free_port()
    return asgi_server_factory(port=port, SITE_URL=f"http://127.0.0.1:{port}")


PDF = b"%PDF-1.4\n% the order confirmation\n" + b"0" * 3000

PASTE_SCREENSHOT = """async () => {
  const canvas = document.createElement('canvas');
  canvas.width = 300; canvas.height = 160;
  const g = canvas.getContext('2d');
  g.fillStyle = '#1f6feb'; g.fillRect(0, 0, 300, 160);
  g.fillStyle = '#fff'; g.fillRect(20, 20, 120, 40);
  const blob = await new Promise((done) => canvas.toBlob(done, 'image/png'));
  const data = new DataTransfer();
  data.items.add(new File([blob], 'image.png', { type: 'image/png' }));
  const input = document.querySelector('supportdesk-widget').shadowRoot.querySelector('.sd-compose-input');
  input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
}"""

DROP_FILE = """(text) => {
  const data = new DataTransfer();
  data.items.add(new File([text], 'receipt.pdf', { type: 'application/pdf' }));
  const panel = document.querySelector('supportdesk-widget').shadowRoot.querySelector('.sd-panel');
  panel.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
  panel.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
}"""


@pytest.mark.parametrize(
    ("lang", "you_sent", "size_text"),
    [("en", SENT, "3 KB"), ("fa", "ارسال شد", "۳ کیلوبایت")],
)
def test_a_visitor_attaches_a_photo_and_a_pasted_screenshot_and_gets_the_operators_file(
    asgi_server, host_site, widget_inbox, operator, operator_socket, visitor, lang, you_sent, size_text
):
    widget_inbox.language = lang
    widget_inbox.save()
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")

    page.q(".sd-composer input[type=file]").set_input_files(
        files=[{"name": "tent.jpg", "mimeType": "image/jpeg", "buffer": a_photo((400, 300))}]
    )
    page.evaluate(PASTE_SCREENSHOT)
    tray = page.q(".sd-tray li")
    tray.nth(1).wait_for()
    assert "tent.jpg" in tray.first.text_content() and "image.png" in tray.nth(1).text_content()
    page.write("The pole broke")

    own = page.q(".sd-msg-visitor").last
    own.locator(".sd-state", has_text=you_sent).wait_for()
    own.locator(".sd-thumb img").nth(1).wait_for()
    conversation = agent.take_conversation()
    received = agent.expect(lambda f: f["type"] == "message.new" and f["message"]["sender"] == "visitor")
    assert received["message"]["body"] == "The pole broke"
    assert [a["name"] for a in received["message"]["attachments"]] == ["tent.jpg", "image.png"]
    # The photo came without its EXIF and upright (the phone's orientation said "turned").
    photo = Attachment.objects.get(name="tent.jpg")
    assert (photo.width, photo.height) == (300, 400)

    # Both thumbnails load from the desk on the customer's page.
    own.locator(".sd-thumb img").nth(1).wait_for()
    loaded = own.locator(".sd-thumb img").evaluate_all("(imgs) => imgs.map((i) => i.complete && i.naturalWidth > 0)")
    assert loaded == [True, True]

    # The operator answers with a PDF: a named link with its size.
    pdf = attachment_upload(inbox=widget_inbox, upload=SimpleUploadedFile("order-1042.pdf", PDF), user=operator.user)
    agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation["id"],
            "client_id": "op-1",
            "body": "Here is your order; a new pole is on its way.",
            "attachments": [pdf.pk],
        }
    )
    reply = page.q(".sd-msg-operator").last
    link = reply.locator(".sd-files a", has_text="order-1042.pdf")
    link.wait_for()
    assert size_text in reply.locator(".sd-files li").text_content()
    page.shot(f"widget-attachments-{lang}.png")
    assert Message.objects.filter(conversation_id=conversation["id"], has_attachments=True).count() == 2


def test_a_file_attached_while_the_desk_is_down_goes_with_its_message_once_it_is_back(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("First")
    page.q(".sd-state", has_text=SENT).wait_for()

    asgi_server.stop()
    page.q(".sd-conn", has_text="Reconnecting").wait_for()
    # Dropped on the panel, as from the file manager.
    page.evaluate(DROP_FILE, PDF.decode())
    page.q(".sd-tray li", has_text="receipt.pdf").wait_for()
    page.write("My receipt")
    pending = page.q(".sd-msg-visitor").last
    pending.locator(".sd-state", has_text="Waiting for connection").wait_for()
    assert "receipt.pdf" in pending.text_content()
    asgi_server.start()

    pending = page.q(".sd-msg-visitor").last
    pending.locator(".sd-state", has_text=SENT).wait_for(timeout=40_000)
    pending.locator(".sd-files a", has_text="receipt.pdf").wait_for()
    stored = Message.objects.get(body="My receipt")
    assert list(stored.attachments.values_list("name", flat=True)) == ["receipt.pdf"]
    assert Attachment.objects.count() == 1


def test_a_file_too_large_for_the_inbox_is_explained_before_it_is_sent_and_a_disguised_one_is_refused(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    widget_inbox.attachment_max_bytes = 2048
    widget_inbox.save()
    operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    picker = page.q(".sd-composer input[type=file]")
    picker.set_input_files(files=[{"name": "big.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.q(".sd-err", has_text="big.pdf is larger than 2 KB.").wait_for()
    assert page.q(".sd-tray li").count() == 0

    # A program named like a photo: the desk reads its content and refuses it; the message says why.
    program = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
    picker.set_input_files(files=[{"name": "photo.png", "mimeType": "image/png", "buffer": program}])
    page.write("")
    page.q(".sd-composer").evaluate("(form) => form.requestSubmit()")
    failed = page.q(".sd-msg-visitor.sd-failed")
    failed.wait_for()
    assert "not taken here" in failed.text_content()
    assert not Attachment.objects.exists()
    page.shot("widget-attachment-refused.png")
