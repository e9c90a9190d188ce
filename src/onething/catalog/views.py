"""Portal pages of the catalog: find a thing, answer its questions, see and print the plan."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from onething.catalog import selectors
from onething.catalog.models import Thing, in_language
from onething.catalog.plan_output import plan_as_dict
from onething.core.errors import InvalidInput


def _answers_from(request: HttpRequest, thing: Thing) -> dict[str, str]:
    """The answers in the query string, for this thing's questions only."""
    keys = {q.key for q in thing.questions.all()}
    return {k: v for k, v in request.GET.items() if k in keys and v != ""}


def _answer_text(question, value: str) -> str:
    """The answer as the applicant would read it (the option's label, yes or no)."""
    if question.type == "yes_no":
        return {"yes": gettext("Yes"), "no": gettext("No")}.get(value, value)
    for option in question.options:
        if option["value"] == value:
            return in_language(option["label"]["zh"], option["label"]["en"])
    return value


def _questions(thing: Thing, answers: dict[str, str], errors: dict[str, str]) -> list[dict]:
    questions = []
    for q in thing.questions.all():
        value = answers.get(q.key, "" if q.default is None else _default_text(q.default))
        questions.append(
            {
                "key": q.key,
                "type": q.type,
                "label": in_language(q.label_zh, q.label_en),
                "help": in_language(q.help_zh, q.help_en),
                "options": [
                    {"value": o["value"], "label": in_language(o["label"]["zh"], o["label"]["en"])}
                    for o in q.options
                ],
                "min": q.min_value,
                "max": q.max_value,
                "value": value,
                "answer_text": _answer_text(q, value),
                "error": errors.get(f"answers.{q.key}", ""),
            }
        )
    return questions


def _default_text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _plan_context(request: HttpRequest, code: str) -> dict:
    """The thing, its questions with the answers given, and the plan once they are complete."""
    thing = selectors.thing_get(code)
    answers = _answers_from(request, thing)
    plan, errors = None, {}
    # Before the first answer there is nothing to complain about: show the questions only.
    if answers or not thing.questions.exists():
        try:
            plan = plan_as_dict(selectors.thing_plan(code, answers))
        except InvalidInput as exc:
            errors = exc.fields
        else:
            # Show the answers as the plan understood them (`true` → yes, `1e2` → 100).
            answers = {key: _default_text(value) for key, value in plan["answers"].items()}
    return {
        "thing": thing,
        "questions": _questions(thing, answers, errors),
        "answers_query": urlencode(answers),
        "plan": plan,
        "errors": errors,
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    things = list(selectors.things_list(query=query or None))
    groups = [
        (audience, label, [t for t in things if t.audience == audience])
        for audience, label in Thing.Audience.choices
    ]
    return render(request, "catalog/home.html", {"groups": groups, "query": query})


@require_GET
def thing_page(request: HttpRequest, code: str) -> HttpResponse:
    context = _plan_context(request, code)
    context["members"] = list(context["thing"].members.all())
    return render(request, "catalog/thing.html", context)


@require_GET
def thing_plan_fragment(request: HttpRequest, code: str) -> HttpResponse:
    """The plan area of the thing page, re-rendered by htmx as answers change."""
    context = _plan_context(request, code)
    context["members"] = list(context["thing"].members.all())
    response = render(request, "catalog/_plan.html", context)
    # Keep the address bar on the full page for these answers, so reload and sharing work.
    page = reverse("catalog:thing", args=[code])
    query = context["answers_query"]
    response["HX-Replace-Url"] = f"{page}?{query}" if query else page
    return response


@require_GET
def thing_notice(request: HttpRequest, code: str) -> HttpResponse:
    """The printable one-time notification (一次性告知书)."""
    context = _plan_context(request, code)
    if context["plan"] is None:
        url = reverse("catalog:thing", args=[code])
        return redirect(f"{url}?{context['answers_query']}" if context["answers_query"] else url)
    return render(request, "catalog/notice.html", context)


@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    services = list(selectors.services_list(query=query or None))
    departments: dict = {}
    for service in services:
        departments.setdefault(service.department, []).append(service)
    return render(
        request, "catalog/services.html", {"departments": departments.items(), "query": query}
    )


@require_GET
def service_page(request: HttpRequest, code: str) -> HttpResponse:
    service = selectors.service_get(code)
    return render(
        request,
        "catalog/service.html",
        {
            "service": service,
            "things": selectors.things_with_service(service),
            "description": in_language(service.description_zh, service.description_en),
            "fee_note": in_language(service.fee_note_zh, service.fee_note_en),
        },
    )
