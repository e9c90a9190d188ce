"""The audit trail in the database: chained per stream, anchored globally, tampering found."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from onething.audit.chain import GENESIS_HASH, record_content, record_hash
from onething.audit.models import AuditAnchor, AuditRecord, AuditStream
from onething.audit.services import audit_anchor, audit_record, mask_sensitive
from onething.audit.verification import audit_verify
from tests.audit.conftest import write

pytestmark = pytest.mark.django_db


def stream_of(name: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(stream__name=name).order_by("seq"))


def label(record: AuditRecord) -> str:
    return f"stream {record.stream.name!r} seq {record.seq} (record id {record.pk})"


# Writing


def test_each_stream_numbers_and_chains_its_own_records():
    write("application:a", 1)
    write("application:b", 1)
    write("application:a", 1)
    a1, a2 = stream_of("application:a")
    (b1,) = stream_of("application:b")
    assert [a1.seq, a2.seq, b1.seq] == [1, 2, 1]
    assert a1.prev_hash == GENESIS_HASH == b1.prev_hash
    assert a2.prev_hash == a1.hash
    assert AuditStream.objects.get(name="application:a").last_hash == a2.hash
    assert AuditStream.objects.get(name="application:b").last_seq == 1


def test_a_record_hashes_its_content_and_the_previous_hash():
    record = audit_record(
        actor="user:42",
        action="case.approve",
        stream="application:x",
        subject="case:9",
        purpose="approval",
        data={"result": "birth_certificate", "说明": "一件事"},
    )
    record.refresh_from_db()
    content = record_content(
        stream="application:x",
        seq=1,
        actor="user:42",
        action="case.approve",
        subject="case:9",
        purpose="approval",
        data={"result": "birth_certificate", "说明": "一件事"},
        recorded_at=record.recorded_at,
    )
    assert record.hash == record_hash(GENESIS_HASH, content)


def test_a_record_rolls_back_with_the_change_it_describes():
    write("application:a", 1)

    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        write("application:a", 2)
        write("application:new", 1)
        raise Refused
    assert [r.seq for r in stream_of("application:a")] == [1]
    assert AuditStream.objects.get(name="application:a").last_seq == 1
    assert not AuditStream.objects.filter(name="application:new").exists()
    assert audit_verify().ok


def test_a_record_after_a_rolled_back_one_chains_to_the_committed_head():
    (first,) = write("application:a", 1)

    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        write("application:a", 1)
        raise Refused
    (after,) = write("application:a", 1)

    assert [r.seq for r in stream_of("application:a")] == [1, 2]
    assert after.prev_hash == first.hash
    assert audit_verify().ok


def test_a_head_moved_by_another_writer_is_read_again_before_the_next_record():
    write("application:a", 1)
    # Another process appends a record: its head row and record are written outside this
    # process's knowledge of the head.
    head = AuditStream.objects.get(name="application:a")
    other = AuditRecord.objects.create(
        stream=head,
        seq=2,
        actor="user:7",
        action="case.accept",
        subject="application:a/case:9",
        recorded_at=head.updated_at,
        prev_hash=head.last_hash,
        hash="f" * 64,
    )
    AuditStream.objects.filter(pk=head.pk).update(last_seq=2, last_hash=other.hash)

    (after,) = write("application:a", 1)

    assert (after.seq, after.prev_hash) == (3, other.hash)


def test_a_further_record_of_a_stream_moves_its_head_without_reading_it_first():
    write("application:a", 1)

    with CaptureQueriesContext(connection) as queries:
        write("application:a", 1)

    assert len(queries.captured_queries) == 2, queries.captured_queries  # the record, the head


def test_resident_id_numbers_are_stored_masked():
    record = audit_record(
        actor="user:42",
        action="application.submit",
        stream="application:a",
        subject="application:a",
        data={"mother.id_number": "110101199003071234", "form": {"child.id_number": "12345"}},
    )
    record.refresh_from_db()
    assert record.data == {
        "mother.id_number": "1101************34",
        "form": {"child.id_number": "*****"},
    }
    assert "110101199003071234" not in str(AuditRecord.objects.values_list("data", flat=True))
    assert audit_verify().ok


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"id_number": "110101199003071234"}, {"id_number": "1101************34"}),
        ({"Father.ID_NUMBER": 110101199003071234}, {"Father.ID_NUMBER": "1101************34"}),
        ({"id_number": "1101************34"}, {"id_number": "1101************34"}),
        ({"id_number": "123456"}, {"id_number": "******"}),
        ({"id_number": None, "name": "张三"}, {"id_number": None, "name": "张三"}),
        (
            {"people": [{"id_number": "11010119900307"}]},
            {"people": [{"id_number": "1101********07"}]},
        ),
        ({"id_numbers_checked": "yes"}, {"id_numbers_checked": "yes"}),
    ],
)
def test_mask_sensitive_keeps_the_first_four_and_last_two_characters(data, expected):
    assert mask_sensitive(data) == expected


def test_data_is_stored_as_the_plain_json_that_was_hashed():
    record = audit_record(
        actor="system:worker",
        action="fee.charge",
        stream="application:a",
        subject="case:1",
        data={"amount": Decimal("12.50"), "on": date(2025, 3, 1), "codes": ("a", "b"), 7: 1e16},
    )
    record.refresh_from_db()
    assert record.data == {"amount": "12.50", "on": "2025-03-01", "codes": ["a", "b"], "7": 10**16}
    assert audit_verify().ok


@pytest.mark.parametrize(
    "data",
    [
        {"tiny": 1.5e-7, "huge": 2**70, "float": 123.0, "negative_zero": -0.0},
        {"big_float": 3.0e20, "pi": 3.141592653589793, "subnormal": 5e-324},
        {"text": "换行\u2028分隔", "emoji": "🙂", "quote": '"', "empty": {}, "list": [[], [{}]]},
    ],
)
def test_numbers_and_text_read_back_from_the_database_with_the_same_hash(data):
    audit_record(actor="cli", action="x", stream="catalog", subject="s", data=data)
    assert audit_verify().ok


@pytest.mark.parametrize("stream", ["", "@anchors"])
def test_a_stream_name_that_is_empty_or_reserved_is_refused(stream):
    with pytest.raises(ValueError, match="audit stream name"):
        write(stream, 1)


# Anchoring


def test_an_anchor_holds_the_heads_of_the_streams_changed_since_the_previous_one(trail):
    first = audit_anchor()
    assert first.seq == 1
    assert first.prev_hash == GENESIS_HASH
    assert first.heads == {
        name: [records[-1].seq, records[-1].hash] for name, records in trail.items()
    }
    assert audit_anchor() is None
    (a4,) = write("application:a", 1)
    second = audit_anchor(actor="system:test")
    assert second.seq == 2
    assert second.prev_hash == first.hash
    assert second.heads == {"application:a": [4, a4.hash]}
    assert audit_verify().ok


def test_an_anchor_takes_at_most_max_streams_and_the_next_one_the_rest(trail):
    first = audit_anchor(max_streams=2)
    second = audit_anchor(max_streams=2)
    assert len(first.heads) == 2
    assert set(first.heads) | set(second.heads) == set(trail)
    assert audit_anchor(max_streams=2) is None


def test_an_untouched_trail_verifies_and_counts_what_it_checked(trail):
    audit_anchor()
    write("application:b", 1)
    result = audit_verify()
    assert result.ok
    assert result.problem is None
    assert (result.checked, result.streams, result.anchors) == (7, 3, 1)


def test_a_small_chunk_size_verifies_the_same(trail):
    audit_anchor()
    assert audit_verify(chunk_size=1).ok
    AuditRecord.objects.filter(pk=trail["catalog"][0].pk).update(purpose="other")
    assert audit_verify(chunk_size=1).record_id == trail["catalog"][0].pk


# Tampering


@pytest.mark.parametrize(
    "change",
    [{"data": {"step": 99}}, {"actor": "user:7"}, {"subject": "case:other"}, {"purpose": ""}],
)
def test_altering_a_field_of_a_record_is_detected_and_the_record_named(trail, change):
    target = trail["application:a"][1]
    AuditRecord.objects.filter(pk=target.pk).update(**change)
    result = audit_verify()
    assert not result.ok
    assert result.record_id == target.pk
    assert result.problem == f"{label(target)}: altered: its hash does not match its content"


def test_altering_the_time_of_a_record_is_detected(trail):
    target = trail["application:b"][0]
    AuditRecord.objects.filter(pk=target.pk).update(
        recorded_at=F("recorded_at") + timedelta(microseconds=1)
    )
    assert audit_verify().record_id == target.pk


def test_renumbering_a_record_is_detected(trail):
    a3 = trail["application:a"][2]
    AuditRecord.objects.filter(pk=a3.pk).update(seq=4)
    result = audit_verify()
    assert result.record_id == a3.pk
    assert "expected seq 3: 1 record(s) before it were removed" in result.problem


def test_deleting_a_middle_record_is_detected_at_the_record_after_it(trail):
    _, a2, a3 = trail["application:a"]
    a2.delete()
    result = audit_verify()
    assert result.record_id == a3.pk
    assert result.problem == f"{label(a3)}: expected seq 2: 1 record(s) before it were removed"


def test_deleting_the_last_record_is_detected_against_the_stream_head(trail):
    _, a2, a3 = trail["application:a"]
    a3.delete()
    result = audit_verify()
    assert result.record_id == a2.pk
    assert result.problem == (
        f"{label(a2)}: the stream's head is at seq 3 but this is its last record: the records "
        "after it were removed"
    )


def test_deleting_every_record_of_a_stream_is_detected(trail):
    AuditRecord.objects.filter(stream__name="catalog").delete()
    result = audit_verify()
    assert not result.ok
    assert "stream 'catalog': its head is at seq 1 but its records up to it are" in result.problem


def test_deleting_the_last_record_and_winding_back_the_head_is_detected_by_the_anchor(trail):
    anchor = audit_anchor()
    _, a2, a3 = trail["application:a"]
    a3.delete()
    AuditStream.objects.filter(name="application:a").update(last_seq=2, last_hash=a2.hash)
    result = audit_verify()
    assert result.record_id == a2.pk
    assert result.anchor_id == anchor.pk
    assert result.problem == (
        f"stream 'application:a': anchor seq 1 (anchor id {anchor.pk}) holds its head at seq 3, "
        f"but it ends at seq 2 (record id {a2.pk}): its records were removed"
    )


def test_inserting_a_forged_record_with_a_correct_hash_but_a_wrong_prev_hash_is_detected(trail):
    stream = AuditStream.objects.get(name="application:b")
    b1 = trail["application:b"][0]
    forged = forge(stream, seq=3, prev_hash=b1.hash)
    result = audit_verify()
    assert result.record_id == forged.pk
    assert result.problem.startswith(f"{label(forged)}: prev_hash does not match the hash")


def test_inserting_a_forged_record_with_a_gap_in_seq_is_detected(trail):
    stream = AuditStream.objects.get(name="application:b")
    forged = forge(stream, seq=5, prev_hash=trail["application:b"][-1].hash)
    result = audit_verify()
    assert result.record_id == forged.pk
    assert "expected seq 3: 2 record(s) before it were removed" in result.problem


def test_appending_a_perfectly_linked_forged_record_is_detected_against_the_head(trail):
    stream = AuditStream.objects.get(name="application:b")
    forged = forge(stream, seq=3, prev_hash=trail["application:b"][-1].hash)
    result = audit_verify()
    assert result.record_id == forged.pk
    assert result.problem == (
        f"{label(forged)}: beyond the stream's head at seq 2: a record was inserted"
    )


def test_a_record_forged_onto_the_anchor_chain_head_is_detected(trail):
    audit_anchor()
    forged = forge(AuditStream.objects.get(name="@anchors"), seq=1, prev_hash=GENESIS_HASH)
    result = audit_verify()
    assert result.record_id == forged.pk
    assert result.problem == (
        f"record id {forged.pk} (seq 1) belongs to no audit stream: a record was inserted"
    )


def test_rewriting_a_whole_stream_with_its_head_is_detected_by_the_anchor(trail):
    anchor = audit_anchor()
    stream = AuditStream.objects.get(name="application:b")
    AuditRecord.objects.filter(stream=stream).delete()
    first = forge(stream, seq=1, prev_hash=GENESIS_HASH, data={"step": "rewritten"})
    second = forge(stream, seq=2, prev_hash=first.hash, data={"step": "rewritten"})
    AuditStream.objects.filter(pk=stream.pk).update(last_seq=2, last_hash=second.hash)
    result = audit_verify()
    assert result.record_id == second.pk
    assert result.anchor_id == anchor.pk
    assert result.problem == (
        f"stream 'application:b' seq 2 (record id {second.pk}): its hash differs from the one "
        f"anchor seq 1 (anchor id {anchor.pk}) holds: the stream was rewritten"
    )


def test_altering_an_anchor_is_detected(trail):
    anchor = audit_anchor()
    AuditAnchor.objects.filter(pk=anchor.pk).update(heads={"catalog": [1, GENESIS_HASH]})
    result = audit_verify()
    assert result.anchor_id == anchor.pk
    assert result.record_id is None
    assert result.problem == (
        f"anchor seq 1 (anchor id {anchor.pk}): altered: its hash does not match its content"
    )


def test_deleting_the_latest_anchor_is_detected(trail):
    first = audit_anchor()
    write("catalog", 1)
    audit_anchor().delete()
    result = audit_verify()
    assert result.anchor_id == first.pk
    assert "the records after it were removed" in result.problem


def forge(stream: AuditStream, *, seq: int, prev_hash: str, data: dict | None = None):
    """A row inserted straight into the table, with the hash a forger would compute."""
    fields = {
        "actor": "user:666",
        "action": "case.approve",
        "subject": "case:forged",
        "purpose": "",
        "data": data or {"forged": True},
        "recorded_at": AuditRecord.objects.latest("recorded_at").recorded_at,
    }
    content = record_content(stream=stream.name, seq=seq, **fields)
    return AuditRecord.objects.create(
        stream=stream, seq=seq, prev_hash=prev_hash, hash=record_hash(prev_hash, content), **fields
    )


# Concurrency


def in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_to_one_new_stream_get_consecutive_seqs():
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer():
        try:
            start.wait()
            write("application:busy", 5)
            write("user:42", 1)
        except BaseException as exc:
            errors.append(exc)
            raise

    for thread in [in_thread(writer) for _ in range(4)]:
        thread.join()
    assert errors == []
    assert [r.seq for r in stream_of("application:busy")] == list(range(1, 21))
    assert [r.seq for r in stream_of("user:42")] == [1, 2, 3, 4]
    assert audit_verify().ok


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite locks the whole database on a write"
)
@pytest.mark.django_db(transaction=True)
def test_a_writer_holds_only_its_own_stream_so_other_streams_do_not_wait():
    write("application:a", 1)
    write("application:b", 1)
    holding, release = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            write("application:a", 1)
            holding.set()
            release.wait(10)

    thread = in_thread(slow_writer)
    assert holding.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            write("application:b", 1)
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            write("application:a", 1)
    finally:
        release.set()
        thread.join()
    assert [r.seq for r in stream_of("application:a")] == [1, 2]
    assert [r.seq for r in stream_of("application:b")] == [1, 2]
    assert audit_verify().ok


def test_phones_and_numbers_written_inside_text_are_masked_too():
    from onething.audit.services import mask_sensitive

    masked = mask_sensitive(
        {
            "applicant.phone": "13906001234",
            "note": "请联系 13906001234，或核对 350203199406121242",
            "nested": [{"bank.account_number": "6222020000000000018"}],
        }
    )
    text = str(masked)
    assert "13906001234" not in text and "350203199406121242" not in text
    assert "6222020000000000018" not in text
    assert mask_sensitive(masked) == masked
