from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class SupportdeskConfig(AppConfig):
    default = True
    name = "supportdesk"
    verbose_name = _("Supportdesk")


class SupportdeskAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "supportdesk.sites.SupportdeskAdminSite"
