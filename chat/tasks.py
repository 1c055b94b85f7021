"""Periodic sweeps (Celery beat): they end what nobody will come back to, whichever process saw it last."""

from celery import shared_task

from chat.services.conversations import conversation_sweep
from chat.services.presence import operator_sweep_offline


@shared_task(name="chat.sweep")
def chat_sweep() -> dict:
    # Operators first: a queue with nobody left online is missed in the same sweep.
    offline = operator_sweep_offline()
    return {"operators_offline": offline, **conversation_sweep()}
