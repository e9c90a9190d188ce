from django.urls import path

from onething.certificates import views

app_name = "certificates"

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("verify/", views.verify_form, name="verify"),
    path("verify/<str:code>", views.verify_code, name="verify-code"),
    path("verify/<str:code>/", views.verify_code),
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/<str:code>/", views.wallet_certificate, name="wallet-certificate"),
    path("certificates/", views.manage, name="manage"),
    path("certificates/<str:code>/", views.manage_certificate, name="manage-certificate"),
    path("certificates/<str:code>/revoke/", views.manage_revoke, name="manage-revoke"),
]
