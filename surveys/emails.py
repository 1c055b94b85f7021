"""The survey invitation e-mail: localized, HTML and text, with the signed survey link and an opt-out link."""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from surveys.links import survey_opt_out_url, survey_page_url


def survey_message_id(invitation) -> str:
    """The same for every copy of one invitation's e-mail, so a copy sent again after a crash is recognisable."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<survey-invitation-{invitation.pk}.{int(invitation.created_at.timestamp())}@{domain}>"


def survey_email_message(invitation) -> EmailMultiAlternatives:
    with translation.override(invitation.language):
        context = {
            "inbox_name": invitation.inbox.name,
            "contact_name": invitation.contact.name,
            "questions": invitation.questions,
            "survey_url": survey_page_url(invitation.token),
            "opt_out_url": survey_opt_out_url(invitation.token),
            "expires_at": invitation.expires_at,
            "language": invitation.language,
            "direction": "rtl" if translation.get_language_bidi() else "ltr",
        }
        subject = " ".join(render_to_string("surveys/email/invitation_subject.txt", context).split())
        text = render_to_string("surveys/email/invitation.txt", context)
        html = render_to_string("surveys/email/invitation.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.contact.email],
        headers={
            "List-Unsubscribe": f"<{context['opt_out_url']}>",
            "Auto-Submitted": "auto-generated",
            "Content-Language": invitation.language,
            "Message-ID": survey_message_id(invitation),
        },
    )
    message.attach_alternative(html, "text/html")
    return message
