"""No tables: only the permission that opens the reports to staff."""

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
