"""The built-in SMTP receiver (aiosmtpd): a domain's MX, or the relay a site's mail server forwards to.

Recipients are checked at RCPT (an address no inbox owns is refused there, 550), the size at MAIL FROM and
during DATA (552, advertised in EHLO as SIZE), and each mail is answered with what `mail_receive` made of it:
250 once stored (or recognised as a duplicate), 451 to try later, 5xx refused with the reason. The answer
comes after the commit, so a mail acknowledged is stored and a mail refused left nothing behind.
"""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from mail.services.inbound import mail_receive, recipient_known

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 20


def _receive(raw: bytes, recipients: list[str], mail_from: str):
    close_old_connections()
    try:
        return mail_receive(raw, recipients=recipients, envelope_from=mail_from)
    finally:
        close_old_connections()


def _known(address: str) -> bool:
    close_old_connections()
    return recipient_known(address)


class DeskHandler:
    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options):
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            known = await sync_to_async(_known, thread_sensitive=False)(address)
        except Exception:  # noqa: BLE001 — the database is down: the sender keeps the mail and retries
            logger.exception("recipient check failed")
            return "451 4.3.0 Temporary failure, try again later"
        if not known:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            outcome = await sync_to_async(_receive, thread_sensitive=False)(
                raw, list(envelope.rcpt_tos), envelope.mail_from or ""
            )
        except Exception:  # noqa: BLE001 — nothing was stored (one transaction): the sender retries later
            logger.exception("a mail could not be stored")
            return "451 4.3.0 Temporary failure, try again later"
        logger.info("mail from %s to %s: %s", envelope.mail_from, envelope.rcpt_tos, outcome.smtp)
        return outcome.smtp


def server_factory() -> SMTP:
    return SMTP(
        DeskHandler(),
        data_size_limit=settings.MAIL_MAX_BYTES,
        enable_SMTPUTF8=True,
        decode_data=False,
        hostname=settings.MAIL_RECEIVER_HOSTNAME or None,
        ident="Supportdesk",
        timeout=60,
    )


async def serve(host: str, port: int, ready=None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(server_factory, host=host, port=port)
    if ready is not None:
        ready()
    async with server:
        await server.serve_forever()
