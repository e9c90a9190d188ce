from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    name = "onething.ratings"
    label = "ratings"
    verbose_name = _("Ratings (好差评)")

    def ready(self) -> None:
        from onething.ratings import subscribers  # noqa: F401
