"""The staff exports as tables: the record of data uses and the case list, one row per use or
case, with every personal number masked.

There is no unmasked export: whoever needs a full number reveals it on the case page, where the
reveal itself is recorded. Names of applicants are masked too (`林*燕`); staff names and the
names of departments' systems are not personal data of the public and stay whole. Free text
(a purpose a department's system typed, a thing's name) goes through `mask_personal_numbers`
as well, so a number written into it is masked like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.cn import uscc

from onething.accounts.models import User
from onething.applications.lifecycle import CaseStatus
from onething.applications.models import Case
from onething.applications.presentation import REVIEWER_CASE_LABELS
from onething.catalog.models import Service, Thing
from onething.certificates.verification import mask_name
from onething.core.masking import mask, mask_personal_numbers
from onething.core.numbers import whole_number
from onething.core.spreadsheets import csv_document
from onething.sharing.models import DataUse
from onething.sharing.selectors import source_names

USE_LABELS = {
    "prefill": gettext_lazy("prefill"),
    "verification": gettext_lazy("verification"),
    "exchange": gettext_lazy("exchange query"),
    "reveal": gettext_lazy("reveal by a reviewer"),
    "exemption": gettext_lazy("material exemption"),
}


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def csv(self) -> bytes:
        return csv_document(self.header, self.rows)


def _masked_row(cells: Iterable[object]) -> tuple[str, ...]:
    return tuple(mask_personal_numbers("" if cell is None else str(cell)) for cell in cells)


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _person_name(user: User | None) -> str:
    if user is None:
        return ""
    name = user.real_name or user.username
    return name if user.kind == User.Kind.STAFF else mask_name(name)


def _actor_names(labels: Iterable[str]) -> dict[str, str]:
    """`user:42` -> the user's name (masked for a member of the public); `system:…` -> the
    system's name."""
    names: dict[str, str] = {}
    user_ids = {}
    for label in set(labels):
        kind, _sep, rest = label.partition(":")
        user_id = whole_number(rest, max_digits=18) if kind == "user" else None
        if user_id is not None:
            user_ids[user_id] = label
        elif kind == "system":
            names[label] = rest
    for user in User.objects.filter(pk__in=user_ids):
        names[user_ids[user.pk]] = _person_name(user)
    return names


def whose_data(subject: str) -> str:
    """A person's number masked; an enterprise's credit code whole (it is public: 国家企业信用
    信息公示系统). Anything that is not plainly a credit code counts as a person's."""
    if uscc.is_valid(subject) and mask_personal_numbers(subject) == subject:
        return subject
    return mask(subject)


def data_use_table(uses: Sequence[DataUse]) -> Table:
    """One row per recorded use: when, who, what for, which elements, whose data, outcome."""
    actors = _actor_names(use.actor for use in uses)
    codes = {use.service for use in uses}
    purposes = {s.code: s.name for s in Service.objects.filter(code__in=codes)}
    purposes |= {t.code: t.name for t in Thing.objects.filter(code__in=codes)}
    sources = source_names()
    outcomes = dict(DataUse.Outcome.choices)
    header = (
        _("When"),
        _("Who"),
        _("Name"),
        _("Use"),
        _("Service or one thing"),
        _("Service or one thing (name)"),
        _("Purpose"),
        _("Data source"),
        _("Held by"),
        _("Data elements"),
        _("Whose data"),
        _("Outcome"),
        _("Application"),
    )
    rows = tuple(
        _masked_row(
            (
                _when(use.at),
                use.actor,
                actors.get(use.actor, ""),
                USE_LABELS.get(use.use, use.use),
                use.service,
                purposes.get(use.service, ""),
                use.purpose,
                sources.get(use.source, (use.source, ""))[0],
                sources.get(use.source, ("", use.department))[1] or use.department,
                " ".join(use.elements),
                whose_data(use.subject),
                outcomes.get(use.outcome, use.outcome),
                use.application_reference,
            )
        )
        for use in uses
    )
    return Table(header=tuple(str(h) for h in header), rows=rows)


def case_table(cases: QuerySet[Case] | Sequence[Case]) -> Table:
    """One row per case: reference, thing, service, department, status, submitted, due, and
    the applicant (name and ID number masked) or the enterprise they act for."""
    header = (
        _("Reference"),
        _("One thing"),
        _("Service"),
        _("Department"),
        _("Status"),
        _("Submitted"),
        _("Due"),
        _("Applicant"),
        _("Applicant's ID number"),
        _("Enterprise"),
        _("Unified social credit code"),
    )
    rows = []
    for case in cases:
        application = case.application
        enterprise = application.enterprise
        rows.append(
            _masked_row(
                (
                    application.reference,
                    application.thing.name,
                    case.service.name,
                    case.department.name,
                    REVIEWER_CASE_LABELS[CaseStatus(case.status)],
                    _when(application.submitted_at),
                    case.due_date.isoformat() if case.due_date else "",
                    _person_name(application.applicant),
                    mask(application.applicant.id_number),
                    enterprise.name if enterprise else "",
                    enterprise.uscc if enterprise else "",
                )
            )
        )
    return Table(header=tuple(str(h) for h in header), rows=tuple(rows))
