"""The widget's HTTP API (protocol.md): one small view per operation, thin over chat.services.

CORS: django-cors-headers answers only for origins some active inbox allows (chat.middleware); each view then
checks the Origin against the inbox the request names, so a page allowed for one inbox cannot use another.
"""

from __future__ import annotations

import hmac
import json
import time

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import attachment_links, realtime, selectors
from chat.models import Inbox
from chat.services import ratelimits
from chat.services.attachments import AttachmentRefused, attachment_upload
from chat.services.visitors import (
    offline_message_create,
    visitor_contact_for_token,
    visitor_session_start,
    visitor_token_read,
)
from mail.emails import expected_answer_text

LOOPBACK = {"127.0.0.1", "::1"}
PAGE_URL_MAX_CHARS = 2000


def _inbox_for(request, site_key: str) -> Inbox:
    inbox = selectors.active_inbox(site_key)
    if inbox is None:
        raise NotFound(_("There is no chat with this site key."))
    origin = request.headers.get("Origin")
    # Browsers always send Origin on these cross-site calls; a server-side caller has none to check.
    if origin is not None and not selectors.origin_allowed(inbox, origin):
        raise PermissionDenied(_("This website may not use this chat."))
    return inbox


class RateLimited(APIException):
    """429; DRF turns `wait` into the Retry-After header (its own Throttled appends English to the detail)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"

    def __init__(self, wait: int):
        super().__init__(detail=ratelimits.rate_limited_detail(wait))
        self.wait = wait


def _check_rate(request, action: ratelimits.Action, site_key: str) -> None:
    """429 with Retry-After once this address, or everyone on this site, has done `action` too often."""
    retry_after = ratelimits.rate_limit_hit(
        action=action, address=ratelimits.client_address_of_request(request), site_key=site_key
    )
    if retry_after is not None:
        raise RateLimited(retry_after)


class _WidgetApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def handle_exception(self, exc):
        # A service that would have made one contact too many for this address or site (NEW_CONTACTS_PER_*).
        if isinstance(exc, ratelimits.RateLimitedError):
            exc = RateLimited(exc.retry_after)
        return super().handle_exception(exc)


class WidgetSessionApi(_WidgetApi):
    """POST {site_key, visitor_token?, name?, email?, locale?, page_url?} → {visitor_token, contact, config}."""

    class InputSerializer(serializers.Serializer):
        site_key = serializers.CharField(max_length=64)
        visitor_token = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True)
        name = serializers.CharField(max_length=120, required=False, allow_blank=True)
        email = serializers.EmailField(required=False, allow_blank=True)
        locale = serializers.CharField(max_length=16, required=False, allow_blank=True)
        page_url = serializers.CharField(required=False, allow_blank=True)

        def validate_page_url(self, value: str) -> str:
            # Only a note on the contact: a page address Django's validator refuses (an underscore in the
            # host, say) is dropped rather than failing the visitor's whole session.
            try:
                URLValidator()(value)
            except DjangoValidationError:
                return ""
            return value if len(value) <= PAGE_URL_MAX_CHARS else ""

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _check_rate(request, ratelimits.SESSION, data["site_key"])
        inbox = _inbox_for(request, data["site_key"])
        contact, token = visitor_session_start(
            inbox=inbox,
            visitor_token=data.get("visitor_token"),
            address=ratelimits.client_address_of_request(request),
            name=data.get("name", ""),
            email=data.get("email", ""),
            locale=data.get("locale", ""),
            page_url=data.get("page_url", ""),
        )
        return Response(
            {
                "visitor_token": token,
                "contact": selectors.contact_payload(contact),
                "config": selectors.widget_config(inbox),
            }
        )


class WidgetOfflineMessageApi(_WidgetApi):
    """POST {site_key, visitor_token?, name?, email, body} → 201 {ticket_id, visitor_token, contact,
    expected_answer_at, expected_answer}."""

    class InputSerializer(serializers.Serializer):
        site_key = serializers.CharField(max_length=64)
        visitor_token = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True)
        name = serializers.CharField(max_length=120, required=False, allow_blank=True)
        email = serializers.EmailField()
        body = serializers.CharField(max_length=settings.MESSAGE_MAX_CHARS)

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _check_rate(request, ratelimits.OFFLINE_MESSAGE, data["site_key"])
        inbox = _inbox_for(request, data["site_key"])
        contact, token = visitor_contact_for_token(
            inbox=inbox,
            visitor_token=data.get("visitor_token"),
            address=ratelimits.client_address_of_request(request),
        )
        ticket = offline_message_create(
            inbox=inbox, contact=contact, name=data.get("name", ""), email=data["email"], body=data["body"]
        )
        return Response(
            {
                "ticket_id": ticket.pk,
                "visitor_token": token,
                "contact": selectors.contact_payload(contact),
                # When an answer can be expected: the ticket's first-response due time, and that said in words.
                "expected_answer_at": selectors.iso(ticket.first_response_due_at),
                "expected_answer": expected_answer_text(ticket, contact),
            },
            status=status.HTTP_201_CREATED,
        )


class WidgetUploadApi(_WidgetApi):
    """POST multipart {site_key, visitor_token, file} → 201 {attachment} (unsent until a message.send names it)."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        site_key = serializers.CharField(max_length=64)
        visitor_token = serializers.CharField(max_length=500)
        file = serializers.FileField(allow_empty_file=False, max_length=1000)

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _check_rate(request, ratelimits.UPLOAD, data["site_key"])
        inbox = _inbox_for(request, data["site_key"])
        visitor = visitor_token_read(inbox=inbox, token=data["visitor_token"])
        if visitor is None:
            # Uploads are kept for a visitor the desk knows: a forged or expired token gets none.
            raise PermissionDenied(_("Start the chat again before attaching files."))
        try:
            attachment = attachment_upload(inbox=inbox, upload=data["file"], visitor_id=visitor.visitor_id)
        except AttachmentRefused as exc:
            return Response({"file": [str(exc)], "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            attachment_links.attachment_payload(attachment, audience=attachment_links.VISITOR),
            status=status.HTTP_201_CREATED,
        )


@csrf_exempt
async def realtime_bridge(request):
    """Performs a group send for a process that cannot reach this server's in-memory channel layer.

    Loopback only, signed with this installation's key (realtime.bridge_signature), fresh, and once: a post sent
    again, even within its freshness window, is refused.
    """
    if request.method != "POST":
        return HttpResponse(status=405)
    if request.META.get("REMOTE_ADDR") not in LOOPBACK:
        return HttpResponse(status=403)
    signature = request.headers.get(realtime.BRIDGE_SIGNATURE_HEADER, "")
    if not hmac.compare_digest(signature, realtime.bridge_signature(request.body)):
        return HttpResponse(status=403)
    try:
        data = json.loads(request.body)
        group, frame, sent_at, nonce = str(data["group"]), dict(data["frame"]), float(data["ts"]), str(data["nonce"])
        inbox_id = int(data["inbox_id"]) if data.get("inbox_id") is not None else None
    except (ValueError, KeyError, TypeError):
        return HttpResponse(status=400)
    now = time.time()
    if abs(now - sent_at) > realtime.BRIDGE_MAX_AGE_SECONDS:
        return HttpResponse(status=403)
    if not realtime.bridge_nonce_unused(nonce, sent_at, now):
        return HttpResponse(status=403)
    await realtime.group_send_async(group, frame, inbox_id=inbox_id)
    return JsonResponse({"sent": True})
