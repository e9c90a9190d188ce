from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "onething.complaints"
    label = "complaints"
    verbose_name = _("Hotline complaints")

    def ready(self) -> None:
        # Subscribing to the ticket events and is importing the module.
        from onething.complaints import subscribers  # noqa: F401
