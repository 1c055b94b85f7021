from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Live chat")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from chat import (
            search_index,
            signals,  # noqa: F401 — connects the receivers
            snapshots,
        )

        snapshots.connect_receivers()
        post_migrate.connect(search_index.ensure_after_migrate, sender=self, dispatch_uid="chat.search_index")
