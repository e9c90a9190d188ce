from django.urls import path

from onething.sharing import views

app_name = "sharing"

urlpatterns = [
    path("my-data/", views.my_data_uses, name="my-data-uses"),
    path("my-data/requests/<int:pk>/", views.answer_request, name="answer-request"),
]
