from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Live chat")

    def ready(self) -> None:
        from chat import (
            signals,  # noqa: F401 — connects the receivers
            snapshots,
        )

        snapshots.connect_receivers()
