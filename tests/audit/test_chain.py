"""The hash chain without a database: canonical JSON, hashes, and finding a broken link."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.audit.chain import (
    ANCHOR_STREAM,
    GENESIS_HASH,
    ChainRecord,
    canonical_json,
    head_problem,
    json_safe,
    record_content,
    record_hash,
    timestamp_text,
    verify_chain,
)

T0 = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Row:
    """A stored row: the columns an attacker with database access could change."""

    id: int
    stream: str
    seq: int
    actor: str
    action: str
    subject: str
    purpose: str
    data: dict
    recorded_at: datetime
    prev_hash: str
    hash: str

    def chain_record(self) -> ChainRecord:
        content = record_content(
            stream=self.stream,
            seq=self.seq,
            actor=self.actor,
            action=self.action,
            subject=self.subject,
            purpose=self.purpose,
            data=self.data,
            recorded_at=self.recorded_at,
        )
        return ChainRecord(self.stream, self.seq, self.prev_hash, self.hash, content, self.id)


def sealed(row: Row) -> Row:
    """`row` with the hash its content and prev_hash give, as a forger would compute it."""
    return dataclasses.replace(row, hash=record_hash(row.prev_hash, row.chain_record().content))


def build_chain(datas: list[dict], stream: str = "application:1") -> list[Row]:
    rows, prev = [], GENESIS_HASH
    for seq, data in enumerate(datas, start=1):
        row = sealed(
            Row(
                id=seq * 10,
                stream=stream,
                seq=seq,
                actor=f"user:{seq}",
                action="case.accept",
                subject="case:7",
                purpose="",
                data=data,
                recorded_at=T0 + timedelta(seconds=seq),
                prev_hash=prev,
                hash="",
            )
        )
        rows.append(row)
        prev = row.hash
    return rows


def check(rows: list[Row], head: tuple[int, str] | None = None) -> str | None:
    return verify_chain((row.chain_record() for row in rows), head=head)


def head_of(rows: list[Row]) -> tuple[int, str]:
    return (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS_HASH)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"b": 1, "a": 2}, '{"a":2,"b":1}'),
        ({"name": "一件事"}, '{"name":"一件事"}'),
        ({"nested": {"z": [1, 2], "a": None}}, '{"nested":{"a":null,"z":[1,2]}}'),
        ({"amount": Decimal("1.50")}, '{"amount":"1.50"}'),
        ({"flag": True}, '{"flag":true}'),
    ],
)
def test_canonical_json_sorts_keys_drops_spaces_and_keeps_chinese(content, expected):
    assert canonical_json(content) == expected


def test_the_record_hash_is_sha256_over_the_previous_hash_and_the_canonical_json():
    # A fixed vector, so that an independent verifier can check it is computing the same.
    assert (
        record_hash(GENESIS_HASH, {"b": "一件事", "a": 1})
        == "b8dd0a26865b3341b427213a8793bbbd6aa143bc38cf1dbbff4bf4edc86f7929"
    )


def test_the_hash_changes_with_the_previous_hash_and_with_any_content():
    base = record_hash(GENESIS_HASH, {"a": 1})
    assert record_hash("1" * 64, {"a": 1}) != base
    assert record_hash(GENESIS_HASH, {"a": 2}) != base
    assert record_hash(GENESIS_HASH, {"a": 1, "b": None}) != base


def test_timestamps_are_hashed_in_utc_with_microseconds():
    shanghai = datetime(2025, 3, 1, 16, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert timestamp_text(shanghai) == "2025-03-01T08:30:00.000000+00:00"
    assert timestamp_text(T0 + timedelta(microseconds=7)) == "2025-03-01T08:30:00.000007+00:00"


def test_a_naive_timestamp_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        timestamp_text(datetime(2025, 3, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({1: "a"}, {"1": "a"}),
        ((1, 2), [1, 2]),
        (Decimal("3.10"), "3.10"),
        (datetime(2025, 3, 1, tzinfo=UTC), "2025-03-01 00:00:00+00:00"),
        (1e16, 10**16),
        (0.1, 0.1),
        (float("nan"), "nan"),
        ({"k": [None, True, "x"]}, {"k": [None, True, "x"]}),
    ],
)
def test_data_is_made_plain_json_that_reads_back_the_same_from_any_database(value, expected):
    assert json_safe(value) == expected


def test_negative_zero_is_stored_as_zero_as_numeric_columns_keep_it():
    assert math.copysign(1.0, json_safe(-0.0)) == 1.0


def test_an_untouched_chain_is_intact():
    rows = build_chain([{"n": n} for n in range(5)])
    assert check(rows) is None
    assert check(rows, head=head_of(rows)) is None


def test_an_empty_chain_is_intact_at_the_genesis_head():
    assert verify_chain([], head=(0, GENESIS_HASH)) is None


def test_an_altered_record_is_named():
    rows = build_chain([{"n": n} for n in range(4)])
    rows[2] = dataclasses.replace(rows[2], actor="user:999")
    assert check(rows) == (
        "stream 'application:1' seq 3 (record id 30): altered: its hash does not match its content"
    )


def test_a_removed_record_is_named_by_the_record_after_the_gap():
    rows = build_chain([{"n": n} for n in range(4)])
    del rows[1]
    assert check(rows) == (
        "stream 'application:1' seq 3 (record id 30): expected seq 2: 1 record(s) before it "
        "were removed"
    )


def test_a_record_resealed_after_altering_breaks_the_link_to_the_next():
    rows = build_chain([{"n": n} for n in range(4)])
    rows[1] = sealed(dataclasses.replace(rows[1], data={"n": "forged"}))
    problem = check(rows)
    assert problem.startswith("stream 'application:1' seq 3 (record id 30): prev_hash does not")
    assert "(stream 'application:1' seq 2 (record id 20))" in problem


def test_a_repeated_seq_is_an_insertion():
    rows = build_chain([{"n": n} for n in range(3)])
    forged = sealed(dataclasses.replace(rows[1], id=99, data={"n": "forged"}))
    assert check([*rows[:2], forged, rows[2]]) == (
        "stream 'application:1' seq 2 (record id 99): seq 2 repeats or goes back (expected 3): "
        "a record was inserted"
    )


def test_a_removed_last_record_is_found_only_against_the_head():
    rows = build_chain([{"n": n} for n in range(3)])
    head = head_of(rows)
    assert check(rows[:-1]) is None
    assert check(rows[:-1], head=head) == (
        "stream 'application:1' seq 2 (record id 20): the stream's head is at seq 3 but this "
        "is its last record: the records after it were removed"
    )


def test_an_appended_record_is_found_against_the_head():
    rows = build_chain([{"n": n} for n in range(2)])
    head = head_of(rows)
    # A forger who appends seq 3 linked to seq 2 with a correct hash passes the walk alone.
    valid_looking = build_chain([{"n": n} for n in range(3)])[2]
    assert check([*rows, valid_looking]) is None
    assert "beyond the stream's head at seq 2" in check([*rows, valid_looking], head=head)


@pytest.mark.parametrize(
    ("last", "head", "expected"),
    [
        (None, (0, GENESIS_HASH), None),
        (None, (2, "a" * 64), "stream 's': its head is at seq 2 but its records up to it"),
        ((2, "b" * 64), (2, "a" * 64), "its hash differs from the stream's head"),
        ((3, "b" * 64), (2, "a" * 64), "beyond the stream's head at seq 2"),
        ((1, "b" * 64), (2, "a" * 64), "the records after it were removed"),
    ],
)
def test_the_head_must_be_the_last_record(last, head, expected):
    record = ChainRecord("s", last[0], "", last[1], {}, 1) if last else None
    problem = head_problem("s", record, *head)
    assert problem == expected if expected is None else expected in problem


def test_anchors_are_named_as_anchors():
    record = ChainRecord(ANCHOR_STREAM, 4, GENESIS_HASH, "x", {"seq": 4}, 12)
    assert verify_chain([record], start_seq=3) == (
        "anchor seq 4 (anchor id 12): altered: its hash does not match its content"
    )


leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=6)
datas = st.dictionaries(
    st.sampled_from(["n", "name", "case", "items"]), leaves | st.lists(leaves, max_size=3)
)
chains = st.lists(datas, min_size=1, max_size=12)
COLUMNS = ["stream", "seq", "actor", "action", "subject", "purpose", "data", "recorded_at"]


def changed(row: Row, column: str, amount: int) -> Row:
    value = getattr(row, column)
    if column == "seq":
        return dataclasses.replace(row, seq=value + amount)
    if column == "recorded_at":
        return dataclasses.replace(row, recorded_at=value + timedelta(microseconds=amount))
    if column == "data":
        return dataclasses.replace(row, data={**value, "forged": amount})
    return dataclasses.replace(row, **{column: f"{value}{amount}"})


@given(chains)
def test_any_untouched_chain_is_intact(datas):
    rows = build_chain(datas)
    assert check(rows, head=head_of(rows)) is None


@given(
    chains,
    st.data(),
    st.sampled_from([*COLUMNS, "prev_hash", "hash"]),
    st.integers(-3, 3).filter(bool),
)
def test_altering_any_field_of_any_record_is_detected(datas, data, column, amount):
    rows = build_chain(datas)
    head = head_of(rows)
    index = data.draw(st.integers(0, len(rows) - 1))
    rows[index] = changed(rows[index], column, amount)
    assert check(rows, head=head) is not None


@given(chains, st.data())
def test_removing_any_record_is_detected(datas, data):
    rows = build_chain(datas)
    head = head_of(rows)
    del rows[data.draw(st.integers(0, len(rows) - 1))]
    assert check(rows, head=head) is not None


@given(chains, st.data(), st.booleans())
def test_inserting_a_forged_record_anywhere_is_detected_even_with_a_valid_hash(
    datas, data, link_to_previous
):
    rows = build_chain(datas)
    head = head_of(rows)
    position = data.draw(st.integers(0, len(rows)))
    seq = data.draw(st.integers(0, len(rows) + 2))
    if link_to_previous and position > 0:
        prev_hash = rows[position - 1].hash
    else:
        prev_hash = data.draw(st.sampled_from([GENESIS_HASH, rows[-1].hash, "f" * 64]))
    forged = sealed(
        dataclasses.replace(rows[0], id=999, seq=seq, prev_hash=prev_hash, data={"forged": 1})
    )
    rows.insert(position, forged)
    assert check(rows, head=head) is not None
