"""Mail reads for the inbox: each message's mail (delivery state, the original, attachments)."""

from __future__ import annotations

from django.urls import reverse

from mail.models import MailAttachment, MailMessage
from mail.services.outbound import delivery_payload


def mail_details(payloads: list[dict]) -> list[dict]:
    """Adds `mail` to the message payloads (shape M) that came or went by mail, in two queries for any number."""
    by_message = {
        mail.chat_message_id: mail
        for mail in MailMessage.objects.filter(chat_message_id__in=[p["id"] for p in payloads]).only(
            "id", "chat_message_id", "direction", "kind", "status", "failure_reason", "attempts", "sent_at"
        )
    }
    attachments: dict[int, list[dict]] = {}
    for attachment in MailAttachment.objects.filter(mail_id__in=[m.pk for m in by_message.values()]):
        attachments.setdefault(attachment.mail_id, []).append(
            {
                "id": attachment.pk,
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "url": reverse("inbox-mail-attachment", args=[attachment.pk]),
            }
        )
    for payload in payloads:
        mail = by_message.get(payload["id"])
        if mail is None:
            continue
        payload["mail"] = {
            "id": mail.pk,
            "direction": mail.direction,
            "kind": mail.kind,
            "delivery": delivery_payload(mail) if mail.direction == MailMessage.Direction.OUT else None,
            "original_url": reverse("inbox-mail-original", args=[mail.pk])
            if mail.direction == MailMessage.Direction.IN
            else None,
            "attachments": attachments.get(mail.pk, []),
        }
    return payloads


def mail_for_operator(*, inbox_ids: list[int], mail_id: int) -> MailMessage | None:
    return MailMessage.objects.filter(pk=mail_id, inbox_id__in=inbox_ids).first()


def attachment_for_operator(*, inbox_ids: list[int], attachment_id: int) -> MailAttachment | None:
    return MailAttachment.objects.select_related("mail").filter(pk=attachment_id, mail__inbox_id__in=inbox_ids).first()
