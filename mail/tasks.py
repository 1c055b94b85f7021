"""Celery tasks of the e-mail channel: thin, take ids, call services; the beat sweep makes the database the truth."""

from celery import shared_task

from mail.services import outbound


@shared_task(name="mail.deliver")
def mail_deliver(mail_id: int) -> str:
    """Sends one queued mail once (a duplicate delivery of the task finds it claimed or sent)."""
    return outbound.mail_deliver(mail_id=mail_id)


@shared_task(name="mail.sweep")
def mail_sweep() -> int:
    """Beat job: sends the mails whose task never ran or whose worker died, and retries those due."""
    return outbound.mail_sweep()


@shared_task(name="mail.poll_imap")
def mail_poll_imap() -> dict:
    """Beat job: fetches new mail from every inbox's IMAP mailbox."""
    from mail.imap import poll_all

    return poll_all()
