"""Mails as a customer's client writes them, and a real SMTP server (aiosmtpd) on loopback that keeps what it is
sent: the mail server the desk sends through."""

from __future__ import annotations

import socket
import time
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from aiosmtpd.controller import Controller
from django.utils import timezone

from tests.processes import free_port

ADDRESS = "help@shop.test"


def customer_mail(
    *,
    sender: str = "Ali Rezaei <ali@customer.test>",
    to: str = ADDRESS,
    subject: str = "My order has not arrived",
    body: str = "Hello, order 1234 has not arrived yet.",
    html: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: dict | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="customer.test")
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=policy.SMTP)


class Sink:
    """A mail server on loopback that keeps what it is sent, or refuses it with a given answer."""

    def __init__(self):
        self.messages: list = []
        self.refuse_rcpt: str | None = None
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted"

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()

    def wait(self, count: int, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0
