"""Who may do what: role and scope look-ups, used by services and selectors (never templates)."""

from __future__ import annotations

from dataclasses import dataclass

from onething.accounts.models import Enterprise, Role, RoleAssignment, User
from onething.core.regions import region_contains


def has_role(user, role: Role | str) -> bool:
    if not getattr(user, "pk", None):
        return False
    return RoleAssignment.objects.filter(user=user, role=role).exists()


@dataclass(frozen=True)
class CaseScope:
    """The cases one role of a member of staff reaches, and whether it works them or only reads.

    A reviewer works the cases of their department, limited to a region if the role names one;
    a supervisor reads those of their department (every one if none) and region (every one if
    none); an administrator reads them all. A region covers itself and every region inside it.
    """

    department_id: int | None
    region_code: str | None
    works: bool

    def covers(self, department_id: int, application_region_code: str | None) -> bool:
        if self.department_id is not None and self.department_id != department_id:
            return False
        if self.region_code is None:
            return True
        # An application whose region is not known lies in no particular region.
        return application_region_code is not None and region_contains(
            self.region_code, application_region_code
        )


def case_scopes(user) -> list[CaseScope]:
    """Every scope over cases the user's roles give (none for applicants and window clerks)."""
    if not getattr(user, "pk", None):
        return []
    roles = RoleAssignment.objects.filter(
        user=user, role__in=[Role.REVIEWER, Role.SUPERVISOR, Role.ADMINISTRATOR]
    ).values_list("role", "department_id", "region__code")
    scopes = []
    for role, department_id, region_code in roles:
        if role == Role.ADMINISTRATOR:
            scopes.append(CaseScope(department_id=None, region_code=None, works=False))
        else:
            scopes.append(
                CaseScope(
                    department_id=department_id,
                    region_code=region_code,
                    works=role == Role.REVIEWER,
                )
            )
    return scopes


@dataclass(frozen=True)
class Oversight:
    """What one supervisor role oversees: the work of a department (every one if None) in a
    region and the regions inside it (everywhere if None)."""

    department_id: int | None
    region_code: str | None

    def covers(self, department_id: int | None, region_code: str | None) -> bool:
        if self.department_id is not None and self.department_id != department_id:
            return False
        if self.region_code is None:
            return True
        # Work whose region is not known lies in no particular region.
        return bool(region_code) and region_contains(self.region_code, region_code)


def supervisor_oversight(user) -> tuple[Oversight, ...] | None:
    """What the user's supervisor and administrator roles oversee.

    None means everything: an administrator, or a supervisor whose role names neither a
    department nor a region. An empty tuple means nothing (no such role).
    """
    if not getattr(user, "pk", None):
        return ()
    roles = RoleAssignment.objects.filter(
        user=user, role__in=[Role.SUPERVISOR, Role.ADMINISTRATOR]
    ).values_list("role", "department_id", "region__code")
    found = []
    for role, department_id, region_code in roles:
        if role == Role.ADMINISTRATOR or (department_id is None and region_code is None):
            return None
        found.append(Oversight(department_id=department_id, region_code=region_code))
    return tuple(found)


def supervisors_over(department_id: int | None, region_code: str | None) -> list[int]:
    """The ids of the supervisors whose role oversees work of the department in the region
    (administrators oversee everything but are not told of every case)."""
    roles = RoleAssignment.objects.filter(role=Role.SUPERVISOR).values_list(
        "user_id", "department_id", "region__code"
    )
    return sorted(
        {
            user_id
            for user_id, own_department, own_region in roles
            if Oversight(own_department, own_region).covers(department_id, region_code)
        }
    )


def is_applicant(user) -> bool:
    return bool(getattr(user, "pk", None)) and user.kind == User.Kind.PERSON


def enterprise_for(user, uscc: str) -> Enterprise | None:
    """The enterprise the user may act for, by its credit code."""
    return Enterprise.objects.filter(uscc=uscc, agents=user).first()
