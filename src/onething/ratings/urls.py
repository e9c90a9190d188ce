from django.urls import path

from onething.ratings import views

app_name = "ratings"

urlpatterns = [
    path("applications/<str:reference>/rating/", views.rate_application, name="application"),
    path("hotline/my/<str:reference>/rating/", views.rate_ticket, name="ticket"),
    path("my/rectifications/", views.my_rectifications, name="my-list"),
    path("my/rectifications/<str:public_id>/", views.my_rectification, name="mine"),
    path("workbench/rectifications/", views.department_list, name="department"),
    path(
        "workbench/rectifications/<str:public_id>/",
        views.rectification_page,
        name="rectification",
    ),
    path("supervision/rectifications/", views.escalated_list, name="escalated"),
]
