from django.contrib import admin
from django.urls import include, path

from onething.api import api
from onething.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("open311/v2/", include("onething.complaints.open311_urls")),
    path("accounts/", include("onething.accounts.urls")),
    path("", include("onething.ratings.urls")),
    path("", include("onething.certificates.urls")),
    path("", include("onething.applications.urls")),
    path("", include("onething.catalog.urls")),
    path("", include("onething.notifications.urls")),
    path("", include("onething.sharing.urls")),
    path("", include("onething.supervision.urls")),
    path("hotline/", include("onething.complaints.report_urls")),
    path("", include("onething.complaints.urls")),
]

handler404 = "onething.core.views.not_found"
handler500 = "onething.core.views.server_error"
