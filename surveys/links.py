"""Signed public links to a survey: the URL carries the invitation's token signed with the site's secret."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "surveys.link"


def survey_link_sign(token: str) -> str:
    return signing.Signer(salt=_SALT).sign(token)


def survey_link_unsign(signed: str) -> str:
    """The invitation token inside a signed link; raises signing.BadSignature when it was altered."""
    return signing.Signer(salt=_SALT).unsign(signed)


def survey_page_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("surveys:page", args=[survey_link_sign(token)])


def survey_opt_out_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("surveys:opt-out", args=[survey_link_sign(token)])
