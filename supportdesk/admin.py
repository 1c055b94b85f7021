"""The admin site: configuration for managers, and (supportdesk.reports) the report pages."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class SupportdeskAdminSite(admin.AdminSite):
    site_header = _("Supportdesk administration")
    site_title = _("Supportdesk")
    index_title = _("Configuration and reports")
