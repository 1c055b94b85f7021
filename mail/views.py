"""The inbox's views of received mail: the original as it arrived, and attachments; only for operators of the
mail's inbox, never by a public path."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chat import inbox_selectors
from chat.views import operator_required
from mail.selectors import attachment_for_operator, mail_for_operator


def _inbox_ids(request) -> list[int]:
    return inbox_selectors.operator_inbox_ids(operator=request.operator)


@require_GET
@operator_required
def mail_original(request, mail_id: int):
    """The whole mail: its headers, its sanitised HTML (shown in a sandboxed frame) or whole text; ?raw=1 downloads
    it as it arrived (.eml)."""
    mail = mail_for_operator(inbox_ids=_inbox_ids(request), mail_id=mail_id)
    if mail is None:
        raise Http404(_("No such mail in your inboxes."))
    if request.GET.get("raw") and mail.raw:
        return FileResponse(
            mail.raw.open("rb"), as_attachment=True, filename=f"mail-{mail.pk}.eml", content_type="message/rfc822"
        )
    response = render(request, "mail/original.html", {"mail": mail})
    # The mail's own HTML is sanitised, and still shown where it can run nothing and load nothing.
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; sandbox allow-same-origin"
    )
    return response


@require_GET
@operator_required
def mail_attachment(request, attachment_id: int):
    attachment = attachment_for_operator(inbox_ids=_inbox_ids(request), attachment_id=attachment_id)
    if attachment is None:
        raise Http404(_("No such attachment in your inboxes."))
    inline = attachment.content_type.startswith("image/") and request.GET.get("inline") == "1"
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
