"""`onething audit verify` and `onething audit anchor`, called as the command line calls them."""

from __future__ import annotations

import pytest

from onething.audit.models import AuditAnchor, AuditRecord
from onething.cli import main
from tests.audit.conftest import write

pytestmark = pytest.mark.django_db


def test_verify_reports_an_intact_trail_and_exits_0(trail, capsys):
    assert main(["audit", "anchor"]) == 0
    assert main(["audit", "verify"]) == 0
    assert "audit trail intact: 6 records in 3 streams, 1 anchors" in capsys.readouterr().out


def test_verify_on_an_empty_trail_exits_0(capsys):
    assert main(["audit", "verify"]) == 0
    assert "audit trail intact: 0 records in 0 streams, 0 anchors" in capsys.readouterr().out


def test_verify_exits_1_and_names_an_altered_record(trail, capsys):
    target = trail["application:b"][1]
    AuditRecord.objects.filter(pk=target.pk).update(data={"step": "rewritten"})
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert (
        f"audit trail broken: stream 'application:b' seq 2 (record id {target.pk}): altered" in err
    )


def test_verify_exits_1_and_names_the_record_before_a_deleted_last_one(trail, capsys):
    _, a2, a3 = trail["application:a"]
    a3.delete()
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"stream 'application:a' seq 2 (record id {a2.pk})" in err
    assert "the records after it were removed" in err


def test_anchor_writes_one_anchor_for_the_changed_streams_then_nothing(trail, capsys):
    assert main(["audit", "anchor"]) == 0
    anchor = AuditAnchor.objects.get()
    assert f"anchor 1: 3 streams, hash {anchor.hash}" in capsys.readouterr().out
    assert main(["audit", "anchor"]) == 0
    assert "nothing written" in capsys.readouterr().out
    write("catalog", 1)
    assert main(["audit", "anchor"]) == 0
    assert "anchor 2: 1 streams" in capsys.readouterr().out
    assert AuditAnchor.objects.get(seq=2).actor == "cli"
