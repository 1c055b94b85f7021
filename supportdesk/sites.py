"""The admin site: configuration for managers, and (supportdesk.reports) the report pages."""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class SupportdeskAdminSite(admin.AdminSite):
    site_header = _("Supportdesk administration")
    site_title = _("Supportdesk")
    index_title = _("Configuration and reports")

    def get_urls(self):
        from supportdesk.reports.views import report_urls

        return report_urls(self) + super().get_urls()

    def get_app_list(self, request, app_label=None):
        """The apps, and a Reports section first for staff who may read the reports."""
        from supportdesk.reports.views import PERMISSION

        apps = super().get_app_list(request, app_label)
        if app_label is None and request.user.has_perm(PERMISSION):
            url = reverse("admin:reports-dashboard", current_app=self.name)
            apps.insert(
                0,
                {
                    "name": _("Reports"),
                    "app_label": "reports",
                    "app_url": url,
                    "has_module_perms": True,
                    "models": [
                        {
                            "name": _("Dashboard: FRT, FCR, abandonment, CSAT, CES, NPS"),
                            "object_name": "ReportDashboard",
                            "admin_url": url,
                            "view_only": True,
                            "perms": {"view": True},
                        }
                    ],
                },
            )
        return apps
