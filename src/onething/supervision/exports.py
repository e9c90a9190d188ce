"""The staff exports as tables: the record of data uses and the case list, one row per use or
case, with every personal number masked.

There is no unmasked export: whoever needs a full number reveals it on the case page, where the
reveal itself is recorded. Names of applicants are masked too (`林*燕`); staff names and the
names of departments' systems are not personal data of the public and stay whole. Free text
(a purpose a department's system typed, a thing's name) goes through `mask_personal_numbers`
as well, so a number written into it is masked like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from stdnum.cn import uscc

from onething.accounts.models import User
from onething.applications.models import Case
from onething.applications.presentation import REVIEWER_CASE_LABELS
from onething.catalog.models import Service, Thing, in_language
from onething.certificates.verification import mask_name
from onething.core.masking import mask, mask_personal_numbers
from onething.core.numbers import whole_number
from onething.core.spreadsheets import csv_document
from onething.sharing.models import DataUse
from onething.sharing.selectors import source_names
from onething.supervision.selectors import CASE_NAMES

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
    return _local_second(moment, timezone.get_current_timezone())


def _local_second(moment, zone) -> str:
    """`2026-03-01 09:30:00` in `zone`, or "" (isoformat: a fraction of strftime's time)."""
    return moment.astimezone(zone).isoformat(sep=" ", timespec="seconds")[:19] if moment else ""


def _person_name(user: User | None) -> str:
    if user is None:
        return ""
    return _shown_name(user.real_name, user.username, user.kind)


def _shown_name(real_name: str, username: str, kind: str) -> str:
    """A person's name as an export shows it: their real name (or username), whole for staff,
    masked for a member of the public."""
    name = real_name or username
    return name if kind == User.Kind.STAFF else mask_name(name)


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


CASE_COLUMNS = (
    *CASE_NAMES,
    "status",
    "application__submitted_at",
    "due_date",
    "application__applicant__real_name",
    "application__applicant__username",
    "application__applicant__kind",
    "application__applicant__id_number",
    "application__enterprise__name",
    "application__enterprise__uscc",
)
# Cases read from the database at a time while a case export is written.
CASE_ROWS_PER_READ = 2000


def case_header() -> tuple[str, ...]:
    """The case export's columns, in the active language."""
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
    return tuple(str(h) for h in header)


def case_rows(case_ids: Sequence[int]) -> Iterator[tuple[str, ...]]:
    """One row per case of `case_ids`, in their order: reference, thing, service, department,
    status, submitted, due, and the applicant (name and ID number masked) or the enterprise
    they act for.

    The language, the time zone and the labels are read here, when it is called: the rows are
    written later, while the response streams, perhaps after the request's language is gone.
    """
    language = get_language()
    zone = timezone.get_current_timezone()
    statuses = {status.value: str(label) for status, label in REVIEWER_CASE_LABELS.items()}
    return _case_rows_read(case_ids, language, zone, statuses)


def _case_rows_read(
    case_ids: Sequence[int], language: str, zone: tzinfo, statuses: dict[str, str]
) -> Iterator[tuple[str, ...]]:
    """The rows, read as plain values with their joins a chunk of ids at a time as they are
    written: no model instance and no query per row. A server-side cursor over the joined rows
    would stream as well, but PostgreSQL plans a cursor for its first rows (nested loops):
    eight times slower to read to the end."""
    # The catalog's names repeat on every row: each pair is chosen and masked once.
    names: dict[tuple[str, str], str] = {}

    def name(zh: str, en: str) -> str:
        found = names.get((zh, en))
        if found is None:
            found = names[(zh, en)] = mask_personal_numbers(in_language(zh, en, language))
        return found

    for start in range(0, len(case_ids), CASE_ROWS_PER_READ):
        chunk = case_ids[start : start + CASE_ROWS_PER_READ]
        found = {
            row[0]: row[1:]
            for row in Case.objects.filter(_among(chunk))
            .order_by()  # put in the ids' order here: the model's own order is a wasted sort
            .values_list("pk", *CASE_COLUMNS)
        }
        for pk in chunk:
            if pk in found:  # not deleted since its id was read
                yield _case_row(found[pk], zone, statuses, name)


def _among(case_ids: Sequence[int]) -> Q | RawSQL:
    """The cases of `case_ids`. On PostgreSQL one array parameter (`id = ANY(%s)`) rather than
    `IN` with a parameter per id: Django and psycopg spent a fifth of a chunk's read building
    and binding two thousand of them."""
    if connection.vendor != "postgresql":
        return Q(pk__in=case_ids)
    quote = connection.ops.quote_name
    column = f"{quote(Case._meta.db_table)}.{quote(Case._meta.pk.column)}"
    # The SQL holds only the model's own quoted names; the ids go as a parameter.
    condition = f"{column} = ANY(%s)"
    return RawSQL(condition, (list(case_ids),), output_field=BooleanField())  # noqa: S611


def _case_row(
    values: tuple, zone: tzinfo, statuses: dict[str, str], name: Callable[[str, str], str]
) -> tuple[str, ...]:
    (
        reference,
        thing_zh,
        thing_en,
        service_zh,
        service_en,
        department_zh,
        department_en,
        status,
        submitted_at,
        due_date,
        real_name,
        username,
        kind,
        id_number,
        enterprise_name,
        enterprise_uscc,
    ) = values
    # Dates and status labels are ours and hold no number to mask; the ID number is
    # masked whole; the rest is text somebody typed, masked like any free text.
    return (
        mask_personal_numbers(reference),
        name(thing_zh, thing_en),
        name(service_zh, service_en),
        name(department_zh, department_en),
        statuses[status],
        _local_second(submitted_at, zone),
        due_date.isoformat() if due_date else "",
        mask_personal_numbers(_shown_name(real_name, username, kind)),
        mask(id_number),
        mask_personal_numbers(enterprise_name or ""),
        mask_personal_numbers(enterprise_uscc or ""),
    )
