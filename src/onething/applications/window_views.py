"""The window clerk's pages (一窗受理): identify who is at the counter, pick a one thing and answer
its questions with them, start the application on their behalf, and print the acceptance receipt.
The clerk's queue lists the applications they took (首问负责).

Filling in, materials and the check page are the applicant's pages, opened by the clerk who took
the draft (see portal_views). Thin: parse, call a service or a selector, render.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onething.accounts.models import Enterprise, Role, User
from onething.accounts.selectors import has_role
from onething.applications import selectors, window
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import (
    APPLICATION_STATUS_LABELS,
    CASE_STATUS_LABELS,
    ApplicationMaterial,
    Channel,
)
from onething.catalog import selectors as catalog_selectors
from onething.catalog.views import _plan_context as catalog_plan_context
from onething.certificates.qr import qr_svg
from onething.core.errors import InvalidInput, NotFound
from onething.core.masking import mask

# Who is at the counter now: kept in the clerk's session, so no ID number travels in a URL.
CUSTOMER = "window.customer"


def clerk_required(view):
    """Signed in, and a window clerk; anybody else finds no such page."""

    @functools.wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not has_role(request.user, Role.WINDOW_CLERK):
            raise NotFound(_("This page does not exist."))
        return view(request, *args, **kwargs)

    return wrapped


def _customer(request: HttpRequest) -> tuple[User, Enterprise | None] | None:
    """The person (and the enterprise they act for) the clerk identified, if still valid."""
    kept = request.session.get(CUSTOMER)
    if not kept:
        return None
    person = User.objects.filter(pk=kept.get("user"), kind=User.Kind.PERSON).first()
    if person is None:
        return None
    enterprise = None
    if kept.get("enterprise"):
        enterprise = Enterprise.objects.filter(uscc=kept["enterprise"], agents=person).first()
        if enterprise is None:
            return None
    return person, enterprise


def _customer_card(customer: tuple[User, Enterprise | None] | None) -> dict | None:
    if customer is None:
        return None
    person, enterprise = customer
    return {
        "name": person.real_name,
        "id_number": mask(person.id_number),
        "enterprise": enterprise,
        "audience": "enterprise" if enterprise else "person",
    }


def _queue_rows(clerk: User) -> list[dict]:
    return [
        {
            "application": application,
            "thing_name": application.thing.name,
            "applicant": application.applicant.real_name,
            "id_number": mask(application.applicant.id_number),
            "enterprise": application.enterprise,
            "status_label": APPLICATION_STATUS_LABELS[ApplicationStatus(application.status)],
            "is_draft": application.status == ApplicationStatus.DRAFT,
            "progress": selectors.application_progress(application),
        }
        for application in selectors.applications_taken_by(clerk)
    ]


@clerk_required
@require_http_methods(["GET", "POST"])
def window_home(request: HttpRequest) -> HttpResponse:
    """Identify a person (resident ID number) or an enterprise (credit code and the person
    acting for it); below, the applications this clerk took, newest first."""
    errors: dict[str, str] = {}
    kind = request.POST.get("kind", "person")
    typed = {
        key: request.POST.get(key, "").strip()[:40]
        for key in ("id_number", "uscc", "agent_id_number")
    }
    if request.method == "POST":
        try:
            if kind == "enterprise":
                person, enterprise = window.window_enterprise_identify(
                    actor=request.user, uscc=typed["uscc"], agent_id_number=typed["agent_id_number"]
                )
                registered = False
            else:
                kind = "person"
                person, registered = window.window_person_identify(
                    actor=request.user, id_number=typed["id_number"]
                )
                enterprise = None
        except InvalidInput as exc:
            errors = exc.fields or {"id_number": exc.message}
        else:
            request.session[CUSTOMER] = {
                "user": person.pk,
                "enterprise": enterprise.uscc if enterprise else "",
                "registered": registered,
            }
            return redirect("applications:window-things")
    customer = _customer(request)
    return render(
        request,
        "applications/window/home.html",
        {
            "kind": kind,
            "typed": typed,
            "errors": errors,
            "customer": _customer_card(customer),
            "rows": _queue_rows(request.user),
        },
        status=422 if errors else 200,
    )


@clerk_required
@require_POST
def window_done(request: HttpRequest) -> HttpResponse:
    """The person at the counter has left: forget them."""
    request.session.pop(CUSTOMER, None)
    return redirect("applications:window")


@clerk_required
@require_GET
def window_things(request: HttpRequest) -> HttpResponse:
    """The one things for the person (or the enterprise) at the counter."""
    customer = _customer(request)
    if customer is None:
        return redirect("applications:window")
    card = _customer_card(customer)
    return render(
        request,
        "applications/window/things.html",
        {
            "customer": card,
            "registered": request.session[CUSTOMER].get("registered", False),
            "things": list(catalog_selectors.things_list(audience=card["audience"])),
        },
    )


@clerk_required
@require_http_methods(["GET", "POST"])
def window_thing(request: HttpRequest, code: str) -> HttpResponse:
    """The thing's questions, answered with the person (GET), and the plan; then start the
    application on their behalf (POST, the answers in the query string as on the portal)."""
    customer = _customer(request)
    if customer is None:
        return redirect("applications:window")
    person, enterprise = customer
    context = catalog_plan_context(request, code)
    thing = context["thing"]
    if thing.audience != ("enterprise" if enterprise else "person"):
        raise NotFound(_("This one thing is not for the person at the counter."))
    problems: dict[str, str] = {}
    if request.method == "POST":
        keys = {q.key for q in thing.questions.all()}
        answers = {k: v for k, v in request.GET.items() if k in keys and v != ""}
        try:
            application = window.application_start_at_window(
                actor=request.user,
                applicant=person,
                thing_code=thing.code,
                answers=answers,
                enterprise_uscc=enterprise.uscc if enterprise else None,
            )
        except InvalidInput as exc:
            problems = exc.fields or {"answers": exc.message}
        else:
            return redirect("applications:data-use", application.reference)
    return render(
        request,
        "applications/window/thing.html",
        {**context, "customer": _customer_card(customer), "problems": problems},
        status=422 if problems else 200,
    )


def _absolute(request: HttpRequest, path: str) -> str:
    """The address printed on paper: the public URL when configured, else the host asked."""
    if settings.ONETHING_PUBLIC_URL_CONFIGURED:
        return settings.ONETHING_PUBLIC_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


def _material_lines(application) -> list[dict]:
    seen_labels = dict(ApplicationMaterial.SeenAs.choices)
    lines = []
    for attached in application.materials.select_related("material").order_by("pk"):
        if attached.provision == ApplicationMaterial.Provision.SEEN_AT_WINDOW:
            how = _("seen at the window (%(kind)s)") % {"kind": seen_labels[attached.seen_as]}
        elif attached.provision == ApplicationMaterial.Provision.PROMISED:
            how = _("to be supplied by %(date)s") % {"date": attached.promised_by.isoformat()}
        else:
            how = attached.get_provision_display()
        lines.append({"name": attached.material.name, "how": how})
    return lines


@clerk_required
@require_GET
def window_receipt(request: HttpRequest, reference: str) -> HttpResponse:
    """受理回执: the printable A4 receipt of an application the clerk took, with a QR code
    leading to the application's page."""
    application = selectors.application_taken_by(request.user, reference)
    if application.status == ApplicationStatus.DRAFT:
        return redirect("applications:check", application.reference)
    link = _absolute(request, reverse("applications:detail", args=[application.reference]))
    cases = [
        {
            "name": case.service.name,
            "department": case.department.name,
            "stage": case.stage,
            "promised_days": case.promised_days,
            "status_label": CASE_STATUS_LABELS[CaseStatus(case.status)],
        }
        for case in selectors.application_cases(application)
    ]
    return render(
        request,
        "applications/window/receipt.html",
        {
            "application": application,
            "thing_name": application.thing.name,
            "applicant_name": application.applicant.real_name,
            "applicant_id_number": mask(application.applicant.id_number),
            "channel_label": Channel(application.channel).label,
            "clerk_name": application.taken_by.real_name or application.taken_by.username,
            "cases": cases,
            "materials": _material_lines(application),
            "link": link,
            "qr": qr_svg(link, title=_("Scan to follow this application")),
            "lead_department": application.thing.lead_department.name,
        },
    )
