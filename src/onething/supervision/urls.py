from django.urls import path

from onething.supervision import views

app_name = "supervision"

urlpatterns = [
    path("supervision/", views.dashboard_page, name="dashboard"),
    path("supervision/exports/", views.exports_page, name="exports"),
    path(
        "supervision/reports/<str:region>/<str:month>/",
        views.monthly_report_page,
        name="monthly-report",
    ),
    path("service-quality/", views.service_quality_page, name="service-quality"),
    path("supervision/exports/cases.csv", views.export_cases, name="export-cases"),
    path("supervision/exports/data-uses.csv", views.export_data_uses, name="export-data-uses"),
    path(
        "supervision/charts/<slug:key>.csv",
        views.export_chart,
        {"fmt": "csv"},
        name="chart-csv",
    ),
    path(
        "supervision/charts/<slug:key>.xlsx",
        views.export_chart,
        {"fmt": "xlsx"},
        name="chart-xlsx",
    ),
]
