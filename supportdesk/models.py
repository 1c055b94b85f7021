"""The permission that opens the reports to staff, and the API tokens that tools read them with."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """Unmanaged and never queried: it carries the `supportdesk.view_reports` permission (superusers have it)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", _("Can view the manager reports"))]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class ApiToken(models.Model):
    """A personal token for tools that read the reports API (`Authorization: Bearer …`).

    Only a hash is stored: the token is shown once, when it is made (supportdesk.services.api_token_create).
    It acts as its user, so it can do no more than they may, and nothing once they lose the permission.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. “BI dashboard”."))
    prefix = models.CharField(_("prefix"), max_length=16, editable=False, help_text=_("Its first characters."))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
