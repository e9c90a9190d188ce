from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "onething.sharing"
    verbose_name = _("Data sharing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The connectors register themselves on import.
        from onething.sharing.connectors import (  # noqa: F401
            certificates,
            http_json,
            table,
        )
