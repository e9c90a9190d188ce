from django.urls import path

from onething.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("things/<slug:code>/", views.thing_page, name="thing"),
    path("things/<slug:code>/plan/", views.thing_plan_fragment, name="thing-plan"),
    path("things/<slug:code>/notice/", views.thing_notice, name="thing-notice"),
    path("services/", views.service_list, name="services"),
    path("services/<slug:code>/", views.service_page, name="service"),
]
