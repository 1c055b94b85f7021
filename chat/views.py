"""The agent inbox page and its small HTTP endpoints (everything that is not a websocket frame).

Views only check who asks and what they send, then call selectors and services.
"""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat import attachment_links
from chat import inbox_selectors as selectors
from chat.attachment_links import attachments_prefetch
from chat.faces import avatar_digest, avatar_url, colour_for, initials
from chat.forms import ProfileForm
from chat.models import MAIL_KINDS, Conversation, Inbox, OperatorProfile
from chat.search_selectors import MIN_QUERY_CHARS, QueryTooShort, conversation_search
from chat.selectors import (
    available_labels,
    conversation_payload,
    conversation_payloads,
    iso,
    mail_tickets_open,
    message_payload,
)
from chat.services.attachments import AttachmentRefused, attachment_upload
from chat.services.avatars import operator_profile_update
from chat.services.contacts import ContactNotesTooLong, contact_update_notes
from mail.selectors import mail_details
from supportdesk.templatetags.locale_format import local_numbers
from surveys.selectors import survey_results_for_conversation
from tickets.models import Ticket


def operator_required(view):
    """Anonymous users go to the login page; signed-in users without an operator profile get a 403 page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        operator = selectors.operator_for_user(user=request.user)
        if operator is None:
            if request.headers.get("Accept", "").startswith("application/json"):
                return JsonResponse({"error": _("Only operators can use the inbox.")}, status=403)
            return render(request, "chat/forbidden.html", status=403)
        request.operator = operator
        return view(request, *args, **kwargs)

    return wrapper


def _json_body(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


def _error(message: str, status: int = 400, field: str | None = None) -> JsonResponse:
    body = {"error": message}
    if field:
        body["field"] = field
    return JsonResponse(body, status=status)


def _conversation_or_404(request, conversation_id: int) -> Conversation:
    conversation = selectors.operator_conversation(operator=request.operator, conversation_id=conversation_id)
    if conversation is None:
        raise Http404(_("No such conversation in your inboxes."))
    return conversation


def _id_param(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _js_strings() -> dict:
    """Every string the inbox's JavaScript shows, translated for the request's language."""
    return {
        "queue_empty": _("Nobody is waiting."),
        "mine_empty": _("You have no conversations."),
        "all_empty": _("No open conversations."),
        "waiting": _("waiting"),
        # The list's timers, each labelled with what it counts.
        "timer_waiting": _("waiting %(time)s"),
        "timer_since_last": _("last message %(time)s ago"),
        "timer_since_last_title": _("Time since the conversation's last message"),
        "no_messages_yet": _("No messages yet."),
        "visitor": _("Visitor"),
        "system": _("System"),
        "assigned_to_you": _("Assigned to you"),
        "private_note": _("Private note"),
        "private_placeholder": _("Private note: only operators see this…"),
        "reply_placeholder": _("Reply to the visitor… (/ for saved replies)"),
        "typing": _("%(name)s is typing…"),
        "sending": _("Sending…"),
        # The visitor has read the reply (read receipts), at that clock time.
        "seen_at": _("Seen %(time)s"),
        "send_failed": _("Not sent. Retry"),
        "claimed_by": _("Taken by %(name)s"),
        "status_queued": _("Waiting"),
        "status_active": _("Active"),
        "status_ended": _("Ended"),
        "end_resolved": _("Resolved"),
        "end_closed_by_visitor": _("Closed by the visitor"),
        "end_visitor_left": _("The visitor left"),
        "end_abandoned": _("Abandoned"),
        "end_missed": _("Missed"),
        "sla_due_in": _("reply due in %(time)s"),
        "sla_breached": _("reply overdue by %(time)s"),
        "sla_met": _("answered"),
        "resolution_due": _("resolution due %(time)s"),
        "resolution_overdue": _("resolution overdue since %(time)s"),
        "sla_alert_first_response_at_risk": _("%(name)s: the first reply is due at %(time)s."),
        "sla_alert_first_response_breached": _("%(name)s: the first reply is overdue (it was due at %(time)s)."),
        "sla_alert_resolution_at_risk": _("%(name)s: the ticket is due to be resolved at %(time)s."),
        "sla_alert_resolution_breached": _("%(name)s: the ticket is overdue (it was due to be resolved at %(time)s)."),
        "connection_lost": _("Connection lost. Reconnecting in %(seconds)s s…"),
        "connecting": _("Reconnecting…"),
        "reconnected": _("Reconnected."),
        "signed_out": _("You are signed out. Sign in again to keep answering."),
        "retry_now": _("Retry now"),
        "new_chat_title": _("New chat waiting"),
        "new_chat_body": _("%(name)s in %(inbox)s"),
        "assigned_title": _("A chat was handed to you"),
        "error_conflict": _("Someone else already took this conversation."),
        "error_forbidden": _("You are not allowed to do that."),
        "error_not_found": _("That conversation no longer exists."),
        "error_closed": _("This conversation has ended."),
        "error_rate_limited": _("Slow down a little, then try again."),
        "error_too_large": _("The message is too long."),
        "error_generic": _("That did not work: %(detail)s"),
        "saved": _("Saved."),
        "save_failed": _("Could not save: %(detail)s"),
        "confirm_resolve": _("Resolve this conversation? The visitor's chat ends and they get the survey."),
        "transfer_pick": _("Choose an operator or a team."),
        "load": _("%(active)s/%(max)s chats"),
        "online": _("Online"),
        "away": _("Away"),
        "offline": _("Offline"),
        "no_canned": _("No saved reply matches."),
        "transferred": _("Transferred."),
        "followup_of": _("Same issue as ticket #%(id)s"),
        "followup_done": _("This conversation now continues ticket #%(id)s."),
        "read_only": _("This conversation has ended; it is shown read-only."),
        "load_earlier": _("Show earlier messages"),
        "channel_web_widget": _("Web chat"),
        "channel_offline_form": _("Offline form"),
        "channel_email": _("E-mail"),
        "channel_api": _("API"),
        "ticket": _("Ticket #%(id)s"),
        "tickets_empty_new": _("No new offline messages or e-mails."),
        "tickets_empty_open": _("No open tickets waiting for a reply."),
        "tickets_empty_pending": _("No tickets waiting on the customer."),
        "ticket_stage_new": _("New, not answered yet"),
        "ticket_stage_open": _("Open"),
        "ticket_stage_pending": _("Pending: waiting on the customer"),
        "ticket_stage_resolved": _("Resolved"),
        "mail_reply_placeholder": _("Reply by e-mail to the customer… (/ for saved replies)"),
        "mail_queued": _("E-mail queued"),
        "mail_sent": _("E-mail sent"),
        "mail_failed": _("E-mail not delivered: %(reason)s"),
        "mail_failed_toast": _("An e-mail to %(name)s could not be delivered."),
        "mail_original": _("Show the original e-mail"),
        "size_kb": _("%(n)s KB"),
        "attach_remove": _("Remove %(name)s"),
        "uploading": _("Uploading…"),
        "upload_failed": _("%(name)s was not attached: %(reason)s"),
        "size_mb": _("%(n)s MB"),
        "confirm_resolve_ticket": _("Resolve this ticket? The customer is sent the survey by e-mail."),
        "transfers": _("Transfers: %(count)s"),
        "labels": _("Labels"),
        "labels_none_available": _("No labels are defined for this inbox. A manager adds them in the admin."),
        "label_filter_all": _("All labels"),
        "label_filter_empty": _("No conversation here has this label."),
        "search_empty": _("No conversation matches."),
        "search_failed": _("Search failed: %(detail)s"),
        "search_in_note": _("In a private note"),
        "search_results": _("%(count)s found"),
    }


@require_GET
@operator_required
def inbox(request):
    operator = request.operator
    inbox_ids = selectors.operator_inbox_ids(operator=operator)
    inboxes = Inbox.objects.filter(pk__in=inbox_ids)
    conversations = _open_and_mail(operator)
    me_face = {
        "avatar_url": avatar_url(operator),
        "initials": initials(operator.display_name),
        "colour": colour_for(operator.user_id),
    }
    context = {
        "operator": operator,
        "inbox_names": {str(inbox.pk): inbox.name for inbox in inboxes},
        "initial": {
            "me": {
                "id": request.user.pk,
                "name": operator.display_name,
                "status": operator.status,
                "max_chats": operator.max_chats,
                "face": me_face,
            },
            "conversations": conversations,
            "labels": available_labels(inbox_ids),
            "message_max_chars": settings.MESSAGE_MAX_CHARS,
        },
        "me_face": me_face,
        "js_strings": _js_strings(),
        # Short labels: the select sits in a narrow bar.
        "ticket_statuses": [("open", _("Open")), ("pending", _("Pending")), ("resolved", _("Resolved"))],
        "ticket_priorities": Ticket.Priority.choices,
    }
    return render(request, "chat/inbox.html", context)


@require_GET
@operator_required
def open_conversations(request):
    """All open conversations of my inboxes, and the offline messages and e-mail tickets still open or pending (the
    page refreshes its lists with it after a reconnect)."""
    return JsonResponse({"conversations": _open_and_mail(request.operator)})


def _open_and_mail(operator) -> list[dict]:
    chats = conversation_payloads(selectors.operator_open_conversations(operator=operator))
    return chats + conversation_payloads(mail_tickets_open(selectors.operator_inbox_ids(operator=operator)))


@require_GET
@operator_required
def conversation_detail(request, conversation_id: int):
    """The conversation and its newest messages; ?after=N: those after id N (after a reconnect); ?before=N:
    the page before id N (scrolling back)."""
    conversation = _conversation_or_404(request, conversation_id)
    messages, has_earlier = selectors.conversation_messages(
        conversation=conversation, after_id=_id_param(request, "after"), before_id=_id_param(request, "before")
    )
    payloads = [message_payload(m) for m in attachments_prefetch(messages)]
    if conversation.channel_kind in MAIL_KINDS:
        mail_details(payloads)
    return JsonResponse(
        {"conversation": conversation_payload(conversation), "messages": payloads, "has_earlier": has_earlier}
    )


@require_GET
@operator_required
def contact_panel(request, conversation_id: int):
    """The right-hand column, rendered on the server (every value autoescaped)."""
    conversation = _conversation_or_404(request, conversation_id)
    contact = conversation.contact
    earlier = selectors.contact_earlier_conversations(conversation=conversation)
    surveys = []
    for c in [conversation, *earlier]:
        result = survey_results_for_conversation(conversation=c)
        if result and result["answers"]:
            surveys.append({**result, "requested_at": c.requested_at})
    context = {
        "conversation": conversation,
        "contact": contact,
        # Only web addresses become links; anything else a visitor sent is shown as text.
        "safe_page_url": contact.last_page_url.lower().startswith(("http://", "https://")),
        "earlier_conversations": earlier,
        "surveys": surveys,
        "tickets": selectors.contact_tickets(conversation=conversation),
    }
    return render(request, "chat/_contact.html", context)


@require_POST
@operator_required
def contact_notes(request, conversation_id: int):
    conversation = _conversation_or_404(request, conversation_id)
    notes = _json_body(request).get("notes", "")
    if not isinstance(notes, str):
        return _error(_("Notes must be text."), field="notes")
    try:
        contact = contact_update_notes(contact=conversation.contact, notes=notes)
    except ContactNotesTooLong as exc:
        return _error(str(exc), field="notes")
    return JsonResponse({"notes": contact.notes})


@require_GET
@operator_required
def transfer_targets(request, conversation_id: int):
    conversation = _conversation_or_404(request, conversation_id)
    return JsonResponse(selectors.transfer_targets(operator=request.operator, conversation=conversation))


@require_GET
@operator_required
def canned_replies(request):
    replies = selectors.canned_replies_search(
        operator=request.operator, query=request.GET.get("q", "")[:100], inbox_id=_id_param(request, "inbox")
    )
    return JsonResponse(
        {
            "results": [
                {"id": r.pk, "shortcut": r.shortcut, "title": r.title, "body": r.body, "language": r.language}
                for r in replies
            ]
        }
    )


@require_GET
@operator_required
def search(request):
    """Conversations of my inboxes, open or ended, matching ?q= (chat.search_selectors), best first; each with what
    matched as text pieces, the matched ones marked, for the page to write as text."""
    query = request.GET.get("q", "")
    try:
        hits = conversation_search(operator=request.operator, query=query)
    except QueryTooShort:
        count = local_numbers(str(MIN_QUERY_CHARS))
        message = _("Type at least %(count)s letters or a ticket number.") % {"count": count}
        return JsonResponse({"results": [], "message": message})
    return JsonResponse({"results": [_search_result(hit) for hit in hits], "message": ""})


def _search_result(hit) -> dict:
    conversation = hit.conversation
    return {
        "id": conversation.pk,
        "inbox_id": conversation.inbox_id,
        "status": conversation.status,
        "end_reason": conversation.end_reason,
        "channel_kind": conversation.channel_kind,
        "ticket_id": conversation.ticket_id,
        "contact": {"id": conversation.contact_id, "name": conversation.contact.name},
        "last_activity_at": iso(conversation.last_message_at or conversation.requested_at),
        "match": {
            "field": hit.field,
            "segments": [{"text": text, "match": matched} for text, matched in hit.segments],
            "private": hit.private,
            "sender": hit.sender,
        },
    }


@require_http_methods(["GET", "POST"])
@operator_required
def profile(request):
    """The signed-in operator's display name and photo."""
    operator = request.operator
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            operator_profile_update(
                profile=operator,
                display_name=form.cleaned_data["display_name"],
                avatar_png=form.cleaned_data["avatar"],
                remove_avatar=form.cleaned_data["remove_avatar"],
            )
            messages.success(request, _("Your profile is saved."))
            return redirect("inbox-profile")
    else:
        form = ProfileForm(initial={"display_name": operator.display_name})
    context = {
        "operator": operator,
        "form": form,
        "avatar_url": avatar_url(operator),
        "initials": initials(operator.display_name),
        "colour": colour_for(operator.user_id),
    }
    return render(request, "chat/profile.html", context)


@require_GET
def operator_avatar(request, user_id: int, digest: str):
    """An operator's current avatar, public (the widget shows it on other sites) but only at the address of its
    content's hash: a replaced or removed avatar's address answers 404."""
    operator = OperatorProfile.objects.filter(user_id=user_id).only("user_id", "avatar").first()
    if operator is None or avatar_digest(operator) != digest:
        raise Http404(_("No such avatar."))
    try:
        with operator.avatar.open("rb") as file:
            data = file.read()
    except FileNotFoundError as exc:
        raise Http404(_("No such avatar.")) from exc
    response = HttpResponse(data, content_type="image/png")
    # The address changes with the picture, so the picture at an address never does.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@require_POST
@operator_required
def attachment_upload_view(request, conversation_id: int):
    """An operator's upload for a conversation of her inboxes (multipart `file`, with CSRF): unsent until her
    `message.send` names it."""
    conversation = _conversation_or_404(request, conversation_id)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"file": [_("Choose a file.")], "code": "invalid"}, status=400)
    try:
        attachment = attachment_upload(inbox=conversation.inbox, upload=upload, user=request.user)
    except AttachmentRefused as exc:
        return JsonResponse({"file": [str(exc)], "code": exc.code}, status=400)
    return JsonResponse(
        attachment_links.attachment_payload(attachment, audience=attachment_links.OPERATORS), status=201
    )


@require_GET
def attachment_file(request, token: str):
    """An attachment (or its thumbnail) at a signed, expiring address; anything else is a 404."""
    grant = attachment_links.grant_read(token)
    attachment = selectors.attachment_for_grant(user=request.user, grant=grant) if grant is not None else None
    if attachment is None:
        raise Http404(_("No such attachment, or its link has expired."))
    field = attachment.thumbnail if grant.thumbnail and attachment.thumbnail else attachment.file
    thumbnail = field is attachment.thumbnail
    content_type = (
        ("image/jpeg" if field.name.endswith(".jpg") else "image/png") if thumbnail else attachment.content_type
    )
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("No such attachment, or its link has expired.")) from exc
    response = FileResponse(
        handle, as_attachment=not attachment.is_image, filename=attachment.name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # The widget shows images on the customer's site; the address itself is the permission.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Cache-Control"] = "private, max-age=3600"
    response["Referrer-Policy"] = "no-referrer"
    return response
