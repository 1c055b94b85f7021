"""Periodic sweeps (Celery beat): they end what nobody will come back to, whichever process saw it last."""

from celery import shared_task

from chat.services.attachments import attachment_purge_unsent, attachment_thumbnail_make
from chat.services.availability import availability_sweep
from chat.services.conversations import conversation_sweep
from chat.services.presence import operator_sweep_offline
from chat.services.visitors import visitor_purge_unreachable


@shared_task(name="chat.sweep")
def chat_sweep() -> dict:
    # Operators first: a queue with nobody left online is missed in the same sweep.
    offline = operator_sweep_offline()
    return {"operators_offline": offline, **conversation_sweep(), "availability_changed": availability_sweep()}


@shared_task(name="chat.purge_unreachable_visitors")
def chat_purge_unreachable_visitors() -> dict:
    return {"contacts_deleted": visitor_purge_unreachable(), "unsent_attachments_deleted": attachment_purge_unsent()}


@shared_task(name="chat.attachment_thumbnail")
def attachment_thumbnail(attachment_id: int) -> bool:
    return attachment_thumbnail_make(attachment_id=attachment_id)
