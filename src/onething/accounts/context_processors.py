"""What every page needs to know about the signed-in user's roles, to offer the right links.

Links only: every page and service checks the role again (never trust the menu)."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from onething.accounts.models import Role, RoleAssignment


def roles(request) -> dict:
    def assigned() -> frozenset[str]:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return frozenset()
        return frozenset(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))

    lazy = SimpleLazyObject(assigned)
    return {
        "user_roles": lazy,
        "ROLE_WINDOW_CLERK": Role.WINDOW_CLERK.value,
        "ROLE_REVIEWER": Role.REVIEWER.value,
        "ROLE_SUPERVISOR": Role.SUPERVISOR.value,
        "ROLE_ADMINISTRATOR": Role.ADMINISTRATOR.value,
    }
