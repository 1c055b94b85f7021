from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Live chat")

    def ready(self):
        from corsheaders.signals import check_request_enabled

        from chat.api import widget_origin_allowed

        # Connected here, not when the URLconf loads: the very first preflight must already be answered.
        check_request_enabled.connect(widget_origin_allowed, dispatch_uid="chat.widget_origin_allowed")
