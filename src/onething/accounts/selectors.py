"""Who may do what: role and scope look-ups, used by services and selectors (never templates)."""

from __future__ import annotations

from onething.accounts.models import Enterprise, Role, RoleAssignment, User


def has_role(user, role: Role | str) -> bool:
    if not getattr(user, "pk", None):
        return False
    return RoleAssignment.objects.filter(user=user, role=role).exists()


def reviewer_scopes(user) -> list[tuple[int, int | None]]:
    """(department id, region id or None) for every reviewer role of the user."""
    if not getattr(user, "pk", None):
        return []
    return list(
        RoleAssignment.objects.filter(user=user, role=Role.REVIEWER).values_list(
            "department_id", "region_id"
        )
    )


def is_applicant(user) -> bool:
    return bool(getattr(user, "pk", None)) and user.kind == User.Kind.PERSON


def enterprise_for(user, uscc: str) -> Enterprise | None:
    """The enterprise the user may act for, by its credit code."""
    return Enterprise.objects.filter(uscc=uscc, agents=user).first()
