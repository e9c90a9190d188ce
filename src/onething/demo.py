"""What `onething demo` puts in a fresh data folder: the demo catalog, the demo registers (a
small synthetic population with valid identifiers: families with spouses, a newborn, a retiree, a
deceased person, restaurant owners, companies), logins for some of its people, staff for every
role, and the department simulator's address.

Everything here is idempotent: a second run finds the rows and changes nothing.
All people are invented; their ID numbers are valid in form only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from onething.accounts.models import Enterprise, EnterpriseAgent, Role, RoleAssignment
from onething.applications.models import DepartmentEndpoint
from onething.catalog.models import CertificateType, Department, Region, Service
from onething.catalog.services import LoadReport, catalog_load
from onething.catalog.validation import read_catalog
from onething.certificates.models import Certificate
from onething.certificates.services import certificate_issue
from onething.certificates.signing import platform_keys
from onething.complaints import services as hotline
from onething.complaints.models import Channel, Open311Client, Ticket, UnitMember
from onething.core.actors import SystemActor
from onething.ratings.demo import demo_seed_ratings
from onething.sharing.models import RegisterRecord
from onething.sharing.registers import read_registers
from onething.sharing.selectors import register_record
from onething.sharing.services import register_load
from onething.supervision import services as supervision

DEMO_PASSWORD = "onething-demo"  # noqa: S105 - printed to the demo user on purpose


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    where: str


@dataclass(frozen=True)
class DemoAccount:
    """A login for somebody in the demo's population register (demo_data/registers)."""

    username: str
    id_number: str
    phone: str
    story: str


DEMO_ACCOUNTS = (
    DemoAccount(
        "linxiaoyan", "350203199406121242", "13906001234", "mother of a daughter born last week"
    ),
    DemoAccount("chenjianguo", "35020319920203135X", "13906005678", "her husband, the father"),
    DemoAccount("wangxiuying", "350121196611202467", "13705911122", "retiring this year"),
    DemoAccount("huangzhiqiang", "350200197004083572", "13805913344", "his father died last week"),
    DemoAccount("zhangwei", "350203198509304696", "15980005566", "opening a restaurant"),
    DemoAccount("lina", "350102198801155729", "18650007788", "her technology company is moving"),
    DemoAccount("zhoumin", "350206199007226839", "13459009900", "buying a second-hand flat"),
)

XIAMEN_HEALTH_REVIEWER = "reviewer_fj_health_xiamen"

STAFF = (
    ("clerk", "窗口 郑丽", Role.WINDOW_CLERK, None),
    ("supervisor", "督查 吴刚", Role.SUPERVISOR, None),
)


# The 12345 hotline: an agent, staff of a few units of the dispatch catalogue, and a supervisor
# over Xiamen (the supervisor above oversees every region).
HOTLINE_AGENT = ("agent12345", "12345话务员 陈静")
HOTLINE_SUPERVISOR = ("supervisor_xiamen", "厦门督查 何平", "350200")
# (unit code, real name, the role printed with the logins; "": not printed)
HOTLINE_UNITS = (
    ("sm_zhonghua_police", "中华派出所 林警官", "unit: Zhonghua police station"),
    ("sm_housing", "思明区建设局 许工", "unit: Siming construction bureau"),
    ("sm_zhonghua_office", "中华街道 郑主任", "unit: Zhonghua street office"),
    ("sm_12345", "思明区派单席 苏敏", "unit: Siming 12345 dispatch desk"),
    ("sm_police", "思明分局 黄警官", ""),
    ("sm_urban_management", "思明城管 吴队长", ""),
    ("sm_lujiang_office", "鹭江街道 杨主任", ""),
    ("xm_water_group", "水务集团 蔡工", ""),
    ("hl_housing", "湖里区建设局 周工", ""),
    ("hl_police", "湖里分局 陈警官", ""),
)
DEMO = SystemActor("demo")
DEMO_OPEN311_CLIENT = "OneThing demo Open311 client"
DEMO_TICKETS_FILE = Path(__file__).resolve().parent / "demo_data" / "hotline_tickets.yaml"


@dataclass(frozen=True)
class DemoTicket:
    """A complaint the demo takes in, and how far its handling goes (demo_data/hotline_tickets.yaml
    explains the outcomes)."""

    text: str
    address: str
    category: str = ""  # the agent's choice; "" for a web complaint (the classifier picks)
    outcome: str = "waiting"
    urgency: str = "normal"
    caller: tuple[str, str] = ("王先生", "13906021234")
    citizen: str = ""  # the demo person who filed it on the web


@functools.cache
def demo_tickets() -> tuple[DemoTicket, ...]:
    raw = yaml.safe_load(DEMO_TICKETS_FILE.read_text(encoding="utf-8"))
    return tuple(
        DemoTicket(**{**entry, "caller": tuple(entry.get("caller", DemoTicket.caller))})
        for entry in raw["tickets"]
    )


@functools.cache
def _demo_password_hash() -> str:
    # One slow hash for the thirty-odd demo accounts that share the demo password.
    return make_password(DEMO_PASSWORD)


def _person(user_model, account: DemoAccount):
    resident = register_record("population", account.id_number)
    if resident is None or resident["status"] != "registered":
        raise ValueError(f"demo account {account.username}: not a living resident in the register")
    user, created = user_model.objects.get_or_create(
        username=account.username,
        defaults={
            "kind": user_model.Kind.PERSON,
            "real_name": resident["name"],
            "id_number": account.id_number,
            "id_verified_at": timezone.now(),
            "phone": account.phone,
            # What the real-name platform vouches for with the name: the household's region.
            "region": Region.objects.filter(code=resident["region"]).first(),
        },
    )
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
        RoleAssignment.objects.get_or_create(user=user, role=Role.APPLICANT)
    return user


def _staff(
    user_model, username: str, real_name: str, role: str | None, department=None, region=None
):
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={"kind": user_model.Kind.STAFF, "real_name": real_name, "is_staff": False},
    )
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    if role is not None:
        RoleAssignment.objects.get_or_create(
            user=user, role=role, department=department, region=region
        )
    return user


def _seed_certificates(people: dict) -> None:
    """The e-certificate library as a province would have it before the demo starts: every
    demo person's resident ID card, the couples' marriage certificates, the companies' business
    licences (issued by their departments; they exempt the paper copies in applications)."""
    types = {t.code: t for t in CertificateType.objects.select_related("issuer")}

    def issue(type_code: str, holder=None, enterprise=None, data=None) -> None:
        holder_number = enterprise.uscc if enterprise else holder.id_number
        if Certificate.objects.filter(
            type__code=type_code, holder_id_number=holder_number
        ).exists():
            return
        certificate_issue(
            actor="demo",
            certificate_type=types[type_code],
            holder=holder,
            holder_enterprise=enterprise,
            issuer=types[type_code].issuer,
            data=data or {},
        )

    for id_number, person in people.items():
        resident = register_record("population", id_number) or {}
        issue(
            "resident_id_card",
            holder=person,
            data={
                "applicant.name": resident.get("name", person.real_name),
                "applicant.id_number": id_number,
                "household.address": resident.get("address", ""),
            },
        )
    for record in RegisterRecord.objects.filter(register__code="marriages"):
        marriage = record.data
        for spouse in ("husband_id_number", "wife_id_number"):
            if marriage[spouse] in people:
                issue(
                    "marriage_certificate",
                    holder=people[marriage[spouse]],
                    data={
                        "marriage.certificate_number": marriage["certificate_number"],
                        "registered_on": marriage["registered_on"],
                    },
                )
    for enterprise in Enterprise.objects.all():
        company = register_record("enterprises", enterprise.uscc) or {}
        issue(
            "business_licence",
            enterprise=enterprise,
            holder=enterprise.agents.first(),
            data={
                "enterprise.uscc": enterprise.uscc,
                "enterprise.name": enterprise.name,
                "enterprise.legal_rep_name": company.get("legal_rep_name", ""),
                "enterprise.address": company.get("address", ""),
            },
        )


def _hotline_staff(user_model) -> tuple[object, dict[str, object]]:
    """The 12345 agent, the units' staff and the Xiamen supervisor; returns (agent, by unit)."""
    username, real_name = HOTLINE_AGENT
    agent = _staff(user_model, username, real_name, Role.HOTLINE_AGENT)
    username, real_name, region = HOTLINE_SUPERVISOR
    supervisor = _staff(user_model, username, real_name, None)
    RoleAssignment.objects.get_or_create(
        user=supervisor, role=Role.SUPERVISOR, region=Region.objects.get(code=region)
    )
    members = {}
    for unit, real_name, _role in HOTLINE_UNITS:
        member = _staff(user_model, f"unit_{unit}", real_name, None)
        UnitMember.objects.get_or_create(user=member, unit=unit)
        members[unit] = member
    return agent, members


def _seed_hotline_tickets(agent, members: dict, people: dict) -> None:
    """Take the demo complaints in and move each through the services as far as its outcome
    says, then flag this week's hot spots. Only into a hotline that has no tickets yet."""
    if Ticket.objects.exists():
        return
    by_username = {p.username: p for p in people.values()}
    for demo in demo_tickets():
        intake = hotline.Intake(
            description=demo.text,
            address=demo.address,
            category=demo.category,
            urgency=demo.urgency,
            contact_name=demo.caller[0],
            contact_phone=demo.caller[1],
        )
        if demo.citizen:
            ticket = hotline.ticket_receive(
                actor=by_username[demo.citizen], channel=Channel.WEB, intake=intake
            )
        else:
            ticket = hotline.ticket_receive(actor=agent, channel=Channel.PHONE, intake=intake)
        _handle(ticket, demo.outcome, agent=agent, members=members)
    hotline.hot_spots_flag(actor=DEMO, week=timezone.localdate())


def _handle(ticket: Ticket, outcome: str, *, agent, members: dict) -> None:
    if outcome == "waiting" or ticket.status != "dispatched" or ticket.unit not in members:
        return
    if outcome == "returned":
        ticket = hotline.ticket_return(
            actor=members[ticket.unit], ticket=ticket, reason="不属于本单位职责范围，请改派"
        )
        if ticket.unit not in members:
            return
        outcome = "closed"  # the next unit handles it to the end
    unit = members[ticket.unit]
    hotline.ticket_accept(actor=unit, ticket=ticket)
    if outcome == "accepted":
        return
    if outcome == "extension":
        hotline.extension_request(
            actor=unit, ticket=ticket, days=5, reason="需协调燃气、供水单位共同施工恢复路面"
        )
        return
    hotline.ticket_reply(actor=unit, ticket=ticket, reply="已派人到现场核实处理，问题已整改。")
    if outcome == "replied":
        return
    callbacks = {
        "closed": {"reached": True, "resolved": True, "satisfied": True},
        "unsatisfied": {"reached": True, "resolved": True, "satisfied": False},
        "unreached": {"reached": False, "resolved": None, "satisfied": None},
        "rehandle": {"reached": True, "resolved": False, "satisfied": False, "rehandle": True},
    }
    hotline.ticket_callback(actor=agent, ticket=ticket, note="电话回访", **callbacks[outcome])


def demo_open311_key(key_file: Path) -> str:
    """The demo Open311 client's api_key, kept in the data folder so it stays the same from one
    demo run to the next; made again (the old demo client revoked) when the file or the client
    is gone — only a hash of a key is stored, so it cannot be read back from the database."""
    key = key_file.read_text(encoding="utf-8").strip() if key_file.exists() else ""
    if key and hotline.open311_client_for_key(key) is not None:
        return key
    with transaction.atomic():
        for stale in Open311Client.objects.filter(name=DEMO_OPEN311_CLIENT, active=True):
            hotline.open311_client_revoke(actor=DEMO, client=stale)
        _client, key = hotline.open311_client_create(
            actor=DEMO, name=DEMO_OPEN311_CLIENT, contact="demo@onething.example"
        )
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


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
    register_load(actor="demo", registers=read_registers([settings.DEMO_REGISTERS_DIR]))
    platform_keys().active()  # the e-certificate signing key, so /.well-known/jwks.json has it
    people = {a.id_number: _person(users, a) for a in DEMO_ACCOUNTS}
    for record in RegisterRecord.objects.filter(register__code="enterprises"):
        company = record.data
        enterprise, _ = Enterprise.objects.get_or_create(
            uscc=company["uscc"],
            defaults={
                "name": company["name"],
                "region": Region.objects.filter(code=company["region"]).first(),
            },
        )
        if company["legal_rep_id_number"] in people:
            EnterpriseAgent.objects.get_or_create(
                user=people[company["legal_rep_id_number"]],
                enterprise=enterprise,
                defaults={"is_legal_representative": True},
            )
    _seed_certificates(people)
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
    # A reviewer limited to a region: the health commission's cases of applicants from Xiamen
    # (350200 and the districts inside it) only; the newborn family of 思明区 is one of them.
    _staff(
        users,
        XIAMEN_HEALTH_REVIEWER,
        "卫健委 厦门审核员",
        Role.REVIEWER,
        Department.objects.get(code="fj_health"),
        Region.objects.get(code="350200"),
    )
    if simulator_url:
        # Departments whose own systems the simulator plays: those with connector services,
        # and those whose registers are read over HTTP (`http-json` data sources).
        connector_departments = Department.objects.filter(
            Q(services__handler="connector") | Q(data_sources__connector="http-json")
        ).distinct()
        for department in connector_departments:
            DepartmentEndpoint.objects.update_or_create(
                department=department,
                defaults={"base_url": simulator_url, "secret": simulator_secret},
            )
    agent, members = _hotline_staff(users)
    _seed_hotline_tickets(agent, members, people)
    demo_seed_ratings(
        people={p.username: p for p in people.values()},
        reviewers={
            r.department.code: r.user
            for r in RoleAssignment.objects.filter(
                role=Role.REVIEWER, region__isnull=True, user__username__startswith="reviewer_"
            ).select_related("department", "user")
        },
    )
    # The supervisor's dashboard shows figures at once, not after the worker's first refresh a
    # minute later; and last month's report has its month-end record.
    supervision.rollups_refresh(actor=DEMO)
    supervision.month_end_snapshot_take(actor=DEMO)
    logins = (
        DemoLogin("catalog administrator", "admin", DEMO_PASSWORD, "/admin/"),
        DemoLogin("applicant (newborn)", "linxiaoyan", DEMO_PASSWORD, "/"),
        DemoLogin("applicant (restaurant)", "zhangwei", DEMO_PASSWORD, "/"),
        DemoLogin("applicant (retiring)", "wangxiuying", DEMO_PASSWORD, "/"),
        DemoLogin("applicant (a death in the family)", "huangzhiqiang", DEMO_PASSWORD, "/"),
        DemoLogin("company agent (enterprise change)", "lina", DEMO_PASSWORD, "/"),
        DemoLogin(
            "reviewer, health commission", "reviewer_fj_health", DEMO_PASSWORD, "/workbench/"
        ),
        DemoLogin(
            "reviewer, health, Xiamen only", XIAMEN_HEALTH_REVIEWER, DEMO_PASSWORD, "/workbench/"
        ),
        DemoLogin(
            "reviewer, public security", "reviewer_fj_public_security", DEMO_PASSWORD, "/workbench/"
        ),
        DemoLogin(
            "reviewer, human resources (a bad rating to rectify)",
            "reviewer_fj_hrss",
            DEMO_PASSWORD,
            "/workbench/rectifications/",
        ),
        DemoLogin("window clerk", "clerk", DEMO_PASSWORD, "/window/"),
        DemoLogin(
            "supervisor (dashboard, reads every case; exports)",
            "supervisor",
            DEMO_PASSWORD,
            "/supervision/",
        ),
        DemoLogin("12345 hotline agent", HOTLINE_AGENT[0], DEMO_PASSWORD, "/hotline/"),
        DemoLogin(
            "hotline supervisor, Xiamen", HOTLINE_SUPERVISOR[0], DEMO_PASSWORD, "/hotline/rates/"
        ),
        *(
            DemoLogin(role, f"unit_{unit}", DEMO_PASSWORD, "/hotline/")
            for unit, _name, role in HOTLINE_UNITS
            if role
        ),
    )
    return report, logins


def connector_services() -> list[str]:
    return list(Service.objects.filter(handler="connector").values_list("code", flat=True))
