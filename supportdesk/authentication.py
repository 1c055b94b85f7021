"""`Authorization: Bearer <token>` for the REST API, with the personal tokens of supportdesk.models.ApiToken."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from supportdesk.services import api_token_user


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: the session may still authenticate the request
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send one token: “Authorization: Bearer <token>”."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from None
        user = api_token_user(raw=raw)
        if user is None:
            raise exceptions.AuthenticationFailed(_("This token is not valid, or was revoked."))
        return user, None

    def authenticate_header(self, request) -> str:
        # A 401 that names the scheme: tools learn how to authenticate.
        return self.keyword
