"""How applicants prove who they are: pluggable identity providers.

Staff sign in with a username and password (with brute-force lock-out). Applicants are
real-name accounts; in production a provincial identity platform (an OIDC provider, such as the
province's e-government app) vouches for them. Each way of signing in is an `IdentityProvider`
in a registry, switched on with ONETHING_IDENTITY_PROVIDERS. Shipped here: `demo_realname`, a
stand-in for the real-name platform that checks a name and a resident ID number against the
synthetic population (never enable it in production).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from onething.accounts.models import User
from onething.core.registry import Registry


@dataclass(frozen=True)
class IdentityProvider:
    name: str
    label: Any
    form_class: type[forms.Form]

    def authenticate(self, cleaned: dict[str, Any]) -> User | None:  # pragma: no cover
        raise NotImplementedError


identity_providers: Registry[IdentityProvider] = Registry("identity provider")


def enabled_providers() -> list[IdentityProvider]:
    return [
        identity_providers[name]
        for name in settings.ONETHING_IDENTITY_PROVIDERS
        if name in identity_providers
    ]


class RealNameForm(forms.Form):
    real_name = forms.CharField(label=_("Name"), max_length=100)
    id_number = forms.CharField(label=_("Resident ID number"), max_length=18, min_length=18)

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"].strip().upper()
        try:
            return ric.validate(value)
        except StdnumError:
            raise forms.ValidationError(
                _("This is not a valid resident ID number (check the last character).")
            ) from None


class DemoRealNameProvider(IdentityProvider):
    """A person is who the (synthetic) population register says: name and ID number match."""

    def authenticate(self, cleaned: dict[str, Any]) -> User | None:
        return User.objects.filter(
            kind=User.Kind.PERSON,
            is_active=True,
            id_number=cleaned["id_number"],
            real_name=cleaned["real_name"].strip(),
        ).first()


identity_providers.register("demo_realname")(
    DemoRealNameProvider(
        name="demo_realname",
        label=_("Real-name identity (demo stand-in for the provincial platform)"),
        form_class=RealNameForm,
    )
)
