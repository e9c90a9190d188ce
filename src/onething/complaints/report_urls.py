"""The hotline's report pages, mounted under /hotline/."""

from django.urls import path

from onething.complaints import report_views

app_name = "hotline_reports"

urlpatterns = [
    path("rates/", report_views.rates, name="rates"),
    path("hot-spots/", report_views.hot_spots, name="hot-spots"),
    path(
        "hot-spots/<int:hot_spot_id>/acknowledge/",
        report_views.hot_spot_acknowledge,
        name="hot-spot-acknowledge",
    ),
]
