"""Runs the SMTP receiver in the foreground (rundesk and docker-compose start it as a process of its own)."""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from mail.smtp import serve


class Command(BaseCommand):
    help = "Receives mail for the inboxes' addresses by SMTP (an MX, or a relay from the site's mail server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.MAIL_RECEIVER_HOST)
        parser.add_argument("--port", type=int, default=settings.MAIL_RECEIVER_PORT)

    def handle(self, *args, host: str, port: int, **options):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

        def ready():
            self.stdout.write(f"SMTP receiver listening on {host}:{port}")
            self.stdout.flush()

        try:
            asyncio.run(serve(host, port, ready=ready))
        except KeyboardInterrupt:
            pass
