"""Synthetic history (issue 7): `onething generate` fills a database with two years of
applications, cases, timelines, supplements, hotline tickets and ratings, so that dashboards and
roll-ups can be tried and measured at a realistic size.

Every application follows a plan of the loaded catalog (random valid answers, one plan per answer
set) and is played forward on the platform's working-day calendar: cases become ready when their
prerequisites are approved, are accepted, sometimes ask for a supplement (the clock stops), and
are approved, rejected (their dependents cancelled) or approved at once by their rule (秒批);
some applicants withdraw. What lies after `now` has not happened yet, which gives the open
applications, their waiting supplements and their yellow and red deadlines. Tickets go through
intake, dispatch by the dispatch catalogue, signing, reply, callback and closing in the same way.

Rows are written in bulk, never through the services: COPY on PostgreSQL, multi-row INSERTs on
SQLite, with ids reserved from the sequences beforehand, so one million applications take minutes.
Per-row audit records are not written (the run itself is audited once): the history is invented,
there is nobody whose action would be recorded.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Model
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from onething.accounts.models import Enterprise, EnterpriseAgent, User
from onething.applications.lifecycle import CaseStatus
from onething.applications.models import (
    Application,
    ApplicationMaterial,
    Case,
    CaseEvent,
    SupplementItem,
    SupplementRequest,
)
from onething.audit.services import audit_record
from onething.catalog import models as catalog_models
from onething.catalog.plan_output import plan_as_dict
from onething.catalog.planning import AnswerErrors, Plan, Source, plan
from onething.catalog.schema import QuestionType
from onething.catalog.selectors import thing_bundle, work_calendar
from onething.complaints.dispatch import DATA_DIR as DISPATCH_DATA
from onething.complaints.models import Ticket, TicketEvent
from onething.complaints.runtime import dispatch_catalogue
from onething.core.actors import actor_label
from onething.core.bulk import BulkWriter
from onething.core.errors import Conflict
from onething.core.references import ALPHABET
from onething.ratings import rules
from onething.ratings.models import DepartmentRating, Rating, Rectification, RectificationEvent
from onething.supervision.services import rollups_rebuild
from onething.supervision.synthetic import (
    HISTORY_DAYS,
    History,
    Member,
    QuickRandom,
    RatingStory,
    Shape,
    Texts,
)

# Applications (or tickets) per batch: about 50,000 rows of all tables, one COPY each, one commit.
BATCH_SIZE = 2_000
# A demo database holds a handful of applications people clicked through; more than this and
# the database may hold real applications, which a synthetic history must not be mixed into
# unless the operator says so (`--yes`).
DEMO_APPLICATIONS_MAX = 100

# Applications by channel: most online, a third at the one-stop windows, the rest sent by
# other systems through the API or forwarded by another platform (跨域通办).
CHANNELS = {"web": 50, "window": 33, "api": 9, "federated": 8}
TICKET_CHANNELS = {"phone": 60, "web": 30, "open311": 10}
URGENCIES = {"normal": 85, "urgent": 12, "very_urgent": 3}

REJECT_REASONS = (
    gettext_noop("The documents do not prove the conditions the law sets."),
    gettext_noop("The applicant is not entitled to this service."),
    gettext_noop("The same matter is already being handled under another application."),
)
SUPPLEMENT_REASONS = (
    gettext_noop("The copy is not legible: provide a clear scan."),
    gettext_noop("The material has expired: provide a current one."),
    gettext_noop("The signature is missing."),
)
TICKET_REPLIES = (
    gettext_noop("We went to the site, found the problem and fixed it."),
    gettext_noop("The responsible company has been told to fix it within three days."),
    gettext_noop("We explained the rules to the caller; the matter is settled."),
)
RECTIFICATION_ANSWERS = (
    gettext_noop("The cause was found and the procedure changed."),
    gettext_noop("The staff involved were trained again and the guidance was rewritten."),
    gettext_noop(
        "Materials the platform can share are no longer asked for; the list was shortened."
    ),
    gettext_noop("The time limit is now watched daily and late cases are reported at once."),
)
UNSETTLED_NOTES = (
    gettext_noop("Nothing has changed for me: the problem remains."),
    gettext_noop("The answer does not say what will be done differently."),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文辉玲"
COMPANY_WORDS = ("海峡", "鹭岛", "闽江", "榕城", "东南", "嘉禾", "鼓浪", "三坊")
COMPANY_KINDS = ("科技", "餐饮", "贸易", "建设", "物流", "文化")


class _HistoryWriter(BulkWriter):
    """The generator's writer: core.bulk's COPY, plus ids reserved from the tables' sequences
    and batches that skip the foreign-key checks. Kept here, not in core, so that nothing else
    can switch the checks off on real data."""

    def __init__(self) -> None:
        super().__init__()
        self._next: dict[str, int] = {}
        self._sequences: dict[str, str] = {}
        self.checks_skippable: bool | None = None

    def begin_batch(self) -> None:
        """Inside a batch's transaction on PostgreSQL: skip the foreign-key triggers when the
        role may (a superuser; the rows reference only rows this run or the catalog holds, so
        the checks find nothing and cost half the time). Otherwise the checks run.

        The batch's commit does not wait for the write-ahead log to reach the disk: a crash
        loses the last batches of an invented history, never the database's consistency."""
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
        if self.checks_skippable is False:
            return
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            self.checks_skippable = True
        except DatabaseError:
            self.checks_skippable = False

    def reserve(self, model: type[Model], count: int) -> int:
        """The first of `count` consecutive new ids of `model`'s table, taken from its sequence."""
        table = model._meta.db_table
        if self.postgres:
            with connection.cursor() as cursor:
                sequence = self._sequences.get(table)
                if sequence is None:
                    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                    sequence = self._sequences[table] = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT setval(%s, nextval(%s) + %s - 1)", [sequence, sequence, max(count, 1)]
                )
                return cursor.fetchone()[0] - max(count, 1) + 1
        if table not in self._next:
            highest = model.objects.aggregate(top=Max("pk"))["top"] or 0
            self._next[table] = highest + 1
        first = self._next[table]
        self._next[table] += count
        return first


class GenerateRefused(Conflict):
    """The database is not one a synthetic history may be written into."""

    code = "generate_refused"


@dataclass(frozen=True)
class GenerateReport:
    """What a run wrote: rows per table, the seconds it took and the roll-up rows rebuilt."""

    rows: Mapping[str, int]
    seconds: float
    rollups: int

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else float(self.total)


def answer_sets(questions: Sequence, rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Up to `count` distinct random valid answer sets for a thing's questions."""
    seen: dict[str, dict[str, Any]] = {}
    for _attempt in range(count * 4):
        answers: dict[str, Any] = {}
        for question in questions:
            if question.type == QuestionType.YES_NO:
                answers[question.key] = rng.choice(("yes", "no"))
            elif question.type == QuestionType.CHOICE:
                answers[question.key] = rng.choice(question.options).value
            else:
                low = int(question.min) if question.min is not None else 0
                high = int(question.max) if question.max is not None else max(low, 0) + 10
                answers[question.key] = str(rng.randint(low, max(low, min(high, low + 40))))
        seen.setdefault(json.dumps(answers, sort_keys=True), answers)
        if len(seen) >= count:
            break
    return list(seen.values())


def _shapes(rng: random.Random) -> list[list[Shape]]:
    """Per thing of the catalog, the plans of a few random answer sets (one plan each)."""
    from onething.applications.services import consent_text

    services = {s.code: s for s in catalog_models.Service.objects.select_related("department")}
    region_of = dict(catalog_models.Department.objects.values_list("pk", "region__code"))
    materials = dict(catalog_models.Material.objects.values_list("code", "pk"))
    shapes = []
    for thing in catalog_models.Thing.objects.order_by("position", "code"):
        bundle = thing_bundle(thing.code)
        per_thing = []
        for answers in answer_sets(bundle.thing.questions, rng, 6):
            try:
                planned: Plan = plan(bundle, answers)
            except AnswerErrors:
                continue
            if not planned.members:
                continue
            position = {m.code: i for i, m in enumerate(planned.members)}
            members = tuple(
                Member(
                    service_id=services[m.code].pk,
                    service_code=m.code,
                    service_name=services[m.code].name_zh,
                    department_id=services[m.code].department_id,
                    department_region=region_of[services[m.code].department_id],
                    handler=services[m.code].handler,
                    rule=services[m.code].rule,
                    stage=m.stage,
                    position=i,
                    promised_days=services[m.code].promised_days,
                    after=tuple(position[a] for a in m.after),
                )
                for i, m in enumerate(planned.members)
            )
            with translation.override("zh-hans"):
                consent = consent_text(planned)
            per_thing.append(
                Shape(
                    thing_id=thing.pk,
                    audience=str(planned.thing.audience),
                    answers_json=json.dumps(plan_as_dict(planned)["answers"], ensure_ascii=False),
                    promised_days=planned.promised_days,
                    consent_text=consent,
                    members=members,
                    shared_materials=tuple(
                        (materials[item.material.code], item.source.value)
                        for item in planned.materials
                        if item.source != Source.APPLICANT
                    ),
                    applicant_materials=tuple(
                        materials[item.material.code]
                        for item in planned.materials
                        if item.source == Source.APPLICANT
                    ),
                    material_codes=tuple(item.material.code for item in planned.materials),
                )
            )
        if per_thing:
            shapes.append(per_thing)
    return shapes


# --- the run -------------------------------------------------------------------------------------


def _texts() -> Texts:
    """The texts of the generated timelines, in the active language."""
    return Texts(
        reject_reasons=tuple(_(text) for text in REJECT_REASONS),
        supplement_reasons=tuple(_(text) for text in SUPPLEMENT_REASONS),
        ticket_replies=tuple(_(text) for text in TICKET_REPLIES),
        cancelled_after_rejection=_("Cancelled because “%(service)s” was rejected: %(reason)s"),
        cancelled_after_cancellation=_("Cancelled because an earlier step was cancelled."),
        withdrawn=_("Withdrawn by the applicant."),
        rectification_answers=tuple(_(text) for text in RECTIFICATION_ANSWERS),
        unsettled_notes=tuple(_(text) for text in UNSETTLED_NOTES),
    )


def _check_database(*, yes: bool) -> None:
    if not catalog_models.Thing.objects.exists():
        raise GenerateRefused(
            _(
                "The database has no catalog: load the demo catalog first "
                "(onething catalog load, or onething demo)."
            ),
            fields={"catalog": _("No thing is defined; a synthetic history needs the catalog.")},
        )
    existing = Application.objects.count()
    if existing > DEMO_APPLICATIONS_MAX and not yes:
        raise GenerateRefused(
            _(
                "The database already holds %(count)d applications, more than a demo has: it may "
                "hold real data. Run again with --yes to add a synthetic history anyway."
            )
            % {"count": existing},
            fields={"yes": _("Required when the database already holds applications.")},
        )


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def _references(rng: random.Random, prefix: str, moments: Sequence[dt.datetime], used: set[str]):
    out = []
    for moment in moments:
        while True:
            suffix = "".join(rng.choices(ALPHABET, k=6))
            reference = f"{prefix}{moment:%Y%m%d}-{suffix}"
            if reference not in used:
                used.add(reference)
                out.append(reference)
                break
    return out


def _references_in_use(model: type[Model]) -> set[str]:
    """Every reference already in the table (real or earlier runs), read once: new ones are
    drawn around them instead of being looked up batch by batch."""
    return set(model.objects.values_list("reference", flat=True).iterator(chunk_size=20_000))


# A random version-4 UUID from 128 random bits: the version and variant bits set as uuid.UUID
# sets them.
_UUID_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_SET = (4 << 76) | (0x8000 << 48)


def _uuid(rng: random.Random) -> str:
    """A random UUID4 as its 32 hex digits (what SQLite stores, and PostgreSQL reads), without
    building a uuid.UUID per row."""
    return format((rng.getrandbits(128) & _UUID_KEEP) | _UUID_SET, "032x")


def _dumps(value: Any) -> str:
    if not value:
        return "[]" if isinstance(value, list) else "{}"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _batches(total: int, size: int) -> Iterator[int]:
    done = 0
    while done < total:
        step = min(size, total - done)
        yield step
        done += step


def history_generate(
    *,
    actor: Any,
    applications: int,
    tickets: int,
    seed: int = 0,
    yes: bool = False,
    now: dt.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    out: Callable[[str], None] = lambda _line: None,
) -> GenerateReport:
    """Write a synthetic two-year history of `applications` applications and `tickets` hotline
    tickets. The same seed on the same catalog gives the same history (ids aside).

    Refuses a database without a catalog, and one holding more applications than a demo does
    unless `yes`.
    """
    if applications < 0 or tickets < 0:
        raise ValueError("applications and tickets cannot be negative")
    _check_database(yes=yes)
    started = time.monotonic()
    now = now or timezone.now()
    rng = QuickRandom(seed)  # invented data, reproducible on purpose
    counties = list(
        catalog_models.Region.objects.filter(level=catalog_models.Region.Level.COUNTY)
        .order_by("code")
        .values_list("pk", "code")
    )
    if not counties:
        counties = list(catalog_models.Region.objects.order_by("code").values_list("pk", "code"))
    department_regions = set(
        catalog_models.Department.objects.values_list("region__code", flat=True)
    )
    with translation.override("zh-hans"):
        history = History(
            rng=rng,
            now=timezone.localtime(now),
            calendar=work_calendar(),
            regions=sorted(department_regions | {code for _pk, code in counties}),
            texts=_texts(),
            warn_days=settings.DEADLINE_WARN_DAYS,
            escalate_days=settings.DEADLINE_ESCALATE_DAYS,
        )
        shapes = _shapes(rng)
        writer = _HistoryWriter()
        people = _write_people(writer, history, counties, applications, tickets, out)
        _write_applications(writer, history, shapes, people, applications, batch_size, out)
        _write_tickets(writer, history, counties, people, tickets, batch_size, out)
        with transaction.atomic():
            audit_record(
                actor=actor_label(actor),
                action="supervision.history_generated",
                stream="supervision:generate",
                subject=f"seed {seed}",
                data={"seed": seed, "rows": dict(writer.rows), "now": now.isoformat()},
            )
    # The history's own figure, apart from the roll-ups' rebuild that follows (which reads it all).
    written, seconds = sum(writer.rows.values()), time.monotonic() - started
    out(f"written: {written} rows in {seconds:.1f}s, {written / max(seconds, 1e-9):,.0f} rows/s")
    if writer.postgres:
        # Autovacuum has not yet seen millions of new rows: without fresh statistics the planner
        # takes a table of 6 million materials for 400,000 and scans it whole on every batch of
        # the roll-up rebuild (a second a query instead of 16 ms).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    rows = rollups_rebuild(actor=actor)
    out(_("Roll-ups rebuilt: %(rows)s rows.") % {"rows": rows})
    seconds = time.monotonic() - started
    return GenerateReport(rows=dict(writer.rows), seconds=seconds, rollups=rows)


@dataclass(frozen=True)
class People:
    users: list[tuple[int, int, str]]  # (user id, region id, region code)
    enterprises: dict[
        int, list[tuple[int, int, str]]
    ]  # user id -> [(enterprise id, region id, code)]
    agents: list[int]  # users who act for an enterprise


def _write_people(
    writer: _HistoryWriter,
    history: History,
    counties: Sequence[tuple[int, str]],
    applications: int,
    tickets: int,
    out: Callable[[str], None],
) -> People:
    """A pool of synthetic applicants (many apply more than once) and some enterprises."""
    rng = history.rng
    count = max(10, applications // 2, tickets // 10)
    first = writer.reserve(User, count)
    joined = history.now - dt.timedelta(days=HISTORY_DAYS + 30)
    user_rows, users = [], []
    for i in range(count):
        region_pk, region_code = rng.choice(counties)
        pk = first + i
        users.append((pk, region_pk, region_code))
        user_rows.append(
            (
                pk,
                "!synthetic",
                False,
                f"synthetic_{pk}",
                "",
                "",
                "",
                False,
                True,
                joined,
                User.Kind.PERSON,
                _person_name(rng),
                "",
                joined,
                "",
                region_pk,
            )
        )
    enterprise_count = max(3, count // 25)
    first_enterprise = writer.reserve(Enterprise, enterprise_count)
    enterprise_rows, agent_rows = [], []
    enterprises: dict[int, list[tuple[int, int, str]]] = {}
    for i in range(enterprise_count):
        pk = first_enterprise + i
        region_pk, region_code = rng.choice(counties)
        body = f"91{region_code}" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=9))
        uscc = body + _uscc_check(body)
        name = f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_KINDS)}（合成）有限公司{pk}"
        enterprise_rows.append((pk, uscc, name, region_pk))
        agent = users[rng.randrange(len(users))][0]
        enterprises.setdefault(agent, []).append((pk, region_pk, region_code))
        agent_rows.append((agent, pk, True))
    with transaction.atomic():
        writer.write(
            "users",
            User,
            [
                "id",
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "kind",
                "real_name",
                "id_number",
                "id_verified_at",
                "phone",
                "region",
            ],
            user_rows,
        )
        writer.write("enterprises", Enterprise, ["id", "uscc", "name", "region"], enterprise_rows)
        writer.write(
            "enterprise_agents",
            EnterpriseAgent,
            ["user", "enterprise", "is_legal_representative"],
            agent_rows,
        )
    out(f"people: {count} applicants, {enterprise_count} enterprises")
    return People(users, enterprises, sorted(enterprises))


def _uscc_check(body: str) -> str:
    from stdnum.cn import uscc

    return uscc.calc_check_digit(body + "0")


APPLICATION_COLUMNS = [
    "id", "public_id", "reference", "thing", "applicant", "enterprise", "region", "channel",
    "status", "answers", "form_data", "prefilled", "exemptions", "plan_snapshot",
    "promised_days", "due_date", "step", "consent_given_at", "consent_text", "request_fingerprint",
    "submitted_at", "finished_at", "created_at", "updated_at",
]  # fmt: skip
CASE_COLUMNS = [
    "id", "public_id", "application", "service", "department", "handler", "status", "stage",
    "position", "promised_days", "inputs", "outputs", "reason", "decided_by_rule", "external_id",
    "needs_attention", "attention_reason", "ready_at", "accepted_at", "first_reviewed_at",
    "due_date", "paused_since", "pauses", "deadline_state", "escalated_at", "decided_at",
    "updated_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "application", "case", "actor", "actor_label", "action", "from_status", "to_status", "note",
    "data", "at",
]  # fmt: skip
MATERIAL_COLUMNS = [
    "application", "material", "provision", "file", "original_name", "content_type", "size",
    "sha256", "source_record", "seen_as", "added_at",
]  # fmt: skip
REQUEST_COLUMNS = [
    "id", "public_id", "application", "number", "kind", "stage", "status", "created_at",
    "sent_at", "answered_at",
]  # fmt: skip
ITEM_COLUMNS = ["request", "case", "kind", "target", "reason", "raised_at", "resolved_at"]
RATING_COLUMNS = [
    "id", "public_id", "subject_kind", "application", "ticket", "rater", "stars", "reasons",
    "comment", "region_code", "created_at", "updated_at", "editable_until",
]  # fmt: skip
RECTIFICATION_COLUMNS = [
    "id", "public_id", "rating", "department", "unit", "region_code", "status", "due_date",
    "answer", "answered_at", "settled_at", "applicant_note", "escalated_at", "escalation_reason",
    "created_at",
]  # fmt: skip
RECTIFICATION_EVENT_COLUMNS = [
    "rectification", "actor", "action", "from_status", "to_status", "note", "at",
]  # fmt: skip


class _Ratings:
    """The rating rows of one batch: ratings, their departments' stars and the rectifications
    (with their timelines) the bad ones opened."""

    def __init__(self) -> None:
        self._pending: list[tuple[str, int, int, str, RatingStory]] = []

    def add(self, *, kind: str, subject: int, rater: int, region_code: str, story) -> None:
        if story is not None:
            self._pending.append((kind, subject, rater, region_code, story))

    def flush(self, writer: _HistoryWriter, rng: random.Random) -> None:
        if not self._pending:
            return
        first = writer.reserve(Rating, len(self._pending))
        rectification_pk = writer.reserve(
            Rectification, sum(len(p[4].rectifications) for p in self._pending)
        )
        ratings, departments, rectifications, events = [], [], [], []
        for pk, (kind, subject, rater, region_code, story) in enumerate(self._pending, first):
            rated_at = story.rated_at
            ratings.append(
                (
                    pk,
                    _uuid(rng),
                    kind,
                    subject if kind == "application" else None,
                    subject if kind == "ticket" else None,
                    rater,
                    story.stars,
                    _codes_json(story.reasons),
                    "",
                    region_code,
                    rated_at,
                    rated_at,
                    rules.editable_until(rated_at),
                )
            )
            departments += [(pk, d, s, _codes_json(r)) for d, s, r in story.departments]
            for rectification in story.rectifications:
                is_unit = isinstance(rectification.target, str)
                rectifications.append(
                    (
                        rectification_pk,
                        _uuid(rng),
                        pk,
                        None if is_unit else rectification.target,
                        rectification.target if is_unit else "",
                        region_code,
                        rectification.status,
                        rectification.due_date,
                        rectification.answer,
                        rectification.answered_at,
                        rectification.settled_at,
                        rectification.applicant_note,
                        rectification.escalated_at,
                        rectification.escalation_reason,
                        rated_at,
                    )
                )
                events += [
                    (rectification_pk, rater if by_rater else None, action, before, after, note, at)
                    for at, action, before, after, note, by_rater in rectification.events
                ]
                rectification_pk += 1
        self._pending = []
        writer.write("ratings", Rating, RATING_COLUMNS, ratings)
        writer.write(
            "department_ratings",
            DepartmentRating,
            ["rating", "department", "stars", "reasons"],
            departments,
        )
        writer.write("rectifications", Rectification, RECTIFICATION_COLUMNS, rectifications)
        writer.write(
            "rectification_events", RectificationEvent, RECTIFICATION_EVENT_COLUMNS, events
        )


@functools.cache
def _codes_json(codes: tuple[str, ...]) -> str:
    """The JSON list of reason codes (a handful of combinations, each dumped once)."""
    return json.dumps(list(codes))


def _write_applications(
    writer: _HistoryWriter,
    history: History,
    shapes: list[list[Shape]],
    people: People,
    total: int,
    batch_size: int,
    out: Callable[[str], None],
) -> None:
    rng = history.rng
    used = _references_in_use(Application)
    channels, channel_weights = list(CHANNELS), list(accumulate(CHANNELS.values()))
    prerequisites = Case.prerequisites.through
    done = 0
    for size in _batches(total, batch_size):
        batch_started = time.monotonic()
        channel_of = rng.choices(channels, cum_weights=channel_weights, k=size)
        at_window = sum(1 for c in channel_of if c == "window")
        office = iter(history.moments(at_window, "office"))
        online = iter(history.moments(size - at_window, "online"))
        moments = [next(office if c == "window" else online) for c in channel_of]
        references = _references(rng, "OT", moments, used)
        stories = []
        for moment in moments:
            per_thing = rng.choice(shapes)
            stories.append(history.application(rng.choice(per_thing), moment))
        first_app = writer.reserve(Application, size)
        first_case = writer.reserve(Case, sum(len(s.cases) for s in stories))
        requests = sum(1 for s in stories for c in s.cases if c.asked_at is not None)
        first_request = writer.reserve(SupplementRequest, requests)
        apps, cases, events, links, materials, notices, items = [], [], [], [], [], [], []
        ratings = _Ratings()
        case_pk, request_pk = first_case, first_request
        for offset, (story, channel, reference) in enumerate(
            zip(stories, channel_of, references, strict=True)
        ):
            app_pk = first_app + offset
            shape = story.shape
            user_pk, region_pk, region_code = rng.choice(people.users)
            enterprise_pk = None
            if shape.audience == "enterprise" and people.agents:
                user_pk = rng.choice(people.agents)
                enterprise_pk, region_pk, region_code = rng.choice(people.enterprises[user_pk])
            applicant_label = f"user:{user_pk}"
            submitted = story.submitted_at
            due = history.national.add(submitted.date(), shape.promised_days)
            last = max([e[0] for e in story.events] + [e[0] for c in story.cases for e in c.events])
            apps.append(
                (
                    app_pk,
                    _uuid(rng),
                    reference,
                    shape.thing_id,
                    user_pk,
                    enterprise_pk,
                    region_pk,
                    channel,
                    story.status,
                    shape.answers_json,
                    "{}",
                    "{}",
                    "{}",
                    "{}",
                    shape.promised_days,
                    due,
                    0,
                    submitted,
                    shape.consent_text,
                    "",
                    submitted,
                    story.finished_at,
                    submitted - dt.timedelta(minutes=rng.randint(3, 40)),
                    last,
                )
            )
            for at, action, before, after, note, by_applicant in story.events:
                events.append(
                    (
                        app_pk,
                        None,
                        user_pk if by_applicant else None,
                        applicant_label if by_applicant else "system:generate",
                        action,
                        before,
                        after,
                        note,
                        "{}",
                        at,
                    )
                )
            pks, number = {}, 0
            for case in story.cases:
                member = case.member
                pks[member.position] = case_pk
                cases.append(
                    (
                        case_pk,
                        _uuid(rng),
                        app_pk,
                        member.service_id,
                        member.department_id,
                        member.handler,
                        case.status,
                        member.stage,
                        member.position,
                        member.promised_days,
                        "{}",
                        "{}",
                        case.reason,
                        case.rule,
                        "",
                        False,
                        "",
                        case.ready_at,
                        case.accepted_at,
                        case.first_reviewed_at,
                        case.due_date,
                        case.paused_since,
                        _dumps(case.pauses),
                        case.deadline_state,
                        case.escalated_at,
                        case.decided_at,
                        max([e[0] for e in case.events], default=submitted),
                    )
                )
                for at, action, before, after, note, label in case.events:
                    events.append(
                        (
                            app_pk,
                            case_pk,
                            user_pk if label is None else None,
                            applicant_label if label is None else label,
                            action,
                            before,
                            after,
                            note,
                            "{}",
                            at,
                        )
                    )
                if case.asked_at is not None:
                    answered = case.answered_at if case.status != CaseStatus.SUPPLEMENT else None
                    number += 1
                    notices.append(
                        (
                            request_pk,
                            _uuid(rng),
                            app_pk,
                            number,
                            "notice",
                            member.stage,
                            "answered" if answered else "sent",
                            case.asked_at,
                            case.asked_at,
                            answered,
                        )
                    )
                    target = rng.choice(shape.material_codes) if shape.material_codes else "form"
                    items.append(
                        (
                            request_pk,
                            case_pk,
                            "material" if shape.material_codes else "field",
                            target,
                            case.supplement_reason,
                            case.asked_at,
                            answered,
                        )
                    )
                    request_pk += 1
                case_pk += 1
            for case in story.cases:
                for after in case.member.after:
                    links.append((pks[case.member.position], pks[after]))
            for material_pk, provision in shape.shared_materials:
                materials.append(
                    (app_pk, material_pk, provision, "", "", "", 0, "", "", "", submitted)
                )
            if channel == "window":
                for material_pk in shape.applicant_materials:
                    materials.append(
                        (
                            app_pk,
                            material_pk,
                            ApplicationMaterial.Provision.SEEN_AT_WINDOW,
                            "",
                            "",
                            "",
                            0,
                            "",
                            "",
                            "original",
                            submitted,
                        )
                    )
            ratings.add(
                kind="application",
                subject=app_pk,
                rater=user_pk,
                region_code=region_code,
                story=history.application_rating(story, region_code, online=channel != "window"),
            )
        with transaction.atomic():
            writer.begin_batch()
            writer.write("applications", Application, APPLICATION_COLUMNS, apps)
            writer.write("cases", Case, CASE_COLUMNS, cases)
            writer.write("case_prerequisites", prerequisites, ["from_case", "to_case"], links)
            writer.write("case_events", CaseEvent, EVENT_COLUMNS, events)
            writer.write("application_materials", ApplicationMaterial, MATERIAL_COLUMNS, materials)
            writer.write("supplement_requests", SupplementRequest, REQUEST_COLUMNS, notices)
            writer.write("supplement_items", SupplementItem, ITEM_COLUMNS, items)
            ratings.flush(writer, rng)
        done += size
        seconds = time.monotonic() - batch_started
        rows = len(apps) + len(cases) + len(events) + len(links) + len(materials)
        out(
            f"applications: {done}/{total} ({rows} rows in {seconds:.1f}s, "
            f"{rows / max(seconds, 1e-9):,.0f} rows/s)"
        )


TICKET_COLUMNS = [
    "id", "public_id", "reference", "channel", "status", "description", "category",
    "suggested_category", "suggestion_rule", "category_confirmed", "urgency", "address",
    "region_code", "street_code", "contact_name", "contact_phone", "contact_email",
    "contact_needed", "media_url", "citizen", "unit", "assisting", "routed_by", "returned_by",
    "handoffs",
    "escalation_reason", "dispatched_at", "sign_due_at", "accepted_at", "due_date",
    "extension_days", "deadline_state", "sign_overdue", "replied_at", "reply", "callback_due",
    "callback_at", "callback_reached", "resolved", "satisfied", "rehandled",
    "callback_overdue", "closed_at",
    "created_at", "updated_at",
]  # fmt: skip
TICKET_EVENT_COLUMNS = [
    "ticket", "action", "actor_label", "from_status", "to_status", "unit", "note", "data", "at",
]  # fmt: skip


def _complaint_texts() -> list[tuple[str, str]]:
    import csv

    # The classifier's training texts (its module is not imported: that would load the model's
    # libraries for nothing).
    with open(DISPATCH_DATA / "complaints.csv", encoding="utf-8", newline="") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


def _write_tickets(
    writer: _HistoryWriter,
    history: History,
    counties: Sequence[tuple[int, str]],
    people: People,
    total: int,
    batch_size: int,
    out: Callable[[str], None],
) -> None:
    if not total:
        return
    rng = history.rng
    catalogue = dispatch_catalogue()
    regions = [code for _pk, code in counties if code in catalogue.regions]
    if not regions:
        raise GenerateRefused(
            _("No region of the catalog is covered by the hotline's dispatch catalogue."),
            fields={"regions": _("Load the demo catalog, whose regions the hotline covers.")},
        )
    streets: dict[str, list[tuple[str, str]]] = {code: [] for code in regions}
    for code, street in catalogue.streets.items():
        if code[:6] in streets:
            streets[code[:6]].append((code, street.name.zh))
    texts = _complaint_texts()
    routes: dict[tuple[str, str, str], tuple[Any, str]] = {}
    intake_data = functools.cache(
        lambda channel, region: _dumps({"channel": channel, "region": region})
    )
    used = _references_in_use(Ticket)
    channels, channel_weights = list(TICKET_CHANNELS), list(accumulate(TICKET_CHANNELS.values()))
    urgencies, urgency_weights = list(URGENCIES), list(accumulate(URGENCIES.values()))
    done = 0
    for size in _batches(total, batch_size):
        batch_started = time.monotonic()
        moments = history.moments(size, "hotline")
        references = _references(rng, "12345-", moments, used)
        first = writer.reserve(Ticket, size)
        rows, events = [], []
        ratings = _Ratings()
        for offset, (received_at, reference) in enumerate(zip(moments, references, strict=True)):
            pk = first + offset
            channel = rng.choices(channels, cum_weights=channel_weights)[0]
            urgency = rng.choices(urgencies, cum_weights=urgency_weights)[0]
            text, category = rng.choice(texts)
            region = rng.choice(regions)
            street, street_name = rng.choice(streets[region]) if streets[region] else ("", "")
            key = (category, region, street)
            if key not in routes:
                route = catalogue.route(category, region, street=street or None)
                routes[key] = (route, _dumps(list(route.assisting)))
            route, assisting = routes[key]
            story = history.ticket(received_at, urgency, region)
            citizen = rng.choice(people.users)[0] if channel == "web" else None
            status = story["status"]
            unit = route.responsible if status != "received" else ""
            last = max(
                v for k, v in story.items() if k.endswith("_at") and k != "sign_due_at" and v
            )
            rows.append(
                (
                    pk,
                    _uuid(rng),
                    reference,
                    channel,
                    status,
                    text,
                    category,
                    category,
                    "",
                    channel == "phone",
                    urgency,
                    street_name,
                    region,
                    street,
                    _person_name(rng) if channel != "open311" else "",
                    f"170{rng.randrange(10**8):08d}" if channel != "open311" else "",
                    "",
                    False,
                    "",
                    citizen,
                    unit,
                    assisting if unit else "[]",
                    str(route.rule)[:120] if unit else "",
                    "[]",
                    0,
                    "",
                    story.get("dispatched_at"),
                    story.get("sign_due_at"),
                    story.get("accepted_at"),
                    story.get("due_date"),
                    0,
                    story.get("deadline_state", "on_time"),
                    story.get("sign_overdue", False),
                    story.get("replied_at"),
                    story.get("reply", ""),
                    story.get("callback_due"),
                    story.get("callback_at"),
                    story.get("callback_reached"),
                    story.get("resolved"),
                    story.get("satisfied"),
                    0,
                    story.get("callback_overdue", False),
                    story.get("closed_at"),
                    received_at,
                    last,
                )
            )
            events.append(
                (
                    pk,
                    "received",
                    f"user:{citizen}" if citizen else "system:generate",
                    "",
                    "received",
                    "",
                    "",
                    intake_data(channel, region),
                    received_at,
                )
            )
            timeline = (
                ("dispatched_at", "dispatched", "received", "dispatched"),
                ("accepted_at", "accepted", "dispatched", "accepted"),
                ("replied_at", "replied", "accepted", "replied"),
                ("callback_at", "callback", "replied", "replied"),
                ("closed_at", "closed", "replied", "closed"),
            )
            for moment_key, action, before, after in timeline:
                if story.get(moment_key) is not None:
                    events.append(
                        (
                            pk,
                            action,
                            "system:generate",
                            before,
                            after,
                            unit,
                            story.get("reply", "") if action == "replied" else "",
                            "{}",
                            story[moment_key],
                        )
                    )
            if citizen:
                ratings.add(
                    kind="ticket",
                    subject=pk,
                    rater=citizen,
                    region_code=region,
                    story=history.ticket_rating(story, region, unit),
                )
        with transaction.atomic():
            writer.begin_batch()
            writer.write("tickets", Ticket, TICKET_COLUMNS, rows)
            writer.write("ticket_events", TicketEvent, TICKET_EVENT_COLUMNS, events)
            ratings.flush(writer, rng)
        done += size
        seconds = time.monotonic() - batch_started
        count = len(rows) + len(events)
        out(
            f"tickets: {done}/{total} ({count} rows in {seconds:.1f}s, "
            f"{count / max(seconds, 1e-9):,.0f} rows/s)"
        )
