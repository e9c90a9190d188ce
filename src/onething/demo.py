"""What `onething demo` puts in a fresh data folder: the demo catalog, a small synthetic
population with valid identifiers, staff for every role, and the department simulator's address.

Everything here is idempotent: a second run finds the rows and changes nothing.
All people are invented; their ID numbers are valid in form only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric, uscc

from onething.accounts.models import Enterprise, EnterpriseAgent, Role, RoleAssignment
from onething.applications.models import DepartmentEndpoint
from onething.catalog.models import Department, Region, Service
from onething.catalog.services import LoadReport, catalog_load
from onething.catalog.validation import read_catalog

DEMO_PASSWORD = "onething-demo"  # noqa: S105 - printed to the demo user on purpose


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    where: str


@dataclass(frozen=True)
class DemoPerson:
    username: str
    real_name: str
    region: str
    birth: date
    serial: int
    phone: str
    story: str


def resident_id(region: str, birth: date, serial: int) -> str:
    """A resident ID number with a correct check digit (GB 11643, ISO 7064 MOD 11-2)."""
    body = f"{region}{birth:%Y%m%d}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(body17: str) -> str:
    """A unified social credit code with a correct check digit (GB 32100)."""
    return body17 + uscc.calc_check_digit(body17)


POPULATION = (
    DemoPerson(
        "linxiaoyan",
        "林晓燕",
        "350203",
        date(1994, 6, 12),
        124,
        "13906001234",
        "mother of a newborn (insured through her employer)",
    ),
    DemoPerson(
        "chenjianguo",
        "陈建国",
        "350203",
        date(1992, 2, 3),
        135,
        "13906005678",
        "her husband, the newborn's father",
    ),
    # Older people carry the code of where they were registered when today's district did not
    # exist yet (闽侯县 350121, 厦门市 350200): stdnum checks the code against the birth date.
    DemoPerson(
        "wangxiuying",
        "王秀英",
        "350121",
        date(1966, 11, 20),
        246,
        "13705911122",
        "retiring this year",
    ),
    DemoPerson(
        "huangzhiqiang",
        "黄志强",
        "350200",
        date(1970, 4, 8),
        357,
        "13805913344",
        "his father died last week",
    ),
    DemoPerson(
        "zhangwei", "张伟", "350203", date(1985, 9, 30), 468, "15980005566", "opening a restaurant"
    ),
    DemoPerson(
        "lina",
        "李娜",
        "350102",
        date(1988, 1, 15),
        572,
        "18650007788",
        "runs a technology company that is moving",
    ),
    DemoPerson(
        "zhoumin",
        "周敏",
        "350206",
        date(1990, 7, 22),
        683,
        "13459009900",
        "buying a second-hand flat",
    ),
)

ENTERPRISES = (
    ("91350206MA8RW2Q3X", "厦门鹭味餐饮有限公司", "350206", "zhangwei"),
    ("91350102MA2YK7L5A", "福州闽江数字科技有限公司", "350102", "lina"),
)

STAFF = (
    ("clerk", "窗口 郑丽", Role.WINDOW_CLERK, None),
    ("supervisor", "督查 吴刚", Role.SUPERVISOR, None),
)


@functools.cache
def _demo_password_hash() -> str:
    # One slow hash for the thirty-odd demo accounts that share the demo password.
    return make_password(DEMO_PASSWORD)


def _person(user_model, person: DemoPerson):
    user, created = user_model.objects.get_or_create(
        username=person.username,
        defaults={
            "kind": user_model.Kind.PERSON,
            "real_name": person.real_name,
            "id_number": resident_id(person.region, person.birth, person.serial),
            "id_verified_at": timezone.now(),
            "phone": person.phone,
        },
    )
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
        RoleAssignment.objects.get_or_create(user=user, role=Role.APPLICANT)
    return user


def _staff(user_model, username: str, real_name: str, role: str, department=None):
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={"kind": user_model.Kind.STAFF, "real_name": real_name, "is_staff": False},
    )
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    RoleAssignment.objects.get_or_create(user=user, role=role, department=department)
    return user


@transaction.atomic
def demo_prepare(
    *, simulator_url: str | None = None, simulator_secret: str = ""
) -> tuple[LoadReport, tuple[DemoLogin, ...]]:
    """Load the catalog, the population, staff and connector endpoints; return the logins."""
    report = catalog_load(actor="demo", catalog=read_catalog([settings.CATALOG_DEFINITIONS_DIR]))
    users = get_user_model()
    admin, created = users.objects.get_or_create(
        username="admin",
        defaults={
            "kind": users.Kind.STAFF,
            "is_staff": True,
            "is_superuser": True,
            "real_name": "管理员",
        },
    )
    if created:
        admin.password = _demo_password_hash()
        admin.save(update_fields=["password"])
    RoleAssignment.objects.get_or_create(user=admin, role=Role.ADMINISTRATOR)
    people = {p.username: _person(users, p) for p in POPULATION}
    for code, name, region, agent in ENTERPRISES:
        enterprise, _ = Enterprise.objects.get_or_create(
            uscc=credit_code(code[:17]),
            defaults={"name": name, "region": Region.objects.filter(code=region).first()},
        )
        EnterpriseAgent.objects.get_or_create(
            user=people[agent],
            enterprise=enterprise,
            defaults={"is_legal_representative": True},
        )
    for username, real_name, role, _department in STAFF:
        _staff(users, username, real_name, role)
    for department in Department.objects.all():
        _staff(
            users,
            f"reviewer_{department.code}",
            f"{department.name_zh} 审核员",
            Role.REVIEWER,
            department,
        )
    if simulator_url:
        connector_departments = Department.objects.filter(services__handler="connector").distinct()
        for department in connector_departments:
            DepartmentEndpoint.objects.update_or_create(
                department=department,
                defaults={"base_url": simulator_url, "secret": simulator_secret},
            )
    logins = (
        DemoLogin("catalog administrator", "admin", DEMO_PASSWORD, "/admin/"),
        DemoLogin("applicant (newborn)", "linxiaoyan", DEMO_PASSWORD, "/"),
        DemoLogin("applicant (restaurant)", "zhangwei", DEMO_PASSWORD, "/"),
        DemoLogin(
            "reviewer, health commission", "reviewer_fj_health", DEMO_PASSWORD, "/workbench/"
        ),
        DemoLogin(
            "reviewer, public security", "reviewer_fj_public_security", DEMO_PASSWORD, "/workbench/"
        ),
        DemoLogin("window clerk", "clerk", DEMO_PASSWORD, "/workbench/"),
        DemoLogin("supervisor", "supervisor", DEMO_PASSWORD, "/"),
    )
    return report, logins


def connector_services() -> list[str]:
    return list(Service.objects.filter(handler="connector").values_list("code", flat=True))
