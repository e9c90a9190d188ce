from django.urls import path

from onething.notifications import views

app_name = "notifications"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.mark_all_read, name="read-all"),
    path("inbox/<int:notification_id>/", views.open_notification, name="open"),
]
