"""Factories for people, enterprises and staff, with valid identifiers."""

from __future__ import annotations

import itertools
from datetime import date

import factory
from stdnum.cn import ric, uscc

from onething.accounts.models import Enterprise, EnterpriseAgent, Role, RoleAssignment, User

_sequence = itertools.count(1)


def make_ric(region: str = "350203", birth: date = date(1990, 3, 7), serial: int | None = None):
    """A resident ID number with a correct check digit (ISO 7064 MOD 11-2)."""
    serial = next(_sequence) % 1000 if serial is None else serial
    body = f"{region}{birth:%Y%m%d}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_uscc(serial: int | None = None) -> str:
    serial = next(_sequence) if serial is None else serial
    body = f"91350200MA{serial:07d}"[:17]
    return body + uscc.calc_check_digit(body)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"person{n}")
    kind = User.Kind.PERSON
    real_name = factory.Sequence(lambda n: f"林{n}")
    id_number = factory.LazyFunction(make_ric)
    phone = "13800138000"
    password = factory.django.Password("pw-person-1234")


class StaffFactory(PersonFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    kind = User.Kind.STAFF
    id_number = ""


def id_card_issue(holder: User, data: dict, *, actor: str = "test"):
    """A resident ID e-certificate for `holder`, issued by its department with `data` (the demo
    and the tests name its fields in more than one way)."""
    from onething.catalog.models import CertificateType
    from onething.certificates.services import certificate_issue

    id_card = CertificateType.objects.get(code="resident_id_card")
    return certificate_issue(
        actor=actor, certificate_type=id_card, holder=holder, issuer=id_card.issuer, data=data
    )


def reviewer(department_code: str, **extra) -> User:
    from onething.catalog.models import Department

    user = StaffFactory(**extra)
    RoleAssignment.objects.create(
        user=user, role=Role.REVIEWER, department=Department.objects.get(code=department_code)
    )
    return user


def role_grant(
    user: User, role: Role | str, *, department: str | None = None, region: str | None = None
) -> RoleAssignment:
    """Give `user` a role, scoped to a department and a region by their codes (None: any)."""
    from onething.catalog.models import Department, Region
    from onething.complaints.selectors import forget_ticket_oversight

    assignment = RoleAssignment.objects.create(
        user=user,
        role=role,
        department=Department.objects.get(code=department) if department else None,
        region=Region.objects.get(code=region) if region else None,
    )
    # As the next request would, the user object sees its new role at once.
    forget_ticket_oversight(user)
    return assignment


def staff_with(
    role: Role | str, *, department: str | None = None, region: str | None = None, **fields
) -> User:
    """A member of staff holding one role (see role_grant); `fields` go to StaffFactory."""
    user = StaffFactory(**fields)
    role_grant(user, role, department=department, region=region)
    return user


def enterprise_with_agent(agent: User, name: str = "厦门鹭味餐饮有限公司") -> Enterprise:
    enterprise = Enterprise.objects.create(uscc=make_uscc(), name=name)
    EnterpriseAgent.objects.create(user=agent, enterprise=enterprise, is_legal_representative=True)
    return enterprise
