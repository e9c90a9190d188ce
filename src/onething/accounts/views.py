"""Sign-in, sign-out and the signed-in person's account page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from onething.accounts.models import User
from onething.core.masking import mask


class SignInForm(AuthenticationForm):
    """Django's form, with our own wording of what went wrong."""

    error_messages = {
        "invalid_login": _("The username or password is wrong. Check both and try again."),
        "inactive": _("This account is disabled. Ask the service desk to enable it."),
    }


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
        from onething.accounts.identity import enabled_providers

        return super().get_context_data(
            identity_providers=enabled_providers(),
            failure_limit=getattr(settings, "AXES_FAILURE_LIMIT", 5),
            # A number of hours in our settings; other forms (callables) are not announced.
            cooloff_minutes=round(cooloff * 60) if isinstance(cooloff, int | float) else None,
            **kwargs,
        )

    def form_invalid(self, form):
        # django-axes flags the request when these credentials are locked out, and its
        # middleware would then replace our page with its own untranslated text. Clear the
        # flag and say it ourselves: the lock itself is kept by axes in the database.
        if getattr(self.request, "axes_locked_out", False):
            self.request.axes_locked_out = False
            context = self.get_context_data(form=form, locked_out=True)
            return self.render_to_response(
                context, status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
            )
        return super().form_invalid(form)

    def get_default_redirect_url(self):
        """Staff start at their workbench, applicants at their applications."""
        if self.request.user.is_authenticated and self.request.user.kind == User.Kind.STAFF:
            return reverse("applications:workbench")
        return reverse("applications:list")


def sign_in_with(request: HttpRequest, provider: str) -> HttpResponse:
    """Sign an applicant in through an identity provider (real-name platform, later OIDC)."""
    from django.contrib.auth import login
    from django.http import Http404
    from django.shortcuts import redirect
    from django.utils.http import url_has_allowed_host_and_scheme

    from onething.accounts.identity import enabled_providers

    chosen = next((p for p in enabled_providers() if p.name == provider), None)
    if chosen is None:
        raise Http404
    form = chosen.form_class(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        user = chosen.authenticate(form.cleaned_data)
        if user is not None:
            from onething.accounts.services import user_real_name_verified

            user_real_name_verified(actor=f"identity:{chosen.name}", user=user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            target = request.POST.get("next", "")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = reverse("applications:list")
            return redirect(target)
        error = _("No resident with this name and ID number is known to the identity platform.")
    return render(
        request,
        "accounts/identity.html",
        {"provider": chosen, "form": form, "error": error, "next": request.GET.get("next", "")},
        status=401 if error else 200,
    )


class SignOutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires); back to the home page."""


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/account.html",
        {
            "id_number": mask(user.id_number),
            "phone": mask(user.phone, keep_start=3, keep_end=4),
            "enterprises": list(user.enterprises.all()),
            "roles": list(user.roles.select_related("department", "region")),
        },
    )
