from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "onething.certificates"
    verbose_name = _("E-certificates")
    default_auto_field = "django.db.models.BigAutoField"
