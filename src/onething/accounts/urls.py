from django.urls import path

from onething.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("login/<slug:provider>/", views.sign_in_with, name="login-with"),
]
